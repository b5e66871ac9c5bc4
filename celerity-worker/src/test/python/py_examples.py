"""Reference Python Celery app for Celerity's mixed-fleet tests and benchmarks.

Run a real Python worker with Debian's Celery (cwd = this directory):

    CELERITY_TEST_BROKER=amqp://guest:guest@127.0.0.1:5672/celerity-test \
    CELERITY_TEST_BACKEND=redis://127.0.0.1:6379/14 \
    /usr/bin/python3 -m celery -A py_examples worker -P solo -Q some-queue -n py@%h

Environment:
    CELERITY_TEST_BROKER   broker URL (default amqp://guest:guest@127.0.0.1:5672/celerity-test)
    CELERITY_TEST_BACKEND  result backend URL (default: none)
    CELERITY_TEST_RESULT_EXTENDED  "1" to enable result_extended
    CELERITY_TEST_TRACK_STARTED    "1" to enable task_track_started
    CELERITY_TEST_DEFAULT_QUEUE    task_default_queue (default "celery")
    CELERITY_TEST_BROKER_TRANSPORT_OPTIONS  broker_transport_options as JSON (e.g. {"master_name": "x"})

The task names are fixed ("examples.*") so that the JVM worker can register the same names.
"""
import json
import os
import time

from celery import Celery, signature

app = Celery(
    'examples',
    broker=os.environ.get('CELERITY_TEST_BROKER', 'amqp://guest:guest@127.0.0.1:5672/celerity-test'),
    backend=os.environ.get('CELERITY_TEST_BACKEND') or None,
)
app.conf.result_extended = os.environ.get('CELERITY_TEST_RESULT_EXTENDED', '') == '1'
app.conf.task_track_started = os.environ.get('CELERITY_TEST_TRACK_STARTED', '') == '1'
# where this worker sends callbacks, chain steps and chord bodies (tests use private queues)
app.conf.task_default_queue = os.environ.get('CELERITY_TEST_DEFAULT_QUEUE', 'celery')
app.conf.worker_hijack_root_logger = False
app.conf.broker_transport_options = json.loads(os.environ.get('CELERITY_TEST_BROKER_TRANSPORT_OPTIONS') or '{}')
# Same timezone handling as a default client.
app.conf.enable_utc = True


@app.task(name='examples.add')
def add(x, y):
    return x + y


@app.task(name='examples.mul')
def mul(x, y):
    return x * y


@app.task(name='examples.xsum')
def xsum(numbers):
    return sum(numbers)


@app.task(name='examples.echo')
def echo(value):
    return value


@app.task(name='examples.sleep')
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name='examples.fail')
def fail(message):
    raise ValueError(message)


@app.task(name='examples.noop')
def noop():
    return None


@app.task(name='examples.replace_with', bind=True)
def replace_with(self, sig):
    """Replaces itself with the signature it is given."""
    return self.replace(signature(sig, app=app))


@app.task(name='examples.retry_until', bind=True)
def retry_until(self, n):
    """Retries itself (countdown 0.1 s) until its n-th retry, then returns the retries seen."""
    if self.request.retries < n:
        raise self.retry(countdown=0.1, max_retries=n)
    return self.request.retries
