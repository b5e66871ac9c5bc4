"""The hostile corpus of the fault-injection suite: malformed, hostile and odd task messages.

Every kind is a function (ctx, i) -> Msg. A Msg is what goes on the wire: AMQP properties,
application headers and body bytes, published raw with py-amqp; on Redis the same turned into
kombu's JSON envelope (base64 body) and LPUSHed raw, unless the kind mutates or replaces the
envelope itself (Redis-only kinds). Nothing here is executable on purpose: pickle and yaml bodies
carry plain data, the compression bomb is zeros.

Good tasks are `chaos.mark(good_key, seq, 0)` (bench/chaos/chaos_tasks.py, ChaosTasks.java): the
harness counts them in the counting Redis. Hostile messages that happen to run `chaos.mark` count
under `bad_key`, never under the good key.

    /usr/bin/python3 bench/chaos/corpus.py --list          # the kinds, per broker
"""
import base64
import json
import pickle
import random
import uuid
import zlib

BOMB_MB = 100  # decompressed size of the compression bomb (set by the harness)


class Msg:
    __slots__ = ('props', 'headers', 'body', 'envelope', 'raw', 'kind')

    def __init__(self, props, headers, body, envelope=None, raw=None, kind='good'):
        self.props = props          # AMQP basic properties (content_type, content_encoding, correlation_id, ...)
        self.headers = headers      # application headers (None: no header table at all)
        self.body = body            # bytes
        self.envelope = envelope    # Redis: function(dict) -> dict|None mutating kombu's envelope
        self.raw = raw              # Redis: bytes LPUSHed as they are (no envelope)
        self.kind = kind


class Ctx:
    """What a kind needs: the queue, the counting keys, the ids of good tasks (for duplicate ids)."""

    def __init__(self, queue, good_key, bad_key, run):
        self.queue, self.good_key, self.bad_key, self.run = queue, good_key, bad_key, run
        self.good_ids = []
        self.kind_of = {}  # task id -> hostile kind (to name what is left in a queue)
        self.tag = str(uuid.uuid4())  # one delivery tag shared by every `delivery_tag_dup` message


def task_id(run, seq):
    return f'{run[:8]}-0000-4000-8000-{seq:012d}'


def headers_v2(task_name, tid, args=(), kwargs=None, **over):
    h = dict(lang='py', task=task_name, id=tid, shadow=None, eta=None, expires=None, group=None,
             group_index=None, retries=0, timelimit=[None, None], root_id=tid, parent_id=None,
             argsrepr=repr(tuple(args))[:1024], kwargsrepr=repr(kwargs or {})[:1024], origin='chaos@127.0.0.1',
             ignore_result=False)
    h.update(over)
    return h


EMBED = {'callbacks': None, 'errbacks': None, 'chain': None, 'chord': None}


def props_for(tid, content_type='application/json', content_encoding='utf-8'):
    p = dict(correlation_id=tid, delivery_mode=2, priority=0)
    if content_type is not None:
        p['content_type'] = content_type
    if content_encoding is not None:
        p['content_encoding'] = content_encoding
    return p


def task_msg(task_name, tid, args, kwargs=None, embed=None, kind='good', **over):
    body = json.dumps([list(args), kwargs or {}, embed or EMBED]).encode()
    return Msg(props_for(tid), headers_v2(task_name, tid, args, kwargs, **over), body, kind=kind)


def good(ctx, seq):
    tid = task_id(ctx.run, seq)
    ctx.good_ids.append(tid)
    return task_msg('chaos.mark', tid, [ctx.good_key, seq, 0])


def _bad_id(ctx, kind, i):
    tid = str(uuid.uuid5(uuid.NAMESPACE_OID, f'{ctx.run}/{kind}/{i}'))
    ctx.kind_of[tid] = kind
    return tid


def _mark(ctx, kind, i, **kw):
    """A chaos.mark message counted under the bad key (seq = 1,000,000 + i) with overrides."""
    tid = kw.pop('tid', None) or _bad_id(ctx, kind, i)
    ctx.kind_of.setdefault(tid, kind)
    args = kw.pop('args', [ctx.bad_key, 1_000_000 + i, 0])
    return task_msg('chaos.mark', tid, args, kw.pop('kwargs', None), kw.pop('embed', None), kind=kind, **kw)


def _raw_body(ctx, kind, i, body, content_type='application/json', content_encoding='utf-8', headers=None, **hdr):
    tid = _bad_id(ctx, kind, i)
    h = headers if headers is not None else headers_v2('chaos.mark', tid, [], None, **hdr)
    return Msg(props_for(tid, content_type, content_encoding), h, body, kind=kind)


_BOMB = {}


def bomb():
    mb = BOMB_MB
    if mb not in _BOMB:
        c = zlib.compressobj(9)
        chunk = b'\0' * (1 << 20)
        parts = [c.compress(chunk) for _ in range(mb)]
        parts.append(c.flush())
        _BOMB[mb] = b''.join(parts)
    return _BOMB[mb]


def _envelope(mutate):
    def f(ctx, kind, i):
        m = _mark(ctx, kind, i)
        m.envelope = mutate
        return m
    return f


def _delivery_tag_dup(ctx, kind, i):
    m = _mark(ctx, kind, i)

    def mutate(env):
        env['properties']['delivery_tag'] = ctx.tag
        return env
    m.envelope = mutate
    return m


# name -> (brokers, function(ctx, kind, i) -> Msg)
BOTH, AMQP, REDIS = ('amqp', 'redis'), ('amqp',), ('redis',)
KINDS = {
    # body
    'bad_json': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[["x", 1], {"a": ')),
    'body_not_list': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'{"args": [1, 2]}')),
    'body_short_list': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[[1]]')),
    'args_not_list': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'["abc", {}, {}]')),
    'kwargs_list': (BOTH, lambda c, k, i: _raw_body(c, k, i, json.dumps([[c.bad_key, i], [0], EMBED]).encode())),
    'embed_garbage': (BOTH, lambda c, k, i: _raw_body(c, k, i, json.dumps([[c.bad_key, 1_000_000 + i, 0], {}, 'x']).encode())),
    'empty_body': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'')),
    'null_body': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'null')),
    'body_5mb': (BOTH, lambda c, k, i: _mark(c, k, i, args=['x' * (5 << 20)])),
    'deep_json': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[' * 100_000 + b']' * 100_000)),
    'surrogates_escaped': (BOTH, lambda c, k, i: _raw_body(
        c, k, i, b'[["\\ud800\\udfff\\udc00", 1], {"\\ud83d": "\\ude00"}, {}]')),
    'invalid_utf8': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[["\xff\xfe\xc3\x28"], {}, {}]')),
    # content type / encoding / compression
    'pickle': (BOTH, lambda c, k, i: _raw_body(c, k, i, pickle.dumps(([c.bad_key, i, 0], {}, EMBED)),
                                              'application/x-python-serialize', 'binary')),
    'yaml': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'- [a, 1, 0]\n- {}\n- {}\n', 'application/x-yaml')),
    'unknown_content_type': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'\x81\xa3abc', 'application/x-nonsense', 'binary')),
    'content_type_missing': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[[1, 2], {}, {}]', None, None)),
    'unknown_content_encoding': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[[1, 2], {}, {}]', 'application/json', 'rot13')),
    'gzip_garbage': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'this is not gzip', compression='application/x-gzip')),
    'compression_bomb': (BOTH, lambda c, k, i: _raw_body(c, k, i, bomb(), compression='application/x-gzip')),
    'compression_unknown': (BOTH, lambda c, k, i: _raw_body(c, k, i, b'[[], {}, {}]', compression='application/x-lzma-nope')),
    # headers
    'id_not_string': (BOTH, lambda c, k, i: _mark(c, k, i, id=123456 + i)),
    'id_missing': (BOTH, lambda c, k, i: _headers_without(c, k, i, 'id')),
    'task_missing': (BOTH, lambda c, k, i: _headers_without(c, k, i, 'task')),
    'task_not_string': (BOTH, lambda c, k, i: _mark(c, k, i, task=['chaos.mark'])),
    'unknown_task': (BOTH, lambda c, k, i: task_msg('chaos.no_such_task', _bad_id(c, k, i), [1], kind=k)),
    'header_types': (BOTH, lambda c, k, i: _mark(c, k, i, lang=5, group=7, root_id=[], parent_id={'a': 1}, shadow=5,
                                                 argsrepr={}, kwargsrepr=[], origin=[1], ignore_result='yes',
                                                 group_index='x')),
    'headers_absent': (BOTH, lambda c, k, i: _raw_body(c, k, i, json.dumps([[c.bad_key, i, 0], {}, EMBED]).encode(),
                                                      headers={})),
    'huge_headers': (BOTH, None),  # per broker, below
    'retries_negative': (BOTH, lambda c, k, i: _mark(c, k, i, retries=-5)),
    'retries_float': (BOTH, lambda c, k, i: _mark(c, k, i, retries=2.5)),
    # RabbitMQ itself refuses a NaN in a header table (541 INTERNAL_ERROR closes the connection)
    'retries_nan': (REDIS, lambda c, k, i: _mark(c, k, i, retries=float('nan'))),
    'retries_string': (BOTH, lambda c, k, i: _mark(c, k, i, retries='lots')),
    'eta_garbage': (BOTH, lambda c, k, i: _mark(c, k, i, eta='next tuesday')),
    'eta_absurd': (BOTH, lambda c, k, i: _mark(c, k, i, eta='-999999-01-01T00:00:00+00:00')),
    'eta_number': (BOTH, lambda c, k, i: _mark(c, k, i, eta=1e308)),
    'eta_year_1': (BOTH, lambda c, k, i: _mark(c, k, i, eta='0001-01-01T00:00:00+00:00')),
    'expires_garbage': (BOTH, lambda c, k, i: _mark(c, k, i, expires='whenever')),
    'expires_absurd': (BOTH, lambda c, k, i: _mark(c, k, i, expires='99999-99-99T99:99:99')),
    'timelimit_garbage': (BOTH, lambda c, k, i: _mark(c, k, i, timelimit=['a', -1, None])),
    'protocol_v1': (BOTH, lambda c, k, i: _proto1(c, k, i)),
    'dup_id': (BOTH, lambda c, k, i: _mark(c, k, i, tid=c.good_ids[-1] if c.good_ids else None)),
    # canvas
    'callbacks_garbage': (BOTH, lambda c, k, i: _mark(c, k, i, embed={'callbacks': 'not a list', 'errbacks': [5],
                                                                      'chain': None, 'chord': None})),
    'chain_garbage': (BOTH, lambda c, k, i: _mark(c, k, i, embed={'callbacks': None, 'errbacks': None,
                                                                  'chain': [{'task': 5}, 'x', None], 'chord': None})),
    'chord_garbage': (BOTH, lambda c, k, i: _mark(c, k, i, group='g-' + str(i), embed={
        'callbacks': None, 'errbacks': None, 'chain': None, 'chord': {'task': None, 'options': 'x', 'args': 7}})),
    'link_bad_exchange': (BOTH, lambda c, k, i: _mark(c, k, i, embed={
        'callbacks': [{'task': 'chaos.mark', 'args': [c.bad_key, 2_000_000 + i, 0], 'kwargs': {},
                       'options': {'exchange': 'chaos-no-such-exchange', 'routing_key': 'nowhere'},
                       'subtask_type': None, 'immutable': True}],
        'errbacks': None, 'chain': None, 'chord': None})),
    'reply_to_missing': (BOTH, lambda c, k, i: _reply_to(c, k, i)),
    # Redis envelopes
    'bad_base64': (REDIS, _envelope(lambda e: {**e, 'body': '!!not*base64!!'})),
    'envelope_not_json': (REDIS, lambda c, k, i: Msg(None, None, b'', raw=b'{"body": "W10=", ', kind=k)),
    'envelope_not_object': (REDIS, lambda c, k, i: Msg(None, None, b'', raw=b'[1, 2, 3]', kind=k)),
    'envelope_no_body': (REDIS, _envelope(lambda e: {x: v for x, v in e.items() if x != 'body'})),
    'envelope_no_properties': (REDIS, _envelope(lambda e: {x: v for x, v in e.items() if x != 'properties'})),
    'envelope_deep_json': (REDIS, lambda c, k, i: Msg(None, None, b'', raw=b'{"headers": ' + b'[' * 100_000
                                                      + b']' * 100_000 + b'}', kind=k)),
    'delivery_tag_missing': (REDIS, _envelope(lambda e: {**e, 'properties': {x: v for x, v in e['properties'].items()
                                                                             if x != 'delivery_tag'}})),
    'delivery_tag_number': (REDIS, _envelope(lambda e: {**e, 'properties': {**e['properties'], 'delivery_tag': 42}})),
    'delivery_tag_dup': (REDIS, _delivery_tag_dup),
    'body_encoding_unknown': (REDIS, _envelope(lambda e: {**e, 'properties': {**e['properties'],
                                                                               'body_encoding': 'base32'}})),
    'delivery_info_garbage': (REDIS, _envelope(lambda e: {**e, 'properties': {**e['properties'], 'delivery_info': 'x'}})),
    'priority_garbage': (REDIS, _envelope(lambda e: {**e, 'properties': {**e['properties'], 'priority': 'high'}})),
    'headers_not_object': (REDIS, _envelope(lambda e: {**e, 'headers': ['task', 'chaos.mark']})),
    # AMQP properties
    'priority_255': (AMQP, lambda c, k, i: _with_props(_mark(c, k, i), priority=255)),
}


def _headers_without(ctx, kind, i, name):
    m = _mark(ctx, kind, i)
    m.headers.pop(name, None)
    return m


def _proto1(ctx, kind, i):
    """Task protocol 1: everything in a dict body, no task header (Celery 5.2 still runs these)."""
    tid = _bad_id(ctx, kind, i)
    body = json.dumps({'task': 'chaos.mark', 'id': tid, 'args': [ctx.bad_key, 1_000_000 + i, 0], 'kwargs': {},
                       'retries': 0, 'eta': None, 'expires': None, 'utc': True, 'callbacks': None,
                       'errbacks': None, 'timelimit': [None, None], 'taskset': None, 'chord': None}).encode()
    return Msg(props_for(tid), {}, body, kind=kind)


def _reply_to(ctx, kind, i):
    m = _mark(ctx, kind, i)
    m.props['reply_to'] = 'chaos-no-such-queue-' + str(i)
    return m


def _with_props(m, **props):
    m.props.update(props)
    return m


def _huge_headers(ctx, kind, i, broker):
    m = _mark(ctx, kind, i)
    if broker == 'amqp':  # the whole header frame must fit RabbitMQ's frame_max (128 KiB)
        m.headers['x-pad'] = 'h' * 60_000
        m.headers.update({f'x-{n}': n for n in range(1500)})
    else:
        m.headers['x-pad'] = 'h' * (1 << 20)
        m.headers.update({f'x-{n}': n for n in range(20_000)})
    return m


def kinds_for(broker):
    return [k for k, (brokers, _) in KINDS.items() if broker in brokers]


def make(ctx, kind, i, broker):
    if kind == 'huge_headers':
        return _huge_headers(ctx, kind, i, broker)
    return KINDS[kind][1](ctx, kind, i)


def interleave(ctx, broker, kinds, per_kind, n_good, seed=7):
    """Good and hostile messages shuffled together (good tasks keep their relative order)."""
    rnd = random.Random(seed)
    bad = [(k, i) for k in kinds for i in range(per_kind)]
    rnd.shuffle(bad)
    slots = ['g'] * n_good + ['b'] * len(bad)
    rnd.shuffle(slots)
    seq, out = 0, []
    for s in slots:
        if s == 'g':
            out.append(good(ctx, seq))
            seq += 1
        else:
            k, i = bad.pop()
            out.append(make(ctx, k, i, broker))
    return out


# ---------------------------------------------------------------------------------------------
# wire

def redis_envelope(m, queue):
    """kombu's Redis envelope for m (Channel.prepare_message + _inplace_augment_message), as bytes."""
    if m.raw is not None:
        return m.raw
    p = m.props
    props = {k: v for k, v in p.items() if k not in ('content_type', 'content_encoding')}
    props.update(delivery_info={'exchange': '', 'routing_key': queue}, body_encoding='base64',
                 delivery_tag=str(uuid.uuid4()))
    env = {'body': base64.b64encode(m.body).decode(), 'content-encoding': p.get('content_encoding'),
           'content-type': p.get('content_type'), 'headers': m.headers if m.headers is not None else {},
           'properties': props}
    if m.envelope:
        env = m.envelope(env)
    return json.dumps(env).encode()


def amqp_message(m):
    import amqp
    kw = dict(m.props)
    if m.headers is not None:
        kw['application_headers'] = m.headers
    return amqp.Message(m.body, **kw)


if __name__ == '__main__':
    import sys
    if '--list' in sys.argv:
        for b in ('amqp', 'redis'):
            ks = kinds_for(b)
            print(f'{b}: {len(ks)} kinds: {", ".join(ks)}')
