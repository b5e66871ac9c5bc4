#!/usr/bin/python3
"""Steady-state round trip: N sequential send_task('examples.add').get() calls, percentiles of the second half.

    /usr/bin/python3 bench/latency_warm.py QUEUE N [BROKER] [BACKEND]

bench/run.sh measures 500 calls after 20 warm-up calls, which on the JVM includes JIT warm-up;
this measures a warm worker (start the worker on QUEUE first).
"""
import sys
import time

from celery import Celery

q, n = sys.argv[1], int(sys.argv[2])
broker = sys.argv[3] if len(sys.argv) > 3 else 'amqp://guest:guest@127.0.0.1:5672/celerity-test'
backend = sys.argv[4] if len(sys.argv) > 4 else 'redis://127.0.0.1:6379/12'
app = Celery('latency', broker=broker, backend=backend)
ts = []
for i in range(n):
    t = time.perf_counter()
    app.send_task('examples.add', (i, i), queue=q).get(timeout=10)
    ts.append((time.perf_counter() - t) * 1000)
ts = sorted(ts[n // 2:])
print('p50 %.2f ms  p90 %.2f ms  p99 %.2f ms' % (ts[len(ts) // 2], ts[int(len(ts) * .9)], ts[int(len(ts) * .99)]))
