#!/usr/bin/python3
"""Java client vs Python Celery's client, in the same run, on the same broker (bench/client/run.sh).

Measures, for each client:
  publish rate with publisher confirms (Python: broker_transport_options confirm_publish=True, which waits
  for each confirm; Java: sendAsync with up to 256 unconfirmed, and blocking send() one confirm at a time);
  Python's default publish without confirms, for reference;
  round-trip latency: sequential send_task('examples.add').get() against one Celerity worker (Redis results),
  the same worker for both clients, so the difference is the client's.
Prints a Markdown table and saves it to bench/results/client_<date>.md.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import amqp
from celery import Celery

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BROKER = 'amqp://guest:guest@127.0.0.1:5672/celerity-test'
BACKEND = 'redis://127.0.0.1:6379/12'
STARTED = []
STATE_FILE = None


def log(msg):
    print(f'[client-bench] {msg}', file=sys.stderr, flush=True)


def record(p):
    STARTED.append(p)
    if STATE_FILE:
        with open(STATE_FILE, 'w') as f:
            f.write('\n'.join(str(x.pid) for x in STARTED) + '\n')


def stop_all():
    for p in STARTED:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(15)
            except Exception:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def delete_queue(q):
    try:
        c = amqp.Connection('127.0.0.1:5672', userid='guest', password='guest', virtual_host='celerity-test')
        c.connect()
        ch = c.channel()
        ch.queue_delete(q)
        try:
            ch.exchange_delete(q)
        except Exception:
            pass
        c.close()
    except Exception as e:
        log(f'could not delete {q}: {e}')


def java(args, mode, n, queue, backend=None):
    cmd = ['java', '-cp', args.jar, os.path.join(HERE, 'ClientBench.java'), mode, str(n), queue, BROKER]
    if backend:
        cmd.append(backend)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True)
    record(p)
    out, err = p.communicate(timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f'ClientBench {mode} failed: {err[-2000:]}')
    return json.loads(out.strip().splitlines()[-1])


def py_app(confirm, backend=None):
    app = Celery('bench', broker=BROKER, backend=backend)
    if confirm:
        app.conf.broker_transport_options = {'confirm_publish': True}
    return app


def py_publish(n, queue, confirm):
    app = py_app(confirm)
    for i in range(min(n, 500)):
        app.send_task('examples.add', (i, i), queue=queue)
    t0 = time.perf_counter()
    for i in range(n):
        app.send_task('examples.add', (i, i), queue=queue)
    s = time.perf_counter() - t0
    return {'client': 'python', 'mode': 'publish-confirm' if confirm else 'publish-noconfirm', 'n': n, 'seconds': s,
            'rate': n / s}


def py_latency(n, queue):
    app = py_app(False, BACKEND)
    for i in range(min(n, 50)):
        app.send_task('examples.add', (i, i), queue=queue).get(timeout=30)
    ms = []
    for i in range(n):
        t = time.perf_counter()
        app.send_task('examples.add', (i, i), queue=queue).get(timeout=30)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    return {'client': 'python', 'mode': 'latency', 'n': n, 'p50': ms[len(ms) // 2], 'p90': ms[int(len(ms) * .9)],
            'p99': ms[int(len(ms) * .99)]}


def start_worker(args, queue):
    cmd = ['java', '-jar', args.jar, 'worker', '-b', BROKER, '--result-backend', BACKEND, '-Q', queue, '-c', '2',
           '-l', 'WARNING', '--http-port', '0', '-n', f'clientbench-{queue}@localhost']
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    record(p)
    app = py_app(False, BACKEND)
    deadline = time.time() + 120
    while True:
        try:
            app.send_task('examples.add', (1, 1), queue=queue).get(timeout=5)
            return p
        except Exception:
            if time.time() > deadline or p.poll() is not None:
                raise RuntimeError('Celerity worker did not come up')


def main():
    global STATE_FILE
    ap = argparse.ArgumentParser()
    ap.add_argument('--jar', default=os.path.join(ROOT, 'target', 'celerity.jar'))
    ap.add_argument('--n', type=int, default=int(os.environ.get('BENCH_CLIENT_N', 5000)))
    ap.add_argument('--lat-n', type=int, default=int(os.environ.get('BENCH_CLIENT_LAT_N', 300)))
    ap.add_argument('--state-file')
    ap.add_argument('--out')
    args = ap.parse_args()
    STATE_FILE = args.state_file
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    rows = []
    pub_q = 'bench-client-pub-' + uuid.uuid4().hex[:8]
    lat_q = 'bench-client-lat-' + uuid.uuid4().hex[:8]
    try:
        log(f'publish rate, {args.n} tasks each, to an unconsumed queue')
        rows.append(py_publish(args.n, pub_q, confirm=True))
        rows.append(java(args, 'publish', args.n, pub_q))
        rows.append(java(args, 'publish-sync', args.n, pub_q))
        rows.append(py_publish(args.n, pub_q, confirm=False))
        delete_queue(pub_q)
        log(f'round trip, {args.lat_n} sequential calls each, one Celerity worker')
        start_worker(args, lat_q)
        rows.append(py_latency(args.lat_n, lat_q))
        rows.append(java(args, 'latency', args.lat_n, lat_q, BACKEND))
    finally:
        stop_all()
        delete_queue(pub_q)
        delete_queue(lat_q)
    report(args, rows)


def report(args, rows):
    by = {(r['client'], r['mode']): r for r in rows}
    py_c = by[('python', 'publish-confirm')]['rate']
    lines = [f'# Client benchmark {time.strftime("%Y-%m-%d %H:%M:%S")}', '',
             f'`bench/client/run.sh --n {args.n} --lat-n {args.lat_n}`; RabbitMQ {BROKER.split("@")[1]}, Redis results; '
             f'load average at the end {os.getloadavg()[0]:.1f}', '',
             '| client | measurement | tasks/s | vs Python with confirms |', '|---|---|---:|---:|']
    names = {('python', 'publish-confirm'): 'Python `send_task`, confirm_publish (one confirm at a time)',
             ('java', 'publish'): 'Java `sendAsync`, confirms, 256 in flight',
             ('java', 'publish-sync'): 'Java `send`, blocking, one confirm at a time',
             ('python', 'publish-noconfirm'): 'Python `send_task`, default (no confirms)'}
    for k, label in names.items():
        r = by[k]
        lines.append(f'| {k[0]} | {label} | {r["rate"]:.0f} | {r["rate"] / py_c:.2f}x |')
    pl, jl = by[('python', 'latency')], by[('java', 'latency')]
    lines += ['', '| round trip (`send(...).get()`, same Celerity worker) | p50 ms | p90 ms | p99 ms |', '|---|---:|---:|---:|',
              f'| Python client | {pl["p50"]:.2f} | {pl["p90"]:.2f} | {pl["p99"]:.2f} |',
              f'| Java client | {jl["p50"]:.2f} | {jl["p90"]:.2f} | {jl["p99"]:.2f} |',
              f'| Java / Python | {jl["p50"] / pl["p50"]:.2f} | {jl["p90"] / pl["p90"]:.2f} | {jl["p99"] / pl["p99"]:.2f} |']
    text = '\n'.join(lines) + '\n'
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
