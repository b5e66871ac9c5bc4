#!/usr/bin/python3
"""Round trip by window of calls: how a worker's latency settles as its JIT warms up.

    /usr/bin/python3 bench/latency_curve.py QUEUE N [--window 1000] [--pid PID]

Start the worker on QUEUE first (RabbitMQ vhost celerity-test, results in Redis db 12). N sequential
send_task('examples.add').get() calls; after each window it prints the window's p50 and, with --pid, the
CPU (ms) each of that process's thread groups used during the window, from /proc/PID/task/*/stat
(e.g. "vert.x-eventloo=420 C2 CompilerThre=360": the loops' work and the JIT's).
"""
import argparse
import collections
import glob
import os
import re
import time

from celery import Celery


def thread_cpu_ms(pid):
    tick = os.sysconf('SC_CLK_TCK')
    cpu = collections.Counter()
    for task in glob.glob(f'/proc/{pid}/task/*'):
        try:
            name = open(task + '/comm').read().strip()
            fields = open(task + '/stat').read().rsplit(')', 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        cpu[re.sub(r'[-#]?\d+$', '', name)] += (int(fields[11]) + int(fields[12])) * 1000 / tick
    return cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('queue')
    ap.add_argument('n', type=int)
    ap.add_argument('--window', type=int, default=1000)
    ap.add_argument('--pid', help='the worker process whose thread CPU to print per window')
    ap.add_argument('--broker', default='amqp://guest:guest@127.0.0.1:5672/celerity-test')
    ap.add_argument('--backend', default='redis://127.0.0.1:6379/12')
    args = ap.parse_args()
    app = Celery('latency-curve', broker=args.broker, backend=args.backend)
    with app.producer_or_acquire() as producer:
        window, before = [], thread_cpu_ms(args.pid) if args.pid else None
        for i in range(args.n):
            t = time.perf_counter()
            r = app.send_task('examples.add', (i, i), queue=args.queue, producer=producer)
            r.get(timeout=10)
            r.forget()
            window.append((time.perf_counter() - t) * 1000)
            if len(window) == args.window:
                window.sort()
                line = f'calls {i + 2 - args.window}-{i + 1}: p50 {window[len(window) // 2]:.2f} ms'
                if args.pid:
                    after = thread_cpu_ms(args.pid)
                    used = {k: after[k] - before[k] for k in after if after[k] - before[k] > 0}
                    line += '  ' + ' '.join(f'{k}={v:.0f}' for k, v in sorted(used.items(), key=lambda x: -x[1]))
                    before = after
                print(line, flush=True)
                window = []


if __name__ == '__main__':
    main()
