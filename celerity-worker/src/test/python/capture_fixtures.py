#!/usr/bin/python3
"""Capture REAL task messages produced by Debian's Celery client and store them as fixtures.

Run with Debian's interpreter (python3-celery, python3-redis), RabbitMQ and Redis running
(scripts/setup-services.sh), from anywhere:

    /usr/bin/python3 src/test/python/capture_fixtures.py [--out src/test/resources/fixtures]

AMQP: every case is published by the real client to a private, unconsumed queue in vhost
celerity-test, then read back with a raw py-amqp basic_get (auto_decode off, so the body is the
exact bytes on the wire) and written to <out>/amqp/<name>.json as
    {"name", "description", "celery_version", "kombu_version", "queue",
     "properties": {content_type, content_encoding, correlation_id, reply_to, priority,
                    delivery_mode, expiration (if any)},
     "headers": {...application headers...},
     "body": "<body as UTF-8 text>" (null if not valid UTF-8),
     "body_base64": "<only when the body is not valid UTF-8, e.g. compressed>"}
Redis: the raw envelope string popped (RPOP, the consumer's end) from the queue list in db 15
(`<queue>` or `<queue>\\x06\\x16<step>` for priorities) to <out>/redis/<name>.json as
    {"name", "description", "celery_version", "kombu_version", "list", "envelope"}.
Only keys this script created are deleted from Redis db 15; the AMQP queue/exchange it declared
is deleted at the end.

The result backend (needed for the chord case) is Redis db 15 too.
"""
import argparse
import base64
import json
import math
import os
import sys
import uuid
from time import monotonic, sleep
from datetime import date, datetime, time, timezone
from decimal import Decimal

import amqp
import celery
import kombu
import redis
from celery import Celery, chain, chord, group

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, '..', 'resources', 'fixtures'))

AMQP_HOST = os.environ.get('CELERITY_FIXTURE_AMQP_HOST', '127.0.0.1:5672')
VHOST = os.environ.get('CELERITY_FIXTURE_VHOST', 'celerity-test')
REDIS_HOST = os.environ.get('CELERITY_FIXTURE_REDIS_HOST', '127.0.0.1')
REDIS_PORT = int(os.environ.get('CELERITY_FIXTURE_REDIS_PORT', '6379'))
REDIS_DB = 15
AMQP_URL = f'amqp://guest:guest@{AMQP_HOST}/{VHOST}'
REDIS_URL = f'redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}'
QUEUE = 'celerity-fixtures-capture'
SEP = '\x06\x16'


def make_app(broker, protocol=2):
    app = Celery('examples', broker=broker, backend=REDIS_URL)
    app.conf.task_default_queue = QUEUE
    app.conf.task_protocol = protocol
    return app


def sig(app, name, *args, **kwargs):
    return app.signature(name, args=args, kwargs=kwargs)


# Each case: (name, description, function(app) -> publishes; returns nothing).
def amqp_cases():
    def add(app):
        app.send_task('examples.add', (2, 2))

    def kwargs(app):
        app.send_task('examples.add', kwargs={'x': 1, 'y': 2})

    def options(app):
        app.send_task('examples.add', (3, 4), countdown=10, expires=120, priority=5, time_limit=60,
                      soft_time_limit=50, headers={'x-custom': 'v'})

    def link(app):
        app.send_task('examples.add', (3, 4), link=sig(app, 'examples.mul', 10),
                      link_error=app.signature('examples.noop', immutable=True))

    def chain_(app):
        chain(sig(app, 'examples.add', 1, 2), sig(app, 'examples.mul', 10), sig(app, 'examples.add', 5)).apply_async()

    def group_(app):
        group(sig(app, 'examples.add', 1, 1), sig(app, 'examples.add', 2, 2)).apply_async()

    def chord_(app):
        chord([sig(app, 'examples.add', 1, 1), sig(app, 'examples.add', 2, 2)], sig(app, 'examples.xsum')).apply_async()

    def protocol_v1(app):
        app.send_task('examples.add', (2, 3), countdown=10)

    def special_types(app):
        app.send_task('examples.echo', (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), date(2024, 1, 2),
                                        uuid.UUID('12345678-1234-5678-1234-567812345678'), Decimal('1.10')),
                      {'t': time(1, 2, 3)})

    def unicode_(app):
        app.send_task('examples.echo', ('héllo wörld ✓',))

    def bignum_nan(app):
        app.send_task('examples.echo', (2 ** 70, float('nan'), float('inf')))

    def compressed(app):
        app.send_task('examples.add', (2, 2), compression='zlib')

    def ignore_result(app):
        app.send_task('examples.add', (2, 2), ignore_result=True)

    return [
        ('add', "app.send_task('examples.add', (2, 2))", add, 2, 1),
        ('kwargs', "app.send_task('examples.add', kwargs={'x': 1, 'y': 2})", kwargs, 2, 1),
        ('options', "app.send_task('examples.add', (3, 4), countdown=10, expires=120, priority=5, "
                    "time_limit=60, soft_time_limit=50, headers={'x-custom': 'v'})", options, 2, 1),
        ('link', "app.send_task('examples.add', (3, 4), link=signature('examples.mul', args=(10,)), "
                 "link_error=signature('examples.noop', immutable=True))", link, 2, 1),
        ('chain', "chain(add.s(1, 2), mul.s(10), add.s(5)).apply_async()  # first (and only) message; "
                  "add/mul are signature('examples.add'/'examples.mul')", chain_, 2, 1),
        ('group', "group(add.s(1, 1), add.s(2, 2)).apply_async()  # first of the two messages "
                  "(add(1, 1))", group_, 2, 2),
        ('chord', "chord([add.s(1, 1), add.s(2, 2)], xsum.s()).apply_async()  # first header member "
                  "(add(1, 1)); result backend redis db 15", chord_, 2, 2),
        ('protocol_v1', "app.conf.task_protocol = 1; app.send_task('examples.add', (2, 3), countdown=10)",
         protocol_v1, 1, 1),
        ('special_types', "app.send_task('examples.echo', (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "
                          "date(2024, 1, 2), UUID('12345678-1234-5678-1234-567812345678'), Decimal('1.10')), "
                          "{'t': time(1, 2, 3)})", special_types, 2, 1),
        ('unicode', "app.send_task('examples.echo', ('h\u00e9llo w\u00f6rld \u2713',))", unicode_, 2, 1),
        ('bignum_nan', "app.send_task('examples.echo', (2 ** 70, float('nan'), float('inf')))", bignum_nan, 2, 1),
        ('compressed', "app.send_task('examples.add', (2, 2), compression='zlib')", compressed, 2, 1),
        ('ignore_result', "app.send_task('examples.add', (2, 2), ignore_result=True)", ignore_result, 2, 1),
    ]


def redis_cases():
    def add(app):
        app.send_task('examples.add', (2, 2))

    def options(app):
        app.send_task('examples.add', (3, 4), countdown=10, expires=120, priority=5, time_limit=60,
                      soft_time_limit=50, headers={'x-custom': 'v'})

    def priority(app):
        app.send_task('examples.add', (2, 2), priority=9)

    def link(app):
        app.send_task('examples.add', (3, 4), link=sig(app, 'examples.mul', 10),
                      link_error=app.signature('examples.noop', immutable=True))

    def chord_(app):
        chord([sig(app, 'examples.add', 1, 1), sig(app, 'examples.add', 2, 2)], sig(app, 'examples.xsum')).apply_async()

    def compressed(app):
        app.send_task('examples.add', (2, 2), compression='zlib')

    def unicode_(app):
        app.send_task('examples.echo', ('h\u00e9llo w\u00f6rld \u2713',))

    return [
        ('add', "app.send_task('examples.add', (2, 2))", add, 2, 1),
        ('options', "app.send_task('examples.add', (3, 4), countdown=10, expires=120, priority=5, "
                    "time_limit=60, soft_time_limit=50, headers={'x-custom': 'v'})", options, 2, 1),
        ('priority', "app.send_task('examples.add', (2, 2), priority=9)", priority, 2, 1),
        ('link', "app.send_task('examples.add', (3, 4), link=signature('examples.mul', args=(10,)), "
                 "link_error=signature('examples.noop', immutable=True))", link, 2, 1),
        ('chord', "chord([add.s(1, 1), add.s(2, 2)], xsum.s()).apply_async()  # first header member "
                  "(add(1, 1)); result backend redis db 15", chord_, 2, 2),
        ('compressed', "app.send_task('examples.add', (2, 2), compression='zlib')", compressed, 2, 1),
        ('unicode', "app.send_task('examples.echo', ('h\u00e9llo w\u00f6rld \u2713',))", unicode_, 2, 1),
    ]


def write(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as fh:
        # ensure_ascii=False so the fixture shows the body text exactly as received; allow_nan
        # is irrelevant (no floats outside strings).
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write('\n')
    print(f'wrote {path}', file=sys.stderr)


def plain(value):
    """Make AMQP header values JSON-able (py-amqp may return Decimal/datetime/bytes)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def capture_amqp(out_dir, versions):
    conn = amqp.Connection(host=AMQP_HOST, userid='guest', password='guest', virtual_host=VHOST)
    conn.connect()
    ch = conn.channel()
    ch.auto_decode = False  # keep the body as the exact bytes received
    ch.queue_declare(QUEUE, durable=True, auto_delete=False)
    ch.queue_purge(QUEUE)
    written = []
    try:
        for name, description, fn, protocol, expected in amqp_cases():
            app = make_app(AMQP_URL, protocol)
            try:
                fn(app)
            finally:
                app.close()
            # Publishing is asynchronous (no confirms): poll until the expected messages arrived.
            msgs = []
            deadline = monotonic() + 10
            while monotonic() < deadline:
                m = ch.basic_get(QUEUE, no_ack=True)
                if m is not None:
                    msgs.append(m)
                elif len(msgs) >= expected:
                    break
                else:
                    sleep(0.02)
            if len(msgs) != expected:
                raise SystemExit(f'amqp case {name}: expected {expected} message(s), got {len(msgs)}')
            m = msgs[0]
            props = dict(m.properties)
            headers = props.pop('application_headers', None) or {}
            body = bytes(m.body)
            doc = {
                'name': name,
                'description': description,
                'celery_version': versions[0],
                'kombu_version': versions[1],
                'queue': QUEUE,
                'properties': {k: plain(props.get(k)) for k in (
                    'content_type', 'content_encoding', 'correlation_id', 'reply_to', 'priority',
                    'delivery_mode')},
                'headers': plain(headers),
            }
            if 'expiration' in props:
                doc['properties']['expiration'] = plain(props['expiration'])
            extra = sorted(set(props) - set(doc['properties']))
            if extra:
                doc['other_properties'] = {k: plain(props[k]) for k in extra}
            try:
                doc['body'] = body.decode('utf-8')
            except UnicodeDecodeError:
                doc['body'] = None
                doc['body_base64'] = base64.b64encode(body).decode('ascii')
            write(os.path.join(out_dir, 'amqp', f'{name}.json'), doc)
            written.append(name)
    finally:
        try:
            ch.queue_delete(QUEUE)
            ch.exchange_delete(QUEUE)
        except Exception as exc:  # noqa: BLE001
            print(f'cleanup: {exc!r}', file=sys.stderr)
        conn.close()
    return written


def capture_redis(out_dir, versions):
    r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    queue_keys = [QUEUE] + [f'{QUEUE}{SEP}{step}' for step in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
    for k in queue_keys:
        if r.exists(k):
            raise SystemExit(f'redis db {REDIS_DB}: key {k!r} already exists; refusing to touch it')
    written = []
    for name, description, fn, protocol, expected in redis_cases():
        app = make_app(REDIS_URL, protocol)
        try:
            fn(app)
        finally:
            app.close()
        found = []
        for k in queue_keys:
            while True:
                raw = r.rpop(k)
                if raw is None:
                    break
                found.append((k, raw))
        if len(found) != expected:
            raise SystemExit(f'redis case {name}: expected {expected} message(s), got {len(found)}')
        key, raw = found[0]
        doc = {
            'name': name,
            'description': description,
            'celery_version': versions[0],
            'kombu_version': versions[1],
            'list': key,
            'envelope': raw.decode('utf-8'),
        }
        write(os.path.join(out_dir, 'redis', f'{name}.json'), doc)
        written.append(name)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--only', choices=['amqp', 'redis'])
    args = parser.parse_args(argv)
    versions = (celery.__version__, kombu.__version__)
    result = {}
    # Both phases write to Redis db 15 (the chord size key of the result backend, the kombu
    # binding set of the Redis broker); remember what existed and delete only what we created.
    r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    before = set(r.keys('*'))
    try:
        if args.only in (None, 'amqp'):
            result['amqp'] = capture_amqp(args.out, versions)
        if args.only in (None, 'redis'):
            result['redis'] = capture_redis(args.out, versions)
    finally:
        created = set(r.keys('*')) - before
        if created:
            r.delete(*created)
            print(f'redis db {REDIS_DB}: deleted {len(created)} key(s) created by the capture: '
                  f'{sorted(k.decode("utf-8", "replace") for k in created)}', file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
