"""Celerity's Python child runner for ``celerity worker -P process``.

    python3 -m celerity_child [-p DIR] MODULE [NAME | TASK=FUNCTION ...]

Imports MODULE and runs its tasks for the parent worker, one at a time. Every task registered with
Celery's ``@app.task`` in an app the module defines runs by its Celery name, with ``self.request``
and ``self.retry(...)`` working; plain functions named on the command line run as
``MODULE.NAME`` (or as TASK). Needs only the standard library: Celery is used only if the user's
module imports it.

The child protocol (docs/process-pool.md): the parent writes one JSON line on stdin (host, port,
token); the child connects to it over TCP and exchanges frames of a 4-byte big-endian length and
UTF-8 JSON: hello, ready, heartbeat, result, error, retry (child -> parent); run, soft_limit,
shutdown (parent -> child).
"""
import importlib
import json
import os
import queue
import signal
import socket
import struct
import sys
import threading
import time
import traceback

PROTOCOL = 1


class SoftTimeLimitExceeded(Exception):
    """Stand-in for billiard.exceptions.SoftTimeLimitExceeded when billiard is not installed."""


def soft_limit_class():
    try:
        from billiard.exceptions import SoftTimeLimitExceeded as cls
        return cls
    except ImportError:
        return SoftTimeLimitExceeded


def rss_kib():
    try:
        with open('/proc/self/status') as fh:
            for line in fh:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def encode_exception(exc):
    cls = type(exc)
    module = cls.__module__
    args = [jsonable(a) for a in getattr(exc, 'args', ())]
    return {'exc_type': cls.__qualname__, 'exc_module': module, 'exc_message': args}


class Channel:
    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()
        self.rfile = sock.makefile('rb')

    def send(self, message):
        data = json.dumps(message).encode('utf-8')
        with self.lock:
            self.sock.sendall(struct.pack('>I', len(data)) + data)

    def read(self):
        head = self.rfile.read(4)
        if len(head) < 4:
            return None
        (length,) = struct.unpack('>I', head)
        body = self.rfile.read(length)
        if len(body) < length:
            return None
        return json.loads(body.decode('utf-8'))


class Tasks:
    """Finds what to run: Celery tasks of the module's app(s), or plain functions by name."""

    def __init__(self, module, names):
        self.celery = {}
        self.plain = {}
        if names:
            for spec in names:
                task, _, fn = spec.partition('=')
                fn = fn or task
                if not _:
                    task = module.__name__ + '.' + fn
                self.plain[task] = getattr(module, fn)
        if 'celery' in sys.modules:
            from celery import Celery
            apps = [v for v in vars(module).values() if isinstance(v, Celery)]
            for app in apps:
                app.finalize(auto=True)
                for name, task in app.tasks.items():
                    if not name.startswith('celery.'):
                        self.celery[name] = task

    def describe(self):
        out = [{'name': n} for n in sorted(self.plain)]
        for name, task in sorted(self.celery.items()):
            d = {'name': name}
            for attr in ('acks_late', 'track_started', 'ignore_result', 'reject_on_worker_lost'):
                if getattr(task, attr, None) is True:
                    d[attr] = True
            for attr in ('time_limit', 'soft_time_limit'):
                if getattr(task, attr, None):
                    d[attr] = getattr(task, attr)
            out.append(d)
        return out


class RetryCaptured(Exception):
    pass


class Child:
    def __init__(self, channel, tasks):
        self.channel = channel
        self.tasks = tasks
        self.jobs = queue.Queue()
        self.current = None
        self.soft_exc = soft_limit_class()

    def on_soft_limit(self, signum, frame):
        if self.current is not None:
            raise self.soft_exc()

    def reader(self):
        while True:
            try:
                m = self.channel.read()
            except OSError:
                m = None
            if m is None:
                os._exit(0)  # the parent is gone
            kind = m.get('type')
            if kind == 'run':
                self.jobs.put(m)
            elif kind == 'soft_limit':
                if self.current == m.get('job'):
                    os.kill(os.getpid(), signal.SIGUSR1)
            elif kind == 'shutdown':
                self.jobs.put(None)

    def heartbeat(self, seconds):
        while True:
            time.sleep(seconds)
            try:
                self.channel.send({'type': 'heartbeat', 'rss_kib': rss_kib()})
            except OSError:
                os._exit(0)

    def serve(self):
        while True:
            m = self.jobs.get()
            if m is None:
                return
            reply = self.run(m)
            reply['job'] = m['job']
            reply['rss_kib'] = rss_kib()
            self.channel.send(reply)

    def run(self, m):
        name = m['task']
        args = m.get('args') or []
        kwargs = m.get('kwargs') or {}
        self.current = m['job']
        try:
            if name in self.tasks.celery:
                return self.run_celery(self.tasks.celery[name], m, args, kwargs)
            if name in self.tasks.plain:
                return {'type': 'result', 'value': self.tasks.plain[name](*args, **kwargs)}
            return dict(encode_exception(KeyError(name)), type='error', exc_type='NotRegistered',
                        exc_module='celery.exceptions', exc_message=[name], traceback=None)
        except BaseException as exc:  # noqa: B902 - every failure is the task's result
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                raise
            return dict(encode_exception(exc), type='error', traceback=traceback.format_exc())
        finally:
            self.current = None

    def run_celery(self, task, m, args, kwargs):
        from celery import _state
        from celery.app.trace import task_has_custom
        from celery.exceptions import Retry
        req = m.get('request') or {}
        context = dict(req)
        context.update(id=m['id'], task=task.name, args=args, kwargs=kwargs, is_eager=False,
                       called_directly=False, retries=req.get('retries', 0),
                       delivery_info=req.get('delivery_info') or {},
                       group=req.get('group'), group_index=req.get('group_index'),
                       root_id=req.get('root_id'), parent_id=req.get('parent_id'),
                       hostname=req.get('hostname'), reply_to=req.get('reply_to'),
                       correlation_id=req.get('correlation_id') or m['id'],
                       timelimit=req.get('timelimit'), origin=req.get('origin'))
        captured = {}
        app = task._get_app()

        def capture_send_task(name, args=None, kwargs=None, countdown=None, eta=None, **options):
            captured.update(args=list(args or []), kwargs=dict(kwargs or {}), countdown=countdown,
                            eta=eta.isoformat() if hasattr(eta, 'isoformat') else eta)
            result_cls = options.get('result_cls')
            return result_cls(options.get('task_id')) if result_cls else None

        original_retry = task.retry

        def retry(*a, **kw):
            # Celery's own Task.retry, with the copy handed to the parent instead of published here.
            app.send_task = capture_send_task
            try:
                return original_retry(*a, **kw)
            finally:
                del app.send_task

        task.push_request(**context)
        _state._task_stack.push(task)
        task.retry = retry
        try:
            fun = task if task_has_custom(task, '__call__') else task.run
            value = fun(*args, **kwargs)
            return {'type': 'result', 'value': value}
        except Retry as exc:
            if not captured:
                raise
            inner = exc.exc if exc.exc is not None else exc
            return dict(encode_exception(inner), type='retry', traceback=traceback.format_exc(), **captured)
        finally:
            del task.retry
            _state._task_stack.pop()
            task.pop_request()


def main(argv):
    args = list(argv)
    while args and args[0] in ('-p', '--path'):
        sys.path.insert(0, os.path.abspath(args[1]))
        del args[:2]
    if not args:
        sys.stderr.write(__doc__)
        return 2
    if '' not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    handshake = json.loads(sys.stdin.readline())
    sock = socket.create_connection((handshake['host'], handshake['port']))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel = Channel(sock)
    channel.send({'type': 'hello', 'token': handshake['token'], 'pid': os.getpid(), 'lang': 'python',
                  'protocol': PROTOCOL})
    module = importlib.import_module(args[0])
    tasks = Tasks(module, args[1:])
    child = Child(channel, tasks)
    signal.signal(signal.SIGUSR1, child.on_soft_limit)
    channel.send({'type': 'ready', 'tasks': tasks.describe()})
    threading.Thread(target=child.reader, daemon=True).start()
    threading.Thread(target=child.heartbeat, args=(handshake.get('heartbeat', 5.0),), daemon=True).start()
    child.serve()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
