"""Tasks exercising Celery's tracer in a Celerity child (and in Celery's own worker, to compare)."""
from celery import Task, group
from celery.exceptions import Ignore, Reject
from celery.result import AsyncResult, GroupResult

from .celery import app, record


@app.task(name='pyproj.add')
def add(x, y):
    return x + y


class Recording(Task):
    """Celery's task handlers, recorded."""

    def before_start(self, task_id, args, kwargs):
        record('before_start', id=task_id)

    def on_success(self, retval, task_id, args, kwargs):
        record('on_success', id=task_id, retval=retval)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        record('on_failure', id=task_id, exc=repr(exc))

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        record('on_retry', id=task_id, exc=repr(exc))

    def after_return(self, status, retval, task_id, args, kwargs, einfo):
        record('after_return', id=task_id, status=status)


@app.task(name='pyproj.handled', base=Recording)
def handled(fail):
    if fail:
        raise ValueError('handled failure')
    return 'handled ok'


@app.task(name='pyproj.replaced', bind=True)
def replaced(self, x):
    raise self.replace(add.s(x, 100))


@app.task(name='pyproj.reject', bind=True, acks_late=True)
def reject(self, requeue_first):
    """Reject(requeue) once when asked, then run on the redelivered copy; never requeue otherwise."""
    redelivered = bool(self.request.delivery_info.get('redelivered'))
    if requeue_first and not redelivered:
        raise Reject('again', requeue=True)
    if not requeue_first:
        raise Reject('no thanks', requeue=False)
    return 'redelivered=%s' % redelivered


@app.task(name='pyproj.ignore')
def ignore():
    raise Ignore()


@app.task(name='pyproj.autoretry', bind=True, autoretry_for=(KeyError,), retry_kwargs={'max_retries': 3, 'countdown': 0.1},
          base=Recording)
def autoretry(self, succeed_at):
    if self.request.retries < succeed_at:
        raise KeyError('not yet')
    return 'ok after %d' % self.request.retries


@app.task(name='pyproj.returns_async')
def returns_async():
    return AsyncResult('4e4e1c1e-0000-0000-0000-000000000001')


@app.task(name='pyproj.returns_group')
def returns_group():
    return GroupResult('4e4e1c1e-0000-0000-0000-0000000000g1',
                       [AsyncResult('4e4e1c1e-0000-0000-0000-000000000002')])


@app.task(name='pyproj.unencodable')
def unencodable():
    return object()


@app.task(name='pyproj.pid')
def pid():
    import os
    return os.getpid()


@app.task(name='pyproj.request', bind=True)
def request(self, *args, **kwargs):
    r = self.request
    fields = ('id', 'args', 'kwargs', 'properties', 'delivery_info', 'reply_to', 'correlation_id', 'hostname',
              'origin', 'timelimit', 'callbacks', 'errbacks', 'chain', 'chord', 'group', 'group_index', 'root_id',
              'parent_id', 'retries', 'eta', 'expires', 'is_eager')
    return {f: getattr(r, f, None) for f in fields}


class ReadsOwnState(Task):
    """after_return reads the task's own stored state: SUCCESS in a prefork child, PENDING in a Celerity
    child that handed its final state to the worker (child_defer_stores)."""

    def after_return(self, status, retval, task_id, args, kwargs, einfo):
        record('after_return_state', id=task_id, stored=self.AsyncResult(task_id).state)


@app.task(name='pyproj.reads_own_state', base=ReadsOwnState)
def reads_own_state():
    return 'ok'


@app.task(name='pyproj.big')
def big(n):
    return 'x' * n
