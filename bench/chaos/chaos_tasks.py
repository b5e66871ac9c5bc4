"""Tasks for the fault-injection suite (bench/chaos), for Celery's worker and Celerity's Python children.

`chaos.mark(key, seq, sleep)` sleeps `sleep` seconds, then records one execution of `seq` with
HINCRBY key seq 1 in the counting Redis (CHAOS_COUNT_REDIS, default 127.0.0.1:6379/12). The harness
reads HLEN (distinct ids executed) and the sum of the values (executions): missing = N - HLEN,
duplicates = sum - HLEN. bench/chaos/ChaosTasks.java is the same task in Java.

Environment: CHAOS_BROKER, CHAOS_BACKEND (empty = no results), CHAOS_COUNT_REDIS.
"""
import os
import time

import redis
from celery import Celery

app = Celery('chaos', broker=os.environ.get('CHAOS_BROKER', 'amqp://guest:guest@127.0.0.1:5672/celerity-chaos'),
             backend=os.environ.get('CHAOS_BACKEND') or None)
app.conf.worker_hijack_root_logger = False
app.conf.enable_utc = True

_host, _, _rest = os.environ.get('CHAOS_COUNT_REDIS', '127.0.0.1:6379/12').partition(':')
_port, _, _db = _rest.partition('/')
_client = None


def _redis():
    global _client
    if _client is None:  # per process: prefork children and Celerity's Python children each get their own
        _client = redis.Redis(host=_host, port=int(_port), db=int(_db or 12))
    return _client


@app.task(name='chaos.mark', acks_late=True)
def mark(key, seq, sleep=0):
    if sleep:
        time.sleep(sleep)
    _redis().hincrby(key, seq, 1)
    return seq


@app.task(name='chaos.noop', ignore_result=True)
def noop():
    """The soak's task: nothing, so the worker's own memory is what is measured."""
    return None
