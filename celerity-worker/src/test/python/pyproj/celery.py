"""The pyproj app: found by Celery's find_app as pyproj.celery:app. Signal handlers record what fires
(and in which process) in the Redis list named by $PYPROJ_LOG, for the process-pool fidelity tests."""
import json
import os

import redis
from celery import Celery, signals

app = Celery('pyproj', include=['pyproj.tasks'])
app.conf.imports = ['pyproj.imported']
app.autodiscover_tasks(['pyproj.discovered'])  # imports pyproj.discovered.tasks when the worker starts
app.conf.task_default_queue = os.environ.get('PYPROJ_QUEUE', 'celery')
if os.environ.get('CELERITY_TEST_BROKER'):  # Celery's own worker in the comparison tests
    app.conf.broker_url = os.environ['CELERITY_TEST_BROKER']
    app.conf.result_backend = os.environ.get('CELERITY_TEST_BACKEND')

_redis = None


def record(event, **fields):
    key = os.environ.get('PYPROJ_LOG')
    if not key:
        return
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ.get('PYPROJ_REDIS', 'redis://127.0.0.1:6379/9'))
    fields.update(event=event, pid=os.getpid())
    _redis.rpush(key, json.dumps(fields, default=repr))


@signals.worker_init.connect
def on_worker_init(**kw):
    record('worker_init')


@signals.worker_process_init.connect
def on_worker_process_init(**kw):
    record('worker_process_init')


@signals.worker_process_shutdown.connect
def on_worker_process_shutdown(pid=None, exitcode=None, **kw):
    record('worker_process_shutdown', exitcode=exitcode)


@signals.task_prerun.connect
def on_prerun(task_id=None, task=None, **kw):
    record('task_prerun', id=task_id, task=task.name)


@signals.task_postrun.connect
def on_postrun(task_id=None, task=None, state=None, **kw):
    record('task_postrun', id=task_id, task=task.name, state=state)


@signals.task_success.connect
def on_success(sender=None, result=None, **kw):
    record('task_success', id=sender.request.id, result=result)


@signals.task_failure.connect
def on_failure(task_id=None, exception=None, **kw):
    record('task_failure', id=task_id, exception=repr(exception))


@signals.task_retry.connect
def on_retry(request=None, reason=None, **kw):
    record('task_retry', id=request.id, reason=repr(reason))
