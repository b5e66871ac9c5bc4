#!/usr/bin/python3
"""Canvas scenarios built by the real Python Celery client, for Celerity's canvas tests.

Run with Debian's interpreter: /usr/bin/python3 canvas_client.py --broker URL --backend URL
--queue Q SCENARIO [--arg JSON]. Prints ONE JSON object on stdout: {"ok": value} or
{"error": {"type", "message", "module"}} when get() raised, plus scenario-specific keys.
Task names are the examples.* ones, sent by name (no task module needed).
"""
import argparse
import json
import sys
import time
import uuid

from celery import Celery, chain, chord, group, signature
from celery.canvas import chunks, xmap, xstarmap
from celery.result import GroupResult, AsyncResult

TIMEOUT = 60


def make_app(args):
    app = Celery('canvas_client', broker=args.broker, backend=args.backend)
    app.conf.task_default_queue = args.queue
    app.conf.broker_connection_timeout = 5
    return app


def s(app, name, *a, **kw):
    return signature('examples.' + name, args=a, kwargs=kw, app=app)


def err(exc):
    return {'type': type(exc).__name__, 'module': type(exc).__module__, 'message': str(exc)}


def get(res, timeout=None, **kw):
    try:
        return {'ok': res.get(timeout=timeout or TIMEOUT, disable_sync_subtasks=False, **kw)}
    except Exception as exc:  # noqa: BLE001 - reported to the Java test
        return {'error': err(exc)}


def poll(app, task_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = app.backend.get_task_meta(task_id, cache=False)
        if meta.get('status') in ('SUCCESS', 'FAILURE', 'REVOKED'):
            return meta.get('result') if meta['status'] == 'SUCCESS' else {'state': meta['status']}
        time.sleep(0.05)
    return {'error': 'timeout'}


def ok_or_error(r):
    return r['ok'] if 'ok' in r else r


def shape(value):
    """A result tuple with every id replaced by "id", to compare tuples of different runs."""
    if isinstance(value, (list, tuple)):
        return [shape(v) for v in value]
    if isinstance(value, str) and len(value) == 36:
        return 'id'
    return value


def scenario(app, name, arg):
    if name == 'link':
        r = s(app, 'add').apply_async((2, 2), link=s(app, 'mul', 10))
        out = get(r)
        r2 = AsyncResult(r.id, app=app)
        out['children'] = [c.id for c in (r2.children or [])]
        out['callback'] = get(r2.children[0]) if r2.children else None
        return out
    if name == 'link_error':
        eb_id = str(uuid.uuid4())
        r = s(app, 'fail').apply_async(('boom',), link_error=s(app, 'echo').set(task_id=eb_id))
        out = get(r)
        out['task_id'] = r.id
        out['errback'] = get(AsyncResult(eb_id, app=app))
        return out
    if name == 'traced':
        # arg: a W3C traceparent, sent as opentelemetry-instrumentation-celery sends it (a message header)
        c = chain(s(app, 'add', 1, 2), s(app, 'add', 3), s(app, 'mul', 10)).apply_async(headers={'traceparent': arg})
        d = chord([s(app, 'add', 1, 1), s(app, 'add', 2, 2)], s(app, 'xsum')).apply_async(headers={'traceparent': arg})
        return {'chain': get(c), 'chord': get(d)}
    if name == 'chain':
        return get(chain(s(app, 'add', 1, 2), s(app, 'add', 3), s(app, 'mul', 10)).apply_async())
    if name == 'chain_immutable':
        return get(chain(s(app, 'add', 1, 2), signature('examples.add', (5, 5), app=app, immutable=True),
                         s(app, 'mul', 2)).apply_async())
    if name == 'chain_nested':
        inner = chain(s(app, 'add', 2), s(app, 'mul', 3))
        return get(chain(s(app, 'add', 1, 1), inner, s(app, 'add', 4)).apply_async())
    if name == 'chain_group_chord':
        c = chain(s(app, 'add', 1, 2), group(s(app, 'mul', 2), s(app, 'mul', 3)), s(app, 'xsum')).apply_async()
        g = chain(s(app, 'add', 1, 1), group(s(app, 'mul', 2), s(app, 'mul', 3))).apply_async()
        return {'chord': get(c), 'group': get(g)}
    if name == 'chain_fails':
        r = chain(s(app, 'add', 1, 2), signature('examples.fail', ('broken link',), app=app, immutable=True),
                  s(app, 'mul', 10)).apply_async()
        out = get(r)
        out['state'] = r.state
        return out
    if name == 'group':
        res = group(s(app, 'add', i, i) for i in range(100))()
        out = get(res)
        res.save()
        restored = GroupResult.restore(res.id, app=app)
        out['restored'] = restored.get(timeout=TIMEOUT) if restored else None
        meta = app.backend.get_task_meta(res.results[7].id)
        out['member_group_id'] = meta.get('group_id')
        out['group_id'] = res.id
        return out
    if name == 'chord':
        n = int(arg or 100)
        return get(chord((s(app, 'add', i, i) for i in range(n)), s(app, 'xsum'))())
    if name == 'chord_error':
        eb_id = str(uuid.uuid4())
        body = s(app, 'xsum')
        body.link_error(s(app, 'echo').set(task_id=eb_id))
        res = chord([s(app, 'add', 1, 1), s(app, 'fail', 'boom')], body)()
        # get() on the chord result re-raises the failed header task's error first (follow_parents);
        # the body's own stored state is the ChordError
        out = get(res, follow_parents=False)
        out['via_parents'] = get(res)
        out['body_id'] = res.id
        out['errback'] = get(AsyncResult(eb_id, app=app))
        return out
    if name == 'chord_unlock':
        g = group(s(app, 'add', i, i) for i in range(5)).apply_async()
        body_id = str(uuid.uuid4())
        app.send_task('celery.chord_unlock', args=[g.id, s(app, 'xsum').set(task_id=body_id)],
                      kwargs={'interval': 0.2, 'max_retries': None, 'result': [r.as_tuple() for r in g.results]},
                      countdown=0.2, ignore_result=True)
        return get(AsyncResult(body_id, app=app))
    if name == 'builtins':
        out = {}
        out['accumulate'] = get(app.send_task('celery.accumulate', args=[1, 2, 3], kwargs={'index': 1}))
        out['accumulate_all'] = get(app.send_task('celery.accumulate', args=[1, 2, 3]))
        out['backend_cleanup'] = get(app.send_task('celery.backend_cleanup'))
        out['chain'] = get(app.send_task('celery.chain'))
        member = s(app, 'add', 20, 22).freeze()
        app.send_task('celery.group', args=[[s(app, 'add', 20, 22).set(task_id=member.id)], None, str(uuid.uuid4()), []])
        out['group'] = get(member)
        body_id = str(uuid.uuid4())
        app.send_task('celery.chord', args=[[s(app, 'add', 1, 1), s(app, 'add', 2, 2)],
                                            s(app, 'xsum').set(task_id=body_id)])
        out['chord'] = get(AsyncResult(body_id, app=app))
        return out
    if name == 'fidelity':
        # the same canvases are run on Celery's own worker and on ours; the Java test compares them
        add = lambda *a: s(app, 'add', *a)  # noqa: E731
        xsum = lambda: s(app, 'xsum')  # noqa: E731
        canvases = {
            'chord_task_group': chain(chord([add(1, 1), add(2, 2)], xsum()), add(5), group(add(1), add(2))),
            'group_chord_group': chain(group(add(1, 1), add(2, 2)), chord([xsum(), xsum()], xsum()),
                                       group(add(1), add(2))),
            'task_chord_task': chain(add(1, 1), chord([add(1), add(2)], xsum()), s(app, 'mul', 2)),
            'nested_chord': chord([chord([add(1, 1), add(2, 2)], xsum()), add(3, 3)], xsum()),
            'nested_chord_group': chord([group(add(1, 1), add(2, 2)), add(3, 3)], xsum()),
            'chord_body_chain': chord([add(1, 1), add(2, 2)], chain(xsum(), s(app, 'mul', 10))),
            'chord_body_group': chord([add(1, 1), add(2, 2)], group(xsum(), s(app, 'echo'))),
            'chord_empty_header': chord([], xsum()),
            'chord_single_header': chord([add(1, 1)], xsum()),
            'chain_ends_in_chord': chain(add(1, 1), group(add(1), add(2)), xsum()),
            'chain_of_groups': chain(add(1, 1), group(add(1), add(2)), xsum(), group(add(1), add(2))),
            'chain_none_step': chain(s(app, 'noop'), s(app, 'echo')),
            'replace_in_chain': chain(s(app, 'replace_with', s(app, 'add', 1, 2)), s(app, 'mul', 10)),
            'replace_with_chain': chain(s(app, 'replace_with', chain(s(app, 'add', 1, 2), s(app, 'mul', 2))), add(1)),
            'replace_with_group': chain(s(app, 'replace_with', group(add(1, 1), add(2, 2))), s(app, 'echo')),
            'replace_in_chord': chord([s(app, 'replace_with', add(5, 5)), add(1, 1)], xsum()),
            'map': xmap(s(app, 'xsum'), [[1, 2], [3, 4]]),
            'starmap': xstarmap(s(app, 'add'), [(1, 2), (3, 4)]),
            'chunks': chunks(s(app, 'add'), [(i, i) for i in range(5)], 2),
        }
        only = json.loads(arg) if arg else None
        out = {}
        for key, canvas in canvases.items():
            if only and key not in only:
                continue
            out[key] = ok_or_error(get(canvas.apply_async(), timeout=20))
        if not only or 'chunks_task' in only:
            # celery.chunks sent as a message: the worker sends the group and returns its GroupResult
            res = app.send_task('celery.chunks', args=[s(app, 'add'), [(i, i) for i in range(5)], 2])
            r = get(res)
            out['chunks_task'] = shape(r.get('ok')) if 'ok' in r else r
            meta = app.backend.get_task_meta(res.id)
            stored = meta.get('result')
            # polled rather than get(): Celery's Redis result consumer may miss a result that was stored
            # before it subscribed (seen with Celery's own worker too)
            out['chunks_task_joined'] = ([poll(app, t[0][0]) for t in stored[1]]
                                         if isinstance(stored, list) else repr(stored))
        return out
    if name == 'cross_chords':
        our_q, py_q = json.loads(arg)
        # chord A: the Python worker's member finishes last, so Python joins; the body runs on ours
        a = chord([s(app, 'add', 1, 1).set(queue=our_q), s(app, 'sleep', 1).set(queue=py_q)],
                  s(app, 'xsum').set(queue=our_q))()
        # chord B: the reverse
        b = chord([s(app, 'add', 2, 2).set(queue=py_q), s(app, 'sleep', 1).set(queue=our_q)],
                  s(app, 'xsum').set(queue=py_q))()
        return {'a': get(a), 'b': get(b)}
    raise SystemExit('unknown scenario ' + name)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--broker', required=True)
    p.add_argument('--backend', required=True)
    p.add_argument('--queue', required=True)
    p.add_argument('--arg')
    p.add_argument('scenario')
    args = p.parse_args()
    app = make_app(args)
    out = scenario(app, args.scenario, args.arg)
    sys.stdout.write(json.dumps(out, default=repr) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
