"""Sync and async def tasks in one module, for the process pool's coroutine tests (`celerity_child pyaio`).
Signals and the cancellations the coroutines see are recorded in the Redis list named by $PYAIO_LOG."""
import asyncio
import json
import os
import time

import redis
from celery import Celery, signals
from celery.exceptions import SoftTimeLimitExceeded

app = Celery('pyaio')
app.conf.task_default_queue = os.environ.get('PYAIO_QUEUE', 'celery')
_redis = redis.Redis.from_url(os.environ.get('PYAIO_REDIS', 'redis://127.0.0.1:6379/9'))


def record(event, **fields):
    key = os.environ.get('PYAIO_LOG')
    if key:
        fields.update(event=event, pid=os.getpid())
        _redis.rpush(key, json.dumps(fields, default=repr))


@signals.task_prerun.connect
def on_prerun(task_id=None, task=None, **kw):
    record('task_prerun', id=task_id)


@signals.task_postrun.connect
def on_postrun(task_id=None, task=None, state=None, **kw):
    record('task_postrun', id=task_id, state=state)


@app.task(name='pyaio.add')
def add(x, y):
    return x + y


@app.task(name='pyaio.aadd')
async def aadd(x, y):
    await asyncio.sleep(0.01)
    return x + y


@app.task(name='pyaio.loop')
async def loop():
    """The class of the loop the coroutine runs on (child_async_loop)."""
    running = asyncio.get_running_loop()
    await asyncio.sleep(0)
    return type(running).__module__ + '.' + type(running).__name__


@app.task(name='pyaio.wait')
async def wait(seconds):
    await asyncio.sleep(seconds)
    return seconds


@app.task(name='pyaio.request', bind=True)
async def request(self):
    await asyncio.sleep(0)
    return {'id': self.request.id, 'retries': self.request.retries, 'hostname': self.request.hostname}


@app.task(name='pyaio.retrying', bind=True, max_retries=3)
async def retrying(self):
    await asyncio.sleep(0.01)
    if self.request.retries < 2:
        raise self.retry(countdown=0.05)
    return 'retried %d' % self.request.retries


@app.task(name='pyaio.replaced', bind=True)
async def replaced(self, x):
    await asyncio.sleep(0)
    raise self.replace(add.s(x, 100))


@app.task(name='pyaio.soft')
async def soft(seconds):
    try:
        await asyncio.sleep(seconds)
    except SoftTimeLimitExceeded:
        return 'soft caught'
    return 'no limit'


@app.task(name='pyaio.forever', bind=True)
async def forever(self):
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        record('cancelled', id=self.request.id)
        raise


@app.task(name='pyaio.block')
async def block(seconds):
    time.sleep(seconds)  # never yields: the child reports it
    return 'blocked'


@app.task(name='pyaio.gate')
async def gate(key):
    """Waits (yielding) until the test sets the Redis key, 60 s at the most."""
    for _ in range(1200):
        if _redis.exists(key):
            return 'open'
        await asyncio.sleep(0.05)
    return 'timed out'
