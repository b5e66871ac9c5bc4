#!/usr/bin/python3
"""Real Celery client driver for Celerity's integration tests.

Must be run with Debian's interpreter (/usr/bin/python3, packages python3-celery, python3-redis).
Prints exactly ONE JSON document on stdout; everything else goes to stderr. Exit status is 0
unless the driver itself failed (bad arguments, broker unreachable, ...): task failures and
timeouts are reported in the JSON, not through the exit status.

Common flags (accepted before or after the subcommand):
    --broker URL         amqp://guest:guest@127.0.0.1:5672/celerity-test or redis://127.0.0.1:6379/N
    --backend URL        redis://..., rpc:// ; omit for no result backend
    --queue NAME         queue tasks are routed to (default "celery")
    --result-extended    set result_extended=True on the client app
    --queue-arguments JSON  declare the queue with these arguments, e.g. {"x-queue-type": "quorum"}
                         (kombu's Queue(queue_arguments=...), as a Celery 5.2 app names a quorum queue)

Subcommands:
    call --calls JSON    send all calls, then wait for each (see below)
    send --calls JSON    only send; prints [{"id": ...}, ...]
    get --ids JSON [--timeout S]   wait for existing task ids (needs a shared backend such as
                         redis; rpc:// results can only be read by the process that sent them)

JSON arguments may also be given as @path (read from file) or - (read from stdin).

A call object: {"task": "examples.add", "args": [...], "kwargs": {...},
                "options": {...apply_async options: countdown, eta (ISO string), expires (seconds
                            or ISO string), priority, headers, ignore_result, time_limit,
                            soft_time_limit, task_id, shadow, queue, compression, serializer...},
                "timeout": 15, "observe_states": false}

Per-call result object (call / get):
    id, task, state, result (return value when SUCCESS else null), exc_type, exc_module,
    exc_message, exc_args, traceback, states (only with observe_states: ordered distinct states
    seen polling every ~5 ms), timed_out, elapsed (seconds from send - or from the start of
    waiting for `get` - until ready; null when timed out. Without observe_states in the batch,
    results are collected in order, so a call's elapsed is an upper bound when an earlier call
    finished later than it), error (driver-side exception while
    reading the result, e.g. SecurityError for a bad exc_module; else null), raw_meta (the stored
    result document parsed from JSON, redis backend only; else null).

The timeout of a call counts from the moment it was sent.
Non-finite floats are printed as the tokens NaN / Infinity / -Infinity (Python json default).
"""
import argparse
import json
import logging
import sys
import time
from datetime import datetime

log = logging.getLogger('celery_client')


def jsonable(value):
    """Return a JSON-serializable version of value (tuples -> lists, unknown -> repr)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return repr(value)


def load_json_arg(text):
    if text == '-':
        return json.load(sys.stdin)
    if text.startswith('@'):
        with open(text[1:], encoding='utf-8') as fh:
            return json.load(fh)
    return json.loads(text)


def make_app(args):
    from celery import Celery

    app = Celery('celerity_client', broker=args.broker, backend=args.backend or None)
    app.conf.task_default_queue = args.queue
    app.conf.result_extended = bool(args.result_extended)
    app.conf.broker_connection_timeout = 5
    app.conf.broker_connection_max_retries = 3
    app.conf.redis_socket_connect_timeout = 5
    # The rpc:// backend only remembers the last state it read in this cache; with the default
    # (-1 = disabled) polling r.state flips back to PENDING whenever no new reply arrived.
    app.conf.result_cache_max = 100000
    if args.queue_arguments:
        from kombu import Exchange, Queue
        app.conf.task_queues = [Queue(args.queue, Exchange(args.queue), routing_key=args.queue,
                                      queue_arguments=json.loads(args.queue_arguments))]
    return app


def parse_options(options):
    opts = dict(options or {})
    for key in ('eta', 'expires'):
        if isinstance(opts.get(key), str):
            opts[key] = datetime.fromisoformat(opts[key].replace('Z', '+00:00'))
    return opts


def send_calls(app, args, calls):
    sent = []
    for call in calls:
        opts = parse_options(call.get('options'))
        opts.setdefault('queue', args.queue)
        t0 = time.monotonic()
        r = app.send_task(call['task'], args=call.get('args') or [], kwargs=call.get('kwargs') or {}, **opts)
        sent.append({'call': call, 'result': r, 'sent_at': t0})
        log.info('sent %s %s', call['task'], r.id)
    return sent


def raw_meta(app, task_id):
    backend = app.backend
    if not hasattr(backend, 'get_key_for_task') or not hasattr(backend, 'client'):
        return None
    try:
        raw = backend.get(backend.get_key_for_task(task_id))
        if raw is None:
            return None
        if isinstance(raw, bytes):
            raw = raw.decode('utf-8')
        return json.loads(raw)
    except Exception as exc:  # noqa: BLE001 - diagnostic only
        return {'_unreadable': repr(exc)}


def empty_outcome(task_id, task_name):
    return {
        'id': task_id, 'task': task_name, 'state': None, 'result': None,
        'exc_type': None, 'exc_module': None, 'exc_message': None, 'exc_args': None,
        'traceback': None, 'states': None, 'timed_out': False, 'elapsed': None,
        'error': None, 'raw_meta': None,
    }


def wait_all(app, entries):
    """entries: list of dicts with result, sent_at, timeout, observe, task. Returns outcomes."""
    from celery import states as celery_states
    from celery.exceptions import TimeoutError as CeleryTimeoutError

    outcomes = [empty_outcome(e['result'].id, e['task']) for e in entries]
    ready_at = [None] * len(entries)

    # Phase 1: if any call wants its state history, poll the state of ALL calls every ~5 ms
    # (so that the elapsed time of every call stays accurate), recording the history only for
    # the calls that asked for it.
    observed = [i for i, e in enumerate(entries) if e['observe']]
    for i in observed:
        outcomes[i]['states'] = []
    pending = {i for i, e in enumerate(entries) if e['observe'] or not e['result'].ignored} if observed else set()
    while pending:
        for i in sorted(pending):
            e, out = entries[i], outcomes[i]
            try:
                st = e['result'].state
            except Exception as exc:  # noqa: BLE001
                out['error'] = f'{type(exc).__name__}: {exc}'
                pending.discard(i)
                continue
            if e['observe'] and (not out['states'] or out['states'][-1] != st):
                out['states'].append(st)
            if st in celery_states.READY_STATES:
                ready_at[i] = time.monotonic()
                pending.discard(i)
            elif time.monotonic() >= e['sent_at'] + e['timeout']:
                out['timed_out'] = True
                pending.discard(i)
        if pending:
            time.sleep(0.005)

    # Phase 2: collect every result (in order).
    for i, e in enumerate(entries):
        r, out = e['result'], outcomes[i]
        if out['error'] is None and not out['timed_out']:
            remaining = max(0.05, e['sent_at'] + e['timeout'] - time.monotonic())
            try:
                # (an ignore_result=True call returns at once here: nothing will be stored)
                r.get(timeout=remaining, propagate=False, disable_sync_subtasks=False)
                if ready_at[i] is None:
                    ready_at[i] = time.monotonic()
            except CeleryTimeoutError:
                out['timed_out'] = True
            except Exception as exc:  # noqa: BLE001
                out['error'] = f'{type(exc).__name__}: {exc}'
        try:
            state = r.state
            out['state'] = state
            if state == 'SUCCESS':
                out['result'] = jsonable(r.result)
            else:
                exc = r.result
                if isinstance(exc, BaseException):
                    out['exc_type'] = type(exc).__name__
                    out['exc_module'] = type(exc).__module__
                    out['exc_message'] = str(exc)
                    out['exc_args'] = jsonable(list(exc.args))
                elif exc is not None and state not in ('PENDING',):
                    # e.g. STARTED/RETRY meta dicts
                    out['result'] = jsonable(exc)
            out['traceback'] = r.traceback
        except Exception as exc:  # noqa: BLE001
            if out['error'] is None:
                out['error'] = f'{type(exc).__name__}: {exc}'
        if ready_at[i] is not None and not out['timed_out'] and out['state'] in celery_states.READY_STATES:
            out['elapsed'] = round(ready_at[i] - e['sent_at'], 6)
        out['raw_meta'] = raw_meta(app, r.id)
    return outcomes


def cmd_send(app, args):
    calls = load_json_arg(args.calls)
    sent = send_calls(app, args, calls)
    return [{'id': s['result'].id} for s in sent]


def cmd_call(app, args):
    calls = load_json_arg(args.calls)
    sent = send_calls(app, args, calls)
    if not args.backend:
        return [{'id': s['result'].id} for s in sent]
    entries = [{
        'result': s['result'], 'sent_at': s['sent_at'], 'task': s['call']['task'],
        'timeout': float(s['call'].get('timeout', 15)),
        'observe': bool(s['call'].get('observe_states', False)),
    } for s in sent]
    return wait_all(app, entries)


def cmd_get(app, args):
    ids = load_json_arg(args.ids)
    now = time.monotonic()
    entries = [{
        'result': app.AsyncResult(task_id), 'sent_at': now, 'task': None,
        'timeout': float(args.timeout), 'observe': False,
    } for task_id in ids]
    return wait_all(app, entries)


def add_common(parser, suppress):
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    parser.add_argument('--broker', default=d('amqp://guest:guest@127.0.0.1:5672/celerity-test'))
    parser.add_argument('--backend', default=d(None))
    parser.add_argument('--queue', default=d('celery'))
    parser.add_argument('--result-extended', action='store_true', default=d(False))
    parser.add_argument('--queue-arguments', default=d(None))
    parser.add_argument('-v', '--verbose', action='store_true', default=d(False))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common(parser, suppress=False)
    sub = parser.add_subparsers(dest='command', required=True)
    p_call = sub.add_parser('call')
    p_call.add_argument('--calls', required=True)
    p_send = sub.add_parser('send')
    p_send.add_argument('--calls', required=True)
    p_get = sub.add_parser('get')
    p_get.add_argument('--ids', required=True)
    p_get.add_argument('--timeout', type=float, default=15.0)
    for p in (p_call, p_send, p_get):
        add_common(p, suppress=True)
    args = parser.parse_args(argv)

    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else logging.WARNING,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    try:
        app = make_app(args)
        handler = {'call': cmd_call, 'send': cmd_send, 'get': cmd_get}[args.command]
        output = handler(app, args)
    except Exception as exc:  # noqa: BLE001
        log.exception('driver failed')
        print(f'celery_client.py: {type(exc).__name__}: {exc}', file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(output, default=repr) + '\n')
    sys.stdout.flush()
    try:
        app.close()
    except Exception:  # noqa: BLE001
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
