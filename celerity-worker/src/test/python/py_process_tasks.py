"""Python tasks for Celerity's process-pool tests, run by celerity_child (no broker needed here)."""
import os
import time

from celery import Celery

app = Celery('py_process_tasks')


@app.task(name='pyproc.add')
def add(x, y):
    return x + y


@app.task(name='pyproc.fail')
def fail(msg):
    raise ValueError(msg)


@app.task(name='pyproc.info', bind=True)
def info(self, *args, **kwargs):
    return {'id': self.request.id, 'retries': self.request.retries, 'args': list(self.request.args),
            'kwargs': self.request.kwargs, 'pid': os.getpid()}


@app.task(name='pyproc.flaky', bind=True, max_retries=3)
def flaky(self, succeed_at):
    if self.request.retries < succeed_at:
        raise self.retry(exc=KeyError('not yet'), countdown=0.2)
    return 'ok after %d' % self.request.retries


@app.task(name='pyproc.sleep')
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name='pyproc.touch')
def touch(path):
    """Leaves a trace that it ran: the file."""
    open(path, 'w').close()
    return path


@app.task(name='pyproc.pid')
def pid():
    return os.getpid()


@app.task(name='pyproc.soft')
def soft():
    from billiard.exceptions import SoftTimeLimitExceeded
    try:
        time.sleep(30)
    except SoftTimeLimitExceeded:
        return 'cleaned up'
    return 'not interrupted'


def plain_mul(x, y):
    return x * y


def plain_object():
    return object()
