"""Tasks of the async benchmark (bench/async.sh): each waits 100 ms on I/O, a sleep or a local HTTP call.

`bench.a*` are `async def` (Celerity's -P process children run them on asyncio); `bench.s*` are the
same waits written for Celery's pools (prefork, threads, gevent), which cannot run `async def`.
"""
import asyncio
import os
import time
import urllib.request

from celery import Celery

app = Celery('async_bench')
app.conf.broker_url = os.environ.get('CELERITY_TEST_BROKER', 'amqp://guest:guest@127.0.0.1:5672/celerity-test')
app.conf.result_backend = os.environ.get('CELERITY_TEST_BACKEND')
app.conf.worker_hijack_root_logger = False
HTTP = os.environ.get('BENCH_HTTP', 'http://127.0.0.1:18999/')


@app.task(name='bench.asleep')
async def asleep():
    await asyncio.sleep(0.1)
    return 1


@app.task(name='bench.ahttp')
async def ahttp():
    host, port = HTTP.split('//')[1].rstrip('/').split(':')
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n')
    body = await reader.read()
    writer.close()
    return len(body)


@app.task(name='bench.ssleep')
def ssleep():
    time.sleep(0.1)
    return 1


@app.task(name='bench.shttp')
def shttp():
    with urllib.request.urlopen(HTTP, timeout=30) as r:
        return len(r.read())
