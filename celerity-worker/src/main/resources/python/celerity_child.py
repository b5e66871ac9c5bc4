"""Celerity's Python child runner for ``celerity worker -P process``.

    python3 -m celerity_child [-p DIR] APP [NAME | TASK=FUNCTION ...]

APP is found as ``celery -A APP`` finds it (Celery's own ``find_app``: ``proj`` -> ``proj.app``,
``proj.celery``, ``proj.celery:app``, any Celery instance in the module; ``proj:app``). The child
then starts as a Celery prefork child does (``worker_init``, the app's ``imports``/``include``/
``autodiscover_tasks()``, ``process_initializer``, ``worker_process_init``) and runs every task
through Celery's own tracer (``build_tracer``), with the app's backend and producer: signals,
handlers, ``retry``, ``replace``, ``Reject``/``Ignore``, result storage and canvas callbacks are
Celery's code. Plain functions named on the command line run as ``MODULE.NAME`` (or as TASK) and
their results are stored by the parent; without Celery installed only this mode is available.

The child protocol (docs/process-pool.md): the parent writes one JSON line on stdin (host, port,
token, ...); the child connects to it over TCP and exchanges frames of a 4-byte big-endian length
and UTF-8 JSON: hello, ready, heartbeat, traced, result, error, retry, cancelled, blocked, skipped, begun
(child -> parent); run, soft_limit, cancel, unqueue, shutdown (parent -> child). Every frame about a
task carries the parent's job number, so several tasks may be in flight at once: ``async def`` tasks
(up to ``async_concurrency`` of them) run on an asyncio loop next to the synchronous task, and one
synchronous task may wait behind the running one (the hello's ``pipeline``), unless unqueued.
"""
import asyncio
import collections
import concurrent.futures
import inspect
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

PROTOCOL = 2


class SoftTimeLimitExceeded(Exception):
    """Stand-in for billiard.exceptions.SoftTimeLimitExceeded when billiard is not installed."""


class AppLoadError(Exception):
    """The app could not be loaded; the message is Celery's own ``-A`` error text."""


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
    return {'exc_type': cls.__qualname__, 'exc_module': cls.__module__,
            'exc_message': [jsonable(a) for a in getattr(exc, 'args', ())]}


def encode_error(exc):
    """A value that cannot be sent is Celery's EncodeError (kombu's, when kombu is there)."""
    try:
        from kombu.exceptions import EncodeError
        return EncodeError(exc)
    except ImportError:
        return exc


class Channel:
    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()
        self.rfile = sock.makefile('rb')
        self.pending = []  # frames queued while another thread writes: it writes them too, in one write
        self.writing = False

    def send(self, message):
        data = json.dumps(message).encode('utf-8')
        frame = struct.pack('>I', len(data)) + data
        with self.lock:
            if self.writing:
                self.pending.append(frame)
                return
            self.writing = True
        try:
            while True:
                self.sock.sendall(frame)
                with self.lock:
                    if not self.pending:
                        self.writing = False
                        return
                    frame = b''.join(self.pending)
                    self.pending.clear()
        except BaseException:
            with self.lock:
                self.writing = False
            raise

    def read(self):
        head = self.rfile.read(4)
        if len(head) < 4:
            return None
        (length,) = struct.unpack('>I', head)
        body = self.rfile.read(length)
        if len(body) < length:
            return None
        return json.loads(body.decode('utf-8'))


def load_app(spec):
    """``celery -A spec``: Celery's find_app, with the errors Celery's command line prints."""
    from celery.app.utils import find_app
    from celery.bin import celery as cli
    try:
        return find_app(spec)
    except ModuleNotFoundError as e:
        if e.name != spec:
            raise AppLoadError(cli.UNABLE_TO_LOAD_APP_ERROR_OCCURRED.format(spec, traceback.format_exc()))
        raise AppLoadError(cli.UNABLE_TO_LOAD_APP_MODULE_NOT_FOUND.format(e.name))
    except AttributeError as e:
        raise AppLoadError(cli.UNABLE_TO_LOAD_APP_APP_MISSING.format(str(e.args[0]).capitalize()))
    except Exception:
        raise AppLoadError(cli.UNABLE_TO_LOAD_APP_ERROR_OCCURRED.format(spec, traceback.format_exc()))


def app_conf(app):
    """``inspect conf``: the app's own non-default settings, as Celery's control command encodes them."""
    try:
        from celery.utils.serialization import jsonify
        from celery.utils.saferepr import saferepr
        return jsonify(app.conf.table(with_defaults=False), keyfilter=lambda k: isinstance(k, str) and not k.startswith('__'),
                       unknown_type_filter=saferepr)
    except Exception as exc:  # informational only: never stops the child
        sys.stderr.write('celerity child: could not report the app configuration: %r\n' % (exc,))
        return None


def backend_unreachable(backend, exc):
    """The backend's connection errors (raised once its retry policy is used up), kombu's
    OperationalError (the RPC backend's publish), or result_backend_always_retry giving up on one;
    not an EncodeError or a value too large, which no redelivery would fix."""
    from kombu.exceptions import OperationalError
    errors = tuple(getattr(backend, 'connection_errors', None) or ()) + (OperationalError,)
    if isinstance(exc, errors):
        return True
    from celery.exceptions import BackendStoreError
    cause = exc.__cause__
    return (isinstance(exc, BackendStoreError) and cause is not None and getattr(backend, 'always_retry', False)
            and backend.exception_safe_to_retry(cause))


class Abandoned(BaseException):
    """Raised in a tracer thread whose async task the parent gave up (hard time limit, terminate): it
    escapes Celery's tracer, which then stores nothing, as when a prefork child is killed; the
    parent has marked the task already."""


class Outcome:
    """The outcome of a coroutine for the one tracer thread waiting on it: a lock its setter releases,
    cheaper than a concurrent Future (condition, waiter list). The first outcome set wins."""

    __slots__ = ('ready', 'guard', 'value', 'error', 'is_set')

    def __init__(self):
        self.ready = threading.Lock()
        self.ready.acquire()
        self.guard = threading.Lock()  # the loop (ended) and the reader thread (cancel) may both set it
        self.value = self.error = None
        self.is_set = False

    def done(self):
        return self.is_set

    def set_result(self, value):
        self.set(value, None)

    def set_exception(self, error):
        self.set(None, error)

    def set(self, value, error):
        with self.guard:
            if self.is_set:
                return
            self.value, self.error, self.is_set = value, error, True
        self.ready.release()

    def result(self):
        self.ready.acquire()
        if self.error is not None:
            raise self.error
        return self.value


class AsyncJob:
    """One ``async def`` task in flight: its tracer thread waits on ``result``, its coroutine runs on the loop."""

    def __init__(self, number):
        self.number = number
        self.result = Outcome()
        self.atask = None         # the asyncio task running the coroutine
        self.inject = None        # an exception to raise at the coroutine's current await (soft limit)
        self.soft = None
        self.abandoned_at = None  # monotonic time the parent gave it up
        self.prefetch = None      # (batcher, key): the task's stored state is read as its coroutine ends
        self.prefetched = None    # (key, value) read then, for Celery's own read of it in _store_result


class Driven:
    """Awaits a coroutine step by step, so that a cancellation of its asyncio task can be raised in
    it as another exception (billiard's SoftTimeLimitExceeded at the soft limit)."""

    def __init__(self, coro, job):
        self.coro = coro
        self.job = job

    def __await__(self):
        coro, send, throw = self.coro, None, None
        while True:
            try:
                yielded = coro.send(send) if throw is None else coro.throw(throw)
            except StopIteration as stop:
                return stop.value
            send = throw = None
            try:
                send = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: B902 - whatever the loop throws goes to the coroutine
                throw = exc
                if isinstance(exc, asyncio.CancelledError) and self.job.inject is not None:
                    throw, self.job.inject = self.job.inject, None
                    task = asyncio.current_task()
                    if task is not None and hasattr(task, 'uncancel'):
                        task.uncancel()  # the cancel was only the way in


class LoopUnavailable(Exception):
    """child_async_loop names a loop this interpreter cannot import."""


def new_event_loop(kind):
    """The loop of the async def tasks (child_async_loop): uvloop's libuv loop costs less Python per I/O
    wait than the standard library's (bench/README.md), so `auto` takes it whenever it is importable."""
    if kind in ('auto', 'uvloop'):
        try:
            import uvloop
        except ImportError as exc:
            if kind == 'uvloop':
                raise LoopUnavailable('child_async_loop is uvloop but %s cannot import it: %s'
                                      % (sys.executable, exc)) from exc
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class AsyncBridge:
    """The child's asyncio loop (a thread of its own) and the tracer threads of its ``async def`` tasks.

    Celery's tracer is synchronous: each async task's tracer runs on a thread of a pool as large as
    the in-flight limit, and calls the task's ``run``, replaced here by a function that runs the
    coroutine on the loop and waits for it. Signals, handlers, result storage, retry and replace are
    thus Celery's code, in that thread; the coroutine itself sees ``self.request`` through Celery's
    request stack, keyed per asyncio task on the loop thread."""

    def __init__(self, capacity, blocked_seconds, channel, loop_kind='auto'):
        self.capacity = capacity
        self.blocked_seconds = blocked_seconds
        self.channel = channel
        self.jobs = {}
        # asyncio task -> job while its coroutine runs, given up or not (the watchdog names the blocker)
        self.running = {}
        self.lock = threading.Lock()
        self.local = threading.local()
        self.idle = threading.Condition(self.lock)
        self.loop = new_event_loop(loop_kind)
        self.starts = collections.deque()  # coroutines to start on the loop, from the tracer threads
        self.starting = False
        self.loop_ident = None
        started = threading.Event()

        def run_loop():
            self.loop_ident = threading.get_ident()
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(started.set)
            self.loop.run_forever()
        threading.Thread(target=run_loop, name='celerity-asyncio', daemon=True).start()
        started.wait()
        self.threads = concurrent.futures.ThreadPoolExecutor(max_workers=capacity, thread_name_prefix='celerity-async')
        self.probe_sent = None
        self.reported = False
        threading.Thread(target=self.watch, name='celerity-asyncio-watchdog', daemon=True).start()
        self.app = self.watch_stores = self.shared_backend = None  # set by CeleryApp once its backends are watched

    def thread_backend(self):
        """The app's backend on a tracer thread (Celery's is one per thread, built at first use): the main
        thread's Redis backend, thread-safe, shared (one connection pool, and its stores batched), else one
        of the thread's own as Celery builds it, its stores watched as the main thread's."""
        local = self.app._local
        if hasattr(local, 'backend'):
            return
        if self.shared_backend is not None:
            local.backend = self.shared_backend
            return
        try:
            backend = self.app._get_backend()
        except Exception:  # noqa: BLE001 - Celery's tracer meets the same error where it uses the backend
            return
        self.watch_stores(backend)
        local.backend = backend

    def ident(self):
        """Celery's request and task stacks, per asyncio task on the loop thread, else per thread."""
        ident = threading.get_ident()
        if ident == self.loop_ident:
            task = asyncio.current_task(self.loop)
            if task is not None:
                return ('asyncio', id(task))
        return ident

    def make_sync(self, task, fn):
        """The task's ``run`` as Celery's tracer calls it: the coroutine run on the loop, waited for here."""
        from celery._state import _task_stack

        def run(*args, **kwargs):
            job = getattr(self.local, 'job', None)
            coro = fn(*args, **kwargs)
            if job is None:  # called outside a traced async job (e.g. directly): just run it
                return asyncio.run_coroutine_threadsafe(coro, self.loop).result()
            request = task.request_stack.top
            batcher = getattr(task.backend, 'celerity_batcher', None)
            if batcher is not None and not task.ignore_result and not getattr(request, 'ignore_result', False):
                job.prefetch = (batcher, task.backend.get_key_for_task(request.id))

            async def main():
                task.request_stack.push(request)
                _task_stack.push(task)
                try:
                    return await Driven(coro, job)
                finally:
                    _task_stack.pop()
                    task.request_stack.pop()

            def start():
                if job.result.done():  # given up before it started
                    coro.close()
                    return
                job.atask = self.loop.create_task(main())
                self.running[job.atask] = job
                job.atask.add_done_callback(lambda t: self.ended(job, t))
            self.starts.append(start)
            if not self.starting:  # one wake-up of the loop for the coroutines started meanwhile
                self.starting = True
                self.loop.call_soon_threadsafe(self.start_all)
            return job.result.result()
        return run

    def start_all(self):
        self.starting = False  # before the queue is read: a start queued after this read schedules another
        starts = self.starts
        while starts:
            starts.popleft()()

    def ended(self, job, atask):
        self.running.pop(atask, None)
        if job.result.done():
            return
        if atask.cancelled():
            value, error = None, job.soft if job.soft is not None and job.abandoned_at is None else Abandoned()
        else:
            error = atask.exception()
            value = atask.result() if error is None else None
        if job.prefetch is not None and not isinstance(error, Abandoned):
            # The tracer thread's next step is storing the outcome, whose first round trip is Celery's read of
            # the state stored (_store_result's SUCCESS check): sent now, the thread is woken once, with it.
            batcher, key = job.prefetch
            batcher.prefetch(job, key, lambda: job.result.set(value, error))
        else:
            job.result.set(value, error)

    def submit(self, m, trace):
        """Runs one ``run`` frame of an async task on a tracer thread; the reply carries its job number."""
        job = AsyncJob(m['job'])
        with self.lock:
            self.jobs[job.number] = job

        def work():
            if self.app is not None:
                self.thread_backend()
            self.local.job = job
            try:
                reply = trace(m)
            except Abandoned:
                reply = None
            finally:
                self.local.job = None
            try:
                if reply is None or job.abandoned_at is not None:
                    self.channel.send({'type': 'cancelled', 'job': job.number})
                else:
                    reply['job'] = job.number  # no rss_kib: the heartbeat reports it (a /proc read per task is not free)
                    self.channel.send(reply)
            finally:
                with self.lock:
                    self.jobs.pop(job.number, None)
                    self.idle.notify_all()
        self.threads.submit(work)

    def soft_limit(self, number, exc):
        job = self.jobs.get(number)
        if job is None:
            return False
        job.soft = job.inject = exc
        self.loop.call_soon_threadsafe(lambda: job.atask is not None and job.atask.cancel())
        return True

    def cancel(self, number):
        """Hard time limit or terminate: the tracer thread stops waiting at once, the coroutine is cancelled."""
        job = self.jobs.get(number)
        if job is None:
            return
        job.abandoned_at = time.monotonic()
        job.inject = None
        job.result.set_exception(Abandoned())
        self.loop.call_soon_threadsafe(lambda: job.atask is not None and job.atask.cancel())

    def drain(self):
        """Waits for the tasks in flight (warm shutdown: the parent sends no more)."""
        with self.lock:
            while self.jobs:
                self.idle.wait()

    def watch(self):
        """Probes the loop; a loop that does not answer within the threshold is blocked by a coroutine that
        does not yield: reported with its job and stack. If that job was given up and the loop still does
        not yield, the child exits (as a killed prefork child; the parent reports its other tasks lost)."""
        every = max(0.01, self.blocked_seconds / 4)
        while True:
            time.sleep(every)
            now = time.monotonic()
            if self.probe_sent is None:
                self.probe_sent = now
                self.loop.call_soon_threadsafe(self.answered)
                continue
            waited = now - self.probe_sent
            if waited <= self.blocked_seconds:
                continue
            culprit = self.culprit()
            if not self.reported:
                self.reported = True
                frame = sys._current_frames().get(self.loop_ident)
                stack = ''.join(traceback.format_stack(frame)[-8:]) if frame is not None else ''
                try:
                    self.channel.send({'type': 'blocked', 'job': culprit.number if culprit else None,
                                       'seconds': round(waited, 3), 'stack': stack})
                except OSError:
                    os._exit(0)
            if culprit is not None and culprit.abandoned_at is not None and now - culprit.abandoned_at > self.blocked_seconds:
                sys.stderr.write('celerity child: the asyncio loop is still blocked by job %s, given up %.1fs ago; exiting\n'
                                 % (culprit.number, now - culprit.abandoned_at))
                sys.stderr.flush()
                os._exit(70)

    def answered(self):
        self.probe_sent = None
        self.reported = False

    def culprit(self):
        task = asyncio.current_task(self.loop)
        return self.running.get(task) if task is not None else None


class StoreRequest:
    __slots__ = ('key', 'value', 'done', 'then', 'result', 'error', 'finished')

    def __init__(self, key, value, then=None):
        self.key = key
        self.value = value  # None: Celery's get(key); else its _set(key, value)
        self.then = then    # called on the store thread with the request, instead of waking a waiting thread
        self.done = threading.Lock()
        self.done.acquire()
        self.result = self.error = None
        self.finished = False

    def finish(self):
        self.finished = True
        if self.then is None:
            self.done.release()
            return
        try:
            self.then(self)
        except BaseException as exc:  # noqa: B902 - the store thread goes on
            sys.stderr.write('celerity child: %r\n' % (exc,))


class StoreBatcher:
    """Celery's Redis result backend for the tracer threads of async tasks: its two round trips per
    stored state (``_store_result``'s read of the state already stored, then ``_set``: SET or SETEX
    and PUBLISH in one MULTI/EXEC) are sent with those of the other threads in one pipeline by one
    thread. A hundred threads each waiting on their own socket spent most of the child's CPU in
    thread switches for the GIL. Each tracer thread still waits for its own reply, so Celery's code
    around them (the SUCCESS check, retry_over_time on connection errors, BackendStoreError, the
    stored result before the reply to the parent) is unchanged; other threads call Celery's own."""

    def __init__(self, backend, local):
        self.backend = backend
        self.local = local  # the bridge's thread-local: its job is set on a tracer thread
        self.get0, self.set0 = backend.get, backend._set
        self.queue = queue.SimpleQueue()
        backend.get, backend._set = self.get, self._set
        backend.celerity_batcher = self
        threading.Thread(target=self.serve, name='celerity-store', daemon=True).start()

    @staticmethod
    def applies(backend):
        """Celery's RedisBackend (or a subclass) whose get and _set are Celery's own."""
        try:
            from celery.backends.redis import RedisBackend
        except ImportError:
            return False
        cls = type(backend)
        return isinstance(backend, RedisBackend) and cls.get is RedisBackend.get and cls._set is RedisBackend._set

    def get(self, key):
        job = getattr(self.local, 'job', None)
        if job is None:
            return self.get0(key)
        prefetched = job.prefetched
        if prefetched is not None and prefetched[0] == key:
            job.prefetched = None
            return prefetched[1]
        return self.call(StoreRequest(key, None))

    def prefetch(self, job, key, then):
        """Reads key for job's next get of it (an error is left for that get to meet), then calls then."""
        def done(request):
            if request.error is None:
                job.prefetched = (key, request.result)
            then()
        self.queue.put(StoreRequest(key, None, done))

    def _set(self, key, value):
        if getattr(self.local, 'job', None) is None or value is None:
            return self.set0(key, value)
        self.call(StoreRequest(key, value))

    def call(self, request):
        self.queue.put(request)
        request.done.acquire()
        if request.error is not None:
            raise request.error
        return request.result

    def serve(self):
        while True:
            batch = [self.queue.get()]
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.execute(batch)
            except BaseException as exc:  # noqa: B902 - every waiter gets the error (retried by Celery's ensure)
                for request in batch:
                    if not request.finished:
                        request.error = copy_exception(exc)
                        request.finish()

    def execute(self, batch):
        expires = self.backend.expires
        with self.backend.client.pipeline() as pipe:  # MULTI/EXEC, as Celery's _set
            for r in batch:
                if r.value is None:
                    pipe.get(r.key)
                else:
                    if expires:
                        pipe.setex(r.key, expires, r.value)
                    else:
                        pipe.set(r.key, r.value)
                    pipe.publish(r.key, r.value)
            out = pipe.execute(raise_on_error=False)
        i = 0
        for r in batch:
            n = 1 if r.value is None else 2
            replies = out[i:i + n]
            i += n
            error = next((x for x in replies if isinstance(x, Exception)), None)
            if error is not None:
                r.error = error
            elif r.value is None:
                r.result = replies[0]
            r.finish()


def copy_exception(exc):
    """One error for each waiting thread: a raise sets the exception's traceback."""
    import copy
    try:
        return copy.copy(exc)
    except Exception:
        return exc


class DeferredStores:
    """Celery's Redis result backend for the synchronous tracer, when the worker stores into the same Redis
    (handshake ``defer_stores``): a task's final state (a ready state: SUCCESS, FAILURE, REVOKED) is handed to
    the worker in the ``traced`` reply instead of written here, and the worker writes it with its other tasks'
    results in one script call: the same key and document (Celery's own encoding), SETEX and PUBLISH, and
    Celery's "a stored SUCCESS is kept" check made atomically in Redis instead of by a GET before the SET. Two
    round trips per task were two thirds of the child's CPU per short task. The worker acks (acks_late) only
    once the state is stored, as before; what changes is that the task's own signals (task_success,
    task_postrun) run before the state is visible in Redis rather than after. Chord members, other states
    (STARTED, RETRY, custom ones from update_state), other keys, non-JSON documents and documents over 1 MiB are
    written here."""

    # Larger documents are written here: batching gains them nothing, and the reply frame stays far below the
    # worker's 64 MiB limit.
    MAX_DEFERRED = 1 << 20

    def __init__(self, backend):
        from celery.states import READY_STATES
        self.backend = backend
        self.ready_states = READY_STATES
        self.get0, self.set0 = backend.get, backend._set
        self.writes = None    # [[key, document, expires]] of the task being traced, while deferring
        self.key = None       # the key whose state store_result is writing now
        backend.get, backend._set = self.get, self._set
        store = backend.store_result
        main = threading.main_thread()

        def store_result(task_id, result, state, traceback=None, request=None, **kwargs):
            if (self.writes is None or state not in self.ready_states or request is None
                    or getattr(request, 'chord', None) or threading.current_thread() is not main):
                return store(task_id, result, state, traceback, request, **kwargs)
            self.key = backend.get_key_for_task(task_id)
            try:
                return store(task_id, result, state, traceback, request, **kwargs)
            finally:
                self.key = None
        backend.store_result = store_result

    @staticmethod
    def applies(backend):
        return StoreBatcher.applies(backend)

    def get(self, key):
        if self.key is not None and key == self.key:
            return None  # PENDING to _store_result's check: the worker's script keeps a stored SUCCESS
        return self.get0(key)

    def _set(self, key, value):
        if self.key is None or key != self.key or not isinstance(value, str) or len(value) > self.MAX_DEFERRED:
            return self.set0(key, value)
        try:
            name = key.decode('utf-8') if isinstance(key, bytes) else key  # Celery's keys are bytes
        except UnicodeDecodeError:
            return self.set0(key, value)
        self.writes.append([name, value, int(self.backend.expires or 0)])

    def trace(self, task, run):
        """Runs the tracer with task's final state deferred (when task uses this backend); returns
        (tracer's return value, the deferred writes)."""
        if task.backend is not self.backend:
            return run(), None
        self.writes = []
        try:
            out = run()
        except BaseException:
            writes, self.writes = self.writes, None
            self.write_here(writes)  # the tracer raised after storing: what it stored is not lost
            raise
        writes, self.writes = self.writes, None
        return out, writes

    def write_here(self, writes):
        """Writes deferred states as Celery's _store_result would have: a stored SUCCESS is kept."""
        from celery.states import SUCCESS
        for key, value, _ in writes:
            try:
                current = self.get0(key)
                if current and self.backend.decode_result(current).get('status') == SUCCESS:
                    continue
                self.set0(key, value)
            except Exception as exc:  # noqa: BLE001 - the tracer's own error is the one to report
                sys.stderr.write('celerity child: state of %s not stored: %r\n' % (key, exc))


class CeleryApp:
    """The app as a Celery prefork child holds it: initialised once, every task with its tracer."""

    def __init__(self, app, handshake, channel):
        from celery import signals
        from celery.app import trace
        from celery.concurrency.prefork import process_initializer
        self.app = app
        self.hostname = handshake.get('hostname') or None
        self.conf = app_conf(app)
        # The worker's broker and result backend win over the app's, as `celery worker -b/--result-backend` do.
        if handshake.get('broker_url'):
            app.conf.broker_url = handshake['broker_url']
        if handshake.get('result_backend'):
            app.conf.result_backend = handshake['result_backend']
        # The main process of a Celery worker: imports, celeryd_init, worker_init (a forked child
        # inherits their effects; this child is its own process, so it runs them itself).
        app.loader.init_worker()
        signals.celeryd_init.send(sender=self.hostname, instance=None, conf=app.conf, options={})
        signals.worker_init.send(sender=None)
        trace.setup_worker_optimizations(app, self.hostname)
        # async def tasks: their run waits on the child's asyncio loop, before the tracers are built
        self.async_names = set()
        self.bridge = None
        for name, task in list(app.tasks.items()):
            if inspect.iscoroutinefunction(task.run):
                if self.bridge is None:
                    self.bridge = AsyncBridge(int(handshake.get('async_concurrency') or 100),
                                              float(handshake.get('blocked_threshold') or 1.0), channel,
                                              handshake.get('async_loop') or 'auto')
                    from celery._state import _task_stack
                    _task_stack.__ident_func__ = self.bridge.ident
                task.request_stack.__ident_func__ = self.bridge.ident
                task.run = self.bridge.make_sync(task, task.run)
                self.async_names.add(name)
        # Then the pool child's own start: tracers built, worker_process_init sent.
        process_initializer(app, self.hostname)
        # Outcome log lines are the parent's (one line per task, in the worker's log format).
        import logging
        logging.getLogger('celery.app.trace').disabled = True
        # Celery's built-ins too (celery.chord_unlock, celery.accumulate, celery.chunks, ...): every message
        # the worker hands to this child runs Celery's own code.
        self.tasks = dict(app.tasks)
        # task id -> (state, exception) of a store of that task's state the backend could not make
        self.unstored = {}
        try:
            backends = {id(b): b for b in [app.backend] + [t.backend for t in self.tasks.values()]}
        except Exception as exc:  # a backend that cannot be built fails each task as in Celery, not the child
            sys.stderr.write('celerity child: result backend not watched: %r\n' % (exc,))
            backends = {}
        for backend in backends.values():
            self.watch_stores(backend)
        self.deferred = None
        if handshake.get('defer_stores') and backends and DeferredStores.applies(app.backend):
            self.deferred = DeferredStores(app.backend)
        if self.bridge is not None:
            self.bridge.app, self.bridge.watch_stores = app, self.watch_stores
            for backend in backends.values():
                if StoreBatcher.applies(backend):
                    StoreBatcher(backend, self.bridge.local)
            if backends and StoreBatcher.applies(app.backend):
                self.bridge.shared_backend = app.backend

    def watch_stores(self, backend):
        """Records a store of a task's state (mark_as_started/done/failure/retry all go through
        store_result) that failed because the backend was unreachable after its own retries. Celery's
        tracer then stores FAILURE instead or raises; either way the worker must not ack as if the
        result were stored. The exception still propagates: Celery's code paths are unchanged."""
        store = backend.store_result

        def store_result(task_id, result, state, *args, **kwargs):
            try:
                return store(task_id, result, state, *args, **kwargs)
            except Exception as exc:
                if backend_unreachable(backend, exc):
                    self.unstored.setdefault(task_id, (state, exc))
                raise
        backend.store_result = store_result

    def describe(self):
        out = []
        for name, task in sorted(self.tasks.items()):
            d = {'name': name, 'traced': True}
            if name in self.async_names:
                d['async'] = True
            for attr in ('acks_late', 'track_started', 'ignore_result', 'reject_on_worker_lost'):
                if getattr(task, attr, None) is True:
                    d[attr] = True
            for attr in ('time_limit', 'soft_time_limit'):
                if getattr(task, attr, None):
                    d[attr] = getattr(task, attr)
            out.append(d)
        return out

    def trace(self, m):
        """Celery's fast_trace_task: the request dict as Celery's Request builds it, then the task's tracer."""
        task = self.app.tasks[m['task']]
        args = m.get('args') or []
        kwargs = m.get('kwargs') or {}
        request = dict(m.get('request') or {})
        request.update({'args': args, 'kwargs': kwargs, 'hostname': self.hostname, 'is_eager': False},
                       **(m.get('embed') or {}))
        self.unstored.pop(m['id'], None)
        writes = None
        try:
            if self.deferred is not None and threading.current_thread() is threading.main_thread():
                (R, I, T, Rstr), writes = self.deferred.trace(
                    task, lambda: task.__trace__(m['id'], args, kwargs, request))
            else:
                R, I, T, Rstr = task.__trace__(m['id'], args, kwargs, request)
        except Exception as exc:  # the tracer's own FAILURE store failed too (its on_error raised)
            if m['id'] not in self.unstored:
                raise
            reply = dict(encode_exception(exc), type='traced', state='FAILURE', traceback=traceback.format_exc())
        else:
            reply = self.reply(R, I, T, Rstr)
        if writes:
            reply['stores'] = writes
        lost = self.unstored.pop(m['id'], None)
        if lost is not None:
            # The worker requeues (acks_late) or logs the lost result, as for its own failed stores.
            if reply['type'] != 'traced':
                reply = dict(reply, type='traced', state='FAILURE')
            reply['not_stored'] = dict(encode_exception(lost[1]), state=lost[0])
        return reply

    @staticmethod
    def reply(R, I, T, Rstr):
        from celery.states import SUCCESS
        from billiard.einfo import ExceptionInfo
        if I is None:
            if isinstance(R, ExceptionInfo):  # raised outside the body before a request existed: nothing stored
                return dict(encode_exception(R.exception), type='error', traceback=R.traceback)
            return {'type': 'traced', 'state': SUCCESS, 'repr': Rstr, 'runtime': T}
        exc = I.retval  # the exception as raised (R.exception may be billiard's pickleable stand-in)
        reply = {'type': 'traced', 'state': I.state, 'runtime': T,
                 'traceback': R.traceback if isinstance(R, ExceptionInfo) else None}
        if I.state == 'RETRY':
            reply['message'] = str(exc)
            exc = exc.exc if getattr(exc, 'exc', None) is not None else exc
        elif I.state == 'REJECTED':
            reply['requeue'] = bool(getattr(exc, 'requeue', False))
        reply.update(encode_exception(exc))
        return reply


class Plain:
    """Plain functions named on the command line: run here, stored by the parent."""

    def __init__(self, module, names):
        self.functions = {}
        for spec in names:
            task, eq, fn = spec.partition('=')
            fn = fn or task
            if not eq:
                task = module.__name__ + '.' + fn
            self.functions[task] = getattr(module, fn)

    def describe(self):
        return [{'name': n} for n in sorted(self.functions)]


class Child:
    """Reads the parent's frames on the main thread between tasks; a watch thread reads only while a task runs long.

    A reader thread of its own, handing each frame to the main thread, cost the child about 50 µs of CPU per
    short task (GIL hand-offs and context switches: 2.4 per task) of its 120-140. So the main thread reads the
    socket itself whenever it is between tasks (with ``pipeline`` the next ``run`` is usually there already), and
    frames that cannot wait for the running task to end (``soft_limit``, ``unqueue``, ``cancel``, ``run`` of an
    ``async def`` task) are read by the watch thread once a task has run for two of its checks (5 ms apart, the
    GIL may delay each by up to 5 ms more): it reads until the task ends, then hands the socket back. After a
    second without tasks the watch thread waits for the next one instead of checking. Who reads is ``reading`` (READ_FREE, READ_MAIN, READ_WATCH), under ``lock``; frames the watch thread read
    reach the main thread through ``jobs``, in order, before anything it reads itself.
    """

    READ_FREE, READ_MAIN, READ_WATCH = 'free', 'main', 'watch'
    AGAIN = object()  # in jobs: the watch thread gave the socket back; read it again
    CHECK = 0.005  # the watch thread's check (the GIL may hold it up to sys.getswitchinterval() more)
    PARK_AFTER = 200  # checks without a task (a second) before the watch thread waits for the next task

    def __init__(self, channel, celery_app, plain, rss_per_task=False):
        self.channel = channel
        self.rss_per_task = rss_per_task  # a /proc read per task costs ~25 us: only when the parent needs it
        self.celery_app = celery_app
        self.plain = plain
        self.jobs = queue.SimpleQueue()  # frames the watch thread read for the main thread (C: cheap)
        self.current = None
        self.begun = 0  # sync tasks begun: the watch thread sees whether the same one still runs
        self.soft_exc = soft_limit_class()
        self.lock = threading.Lock()  # reading, queued and skipped: the main thread and the watch thread
        self.reading = Child.READ_FREE
        self.parked = False  # the watch thread waits for unpark: set when a task begins
        self.unpark = threading.Event()
        self.queued = set()  # sync jobs the watch thread read, not yet begun by the main thread
        self.skipped = set()  # queued ones the parent took back (unqueue): never begun

    def on_soft_limit(self, signum, frame):
        if self.current is not None:
            raise self.soft_exc()

    def read(self):
        m = None
        try:
            m = self.channel.read()
        except (OSError, ValueError):
            pass
        if m is None:
            os._exit(0)  # the parent is gone
        return m

    def take(self):
        """The main thread's next frame: what the watch thread queued first, else one it reads itself; AGAIN
        when it handled one here (soft_limit, unqueue, an async run) or the watch thread gave the socket back."""
        with self.lock:
            try:
                return self.jobs.get_nowait()
            except queue.Empty:
                mine = self.reading == Child.READ_FREE
                if mine:
                    self.reading = Child.READ_MAIN
        if not mine:
            return self.jobs.get()  # the watch thread reads: it hands the next run over, or the socket back
        try:
            m = self.read()
        finally:
            with self.lock:
                self.reading = Child.READ_FREE
        return m if self.dispatch(m, queue_runs=False) else Child.AGAIN

    def next_run(self):
        """The next sync run for the main thread, or None at shutdown."""
        while True:
            m = self.take()
            if m is Child.AGAIN:
                continue
            if m is None or m.get('type') == 'shutdown':
                return None
            with self.lock:
                skip = m['job'] in self.skipped
                if skip:
                    self.skipped.discard(m['job'])
                else:
                    self.queued.discard(m['job'])
                    self.current = m['job']
                    self.begun += 1
                    if self.parked:
                        self.parked = False
                        self.unpark.set()
            if not skip:  # else the parent has its 'skipped' already
                return m

    def dispatch(self, m, queue_runs):
        """Handles a frame read by either thread; True for a frame the main thread takes (a sync run, shutdown).
        With queue_runs (the watch thread), such frames go to jobs instead."""
        kind = m.get('type')
        bridge = self.celery_app.bridge if self.celery_app is not None else None
        if kind == 'run':
            if bridge is not None and m.get('task') in self.celery_app.async_names:
                bridge.submit(m, self.async_run)
                return False
            if queue_runs:
                with self.lock:
                    self.queued.add(m.get('job'))
                self.jobs.put(m)
            return True
        if kind == 'soft_limit':
            if bridge is not None and bridge.soft_limit(m.get('job'), self.soft_exc()):
                return False
            if self.current == m.get('job'):
                os.kill(os.getpid(), signal.SIGUSR1)
        elif kind == 'cancel':
            if bridge is not None:
                bridge.cancel(m.get('job'))
        elif kind == 'unqueue':  # answered at once: skipped, or begun (too late: it runs and replies as usual)
            with self.lock:
                skip = m.get('job') in self.queued
                if skip:
                    self.queued.discard(m.get('job'))
                    self.skipped.add(m.get('job'))
            self.channel.send({'type': 'skipped' if skip else 'begun', 'job': m.get('job')})
        elif kind == 'shutdown':
            if queue_runs:
                self.jobs.put(None)
            return True
        return False

    def watch(self):
        """Reads the socket while a sync task runs long, until it ends (or the parent says shutdown); parks
        after a second without tasks, until the next one begins."""
        seen, idle = None, 0
        while True:
            if idle >= Child.PARK_AFTER:
                with self.lock:
                    park = self.current is None
                    if park:
                        self.unpark.clear()
                        self.parked = True
                if park:
                    self.unpark.wait()
                idle = 0
            time.sleep(Child.CHECK)
            with self.lock:
                running = self.begun if self.current is not None else None
                take = running is not None and running == seen and self.reading == Child.READ_FREE
                if take:
                    self.reading = Child.READ_WATCH
                seen = running
            idle = 0 if running is not None else idle + 1
            if not take:
                continue
            while True:
                m = self.read()
                if self.dispatch(m, queue_runs=True) and m.get('type') == 'shutdown':
                    return
                with self.lock:
                    if self.current is None or self.begun != running:
                        self.reading = Child.READ_FREE
                        self.jobs.put(Child.AGAIN)  # the main thread may wait in jobs.get(): let it read
                        break

    def heartbeat(self, seconds):
        while True:
            time.sleep(seconds)
            try:
                self.channel.send({'type': 'heartbeat', 'rss_kib': rss_kib()})
            except OSError:
                os._exit(0)

    def serve(self):
        while True:
            m = self.next_run()
            if m is None:
                return
            reply = self.run(m)
            reply['job'] = m['job']
            if self.rss_per_task:  # max_memory_per_child: the parent checks after each task (else the heartbeat reports it)
                reply['rss_kib'] = rss_kib()
            try:
                self.channel.send(reply)
            except (TypeError, ValueError) as exc:  # a plain function's value JSON cannot encode
                error = dict(encode_exception(encode_error(exc)), type='error', traceback=None, job=m['job'])
                if 'rss_kib' in reply:
                    error['rss_kib'] = reply['rss_kib']
                self.channel.send(error)

    def async_run(self, m):
        """An async task's tracer, on its thread: as run, without the main thread's soft-limit signal."""
        try:
            return self.celery_app.trace(m)
        except Abandoned:
            raise
        except BaseException as exc:  # noqa: B902 - every failure is the task's result
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                raise
            return dict(encode_exception(exc), type='error', traceback=traceback.format_exc())

    def run(self, m):
        name = m['task']
        self.current = m['job']
        try:
            if self.celery_app is not None and name in self.celery_app.tasks:
                return self.celery_app.trace(m)
            if self.plain is not None and name in self.plain.functions:
                value = self.plain.functions[name](*(m.get('args') or []), **(m.get('kwargs') or {}))
                return {'type': 'result', 'value': value}
            return {'type': 'error', 'exc_type': 'NotRegistered', 'exc_module': 'celery.exceptions',
                    'exc_message': [name], 'traceback': None}
        except BaseException as exc:  # noqa: B902 - every failure is the task's result
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                raise
            return dict(encode_exception(exc), type='error', traceback=traceback.format_exc())
        finally:
            self.current = None


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
                  'protocol': PROTOCOL, 'async_capacity': int(handshake.get('async_concurrency') or 100),
                  'pipeline': True})
    spec, names = args[0], args[1:]
    plain = Plain(importlib.import_module(spec.partition(':')[0]), names) if names else None
    celery_app = None
    try:
        import celery  # noqa: F401
        have_celery = True
    except ImportError:
        have_celery = False
    if have_celery:
        try:
            celery_app = CeleryApp(load_app(spec), handshake, channel)
        except LoopUnavailable as exc:
            sys.stderr.write('celerity child: %s\n' % (exc,))
            sys.stderr.flush()
            os._exit(2)
        except AppLoadError as exc:
            if plain is None:
                sys.stderr.write("Error: Invalid value for '-A' / '--app': %s\n" % (exc,))
                sys.stderr.flush()
                os._exit(2)  # the exit status and the closed connection at once (as click's usage error: 2)
    elif plain is None:
        sys.stderr.write('celerity child: %s has no plain functions listed and Celery is not installed\n' % spec)
        return 2
    child = Child(channel, celery_app, plain, bool(handshake.get('rss_per_task')))
    signal.signal(signal.SIGUSR1, child.on_soft_limit)  # as billiard's soft-timeout handler
    tasks = (plain.describe() if plain else []) + (celery_app.describe() if celery_app else [])
    ready = {'type': 'ready', 'tasks': tasks}
    if celery_app is not None and celery_app.conf is not None:
        ready['conf'] = celery_app.conf
    channel.send(ready)
    threading.Thread(target=child.watch, name='celerity-watch', daemon=True).start()
    threading.Thread(target=child.heartbeat, args=(handshake.get('heartbeat', 5.0),), daemon=True).start()
    child.serve()
    if celery_app is not None and celery_app.bridge is not None:
        celery_app.bridge.drain()
    if celery_app is not None:
        from celery.concurrency.prefork import process_destructor
        process_destructor(os.getpid(), 0)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
