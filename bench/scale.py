#!/usr/bin/python3
"""Many workers on one RabbitMQ: 1, 2, 4, 8 worker processes (Celerity, Celery 5.2, or half and half)
drain one queue; reports aggregate tasks/s, tasks per worker (fairness) and the broker's CPU.

Run through bench/scale.sh (cleans up whatever is left on exit). Method, per fleet:
  1. start K workers on a fresh queue, wait until the broker shows K consumers;
  2. `cancel_consumer` to every worker (one broadcast), prefill N `examples.add` (results off);
  3. `add_consumer` to every worker (one broadcast: they start together); time until the queue is
     empty and every worker's count adds up to N; steps 2-3 run first with min(1000, N) tasks as a
     warm-up (JIT, connections), and the second drain is the one reported;
  4. per-worker counts from remote-control `stats` (`total`), broker CPU from /proc (the RabbitMQ
     beam.smp of user rabbitmq) over the drain.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the harness's worker, /proc and cleanup helpers)
from bench import AMQP_URL, Broker, Worker, cpu_seconds, log  # noqa: E402


class FleetWorker(Worker):
    """A bench worker with a node name of its own (the harness's is one per kind)."""

    def __init__(self, index, *a, **kw):
        super().__init__(*a, **kw)
        self.index = index

    @property
    def node(self):
        return f'{"cel" if self.kind == "ours" else "py"}{self.index}@localhost'


def broker_pids():
    out = subprocess.run(['pgrep', '-u', 'rabbitmq', 'beam.smp'], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def broadcast(method, queue, nodes):
    """Remote control to every node; those that did not reply in time (a loaded machine) are asked again."""
    from celery import Celery
    app = Celery('scale-control', broker=AMQP_URL)
    missing = list(nodes)
    try:
        for _ in range(3):
            replies = app.control.broadcast(method, arguments={'queue': queue}, destination=missing, reply=True,
                                            timeout=10, limit=len(missing))
            replied = {n for r in replies for n in r}
            missing = [n for n in missing if n not in replied]
            if not missing:
                return
    finally:
        app.close()
    raise RuntimeError(f'{method}: no reply from {missing}')


def task_counts(nodes):
    from celery import Celery
    app = Celery('scale-control', broker=AMQP_URL)
    try:
        stats = app.control.inspect(destination=nodes, timeout=10, limit=len(nodes)).stats() or {}
    finally:
        app.close()
    return {n: sum((stats.get(n) or {}).get('total', {}).values()) for n in nodes}


def drain(args, broker, queue, nodes, n):
    """Pause every consumer, prefill n, resume them all at once; time until all n are done."""
    broadcast('cancel_consumer', queue, nodes)
    while (broker.depth(queue) or (0, 1))[1] > 0:
        time.sleep(0.1)
    pids = broker_pids()
    cpu_p = cpu_seconds(pids)
    bench.prefill(AMQP_URL, queue, n, True)  # one Celery producer, publisher confirms off (kombu's default)
    publish_cpu = cpu_seconds(pids) - cpu_p
    before = task_counts(nodes)
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    broadcast('add_consumer', queue, nodes)
    deadline = time.monotonic() + args.timeout
    while True:
        ready = broker.depth(queue)[0]
        if ready == 0:
            counts = task_counts(nodes)
            if sum(counts[x] - before[x] for x in nodes) >= n:
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f'not drained in {args.timeout}s')
        time.sleep(0.05 if ready else 0.2)
    t1, cpu1 = time.monotonic(), cpu_seconds(pids)
    per = sorted(counts[x] - before[x] for x in nodes)
    ours = sum(counts[x] - before[x] for x in nodes if x.startswith('cel'))
    secs = t1 - t0
    return {'tasks_s': n / secs, 'secs': secs, 'per': per, 'broker_cores': (cpu1 - cpu0) / secs, 'ours': ours / n,
            'consume_us': (cpu1 - cpu0) / n * 1e6, 'publish_us': publish_cpu / n * 1e6}


def fleet(args, broker, kinds, workdir):
    queue = f'bench-scale-{uuid.uuid4().hex[:8]}'
    bench.CREATED_QUEUES.add(queue)
    # Celery 5.2's threads pool drains at about 15 tasks/s here: its default, prefork, is what fleets run
    workers = [FleetWorker(i, kind, 'threads' if kind == 'ours' else 'prefork', args.concurrency, AMQP_URL, None, queue,
                           args, workdir) for i, kind in enumerate(kinds, 1)]
    try:
        for w in workers:
            w.start()
        deadline = time.monotonic() + 180
        while (broker.depth(queue) or (0, 0))[1] < len(workers):
            if time.monotonic() > deadline:
                raise RuntimeError(f'fleet not consuming: {[w.log_tail(2) for w in workers]}')
            time.sleep(0.2)
        nodes = [w.node for w in workers]
        drain(args, broker, queue, nodes, min(1000, args.n))  # warm-up: JIT, connections, prefetch windows
        return drain(args, broker, queue, nodes, args.n)
    finally:
        for w in workers:
            w.stop()
        broker.delete(queue)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=int(os.environ.get('SCALE_N', 4000)), help='tasks per drain')
    p.add_argument('--sizes', default=os.environ.get('SCALE_SIZES', '1,2,4,8'))
    p.add_argument('--kinds', default=os.environ.get('SCALE_KINDS', 'ours,py,mixed'))
    p.add_argument('--concurrency', type=int, default=2,
                   help='-c of every worker (Celerity -P threads, Celery -P prefork)')
    p.add_argument('--timeout', type=float, default=300)
    p.add_argument('--jar', default=os.environ.get('BENCH_JAR', 'target/celerity.jar'))
    p.add_argument('--java-opts', default=os.environ.get('BENCH_JAVA_OPTS', '-Xmx256m -XX:+UseSerialGC'))
    p.add_argument('--state-file', default=None)
    args = p.parse_args()
    args.jar = os.path.abspath(args.jar)
    bench.STATE_FILE = args.state_file
    workdir = tempfile.mkdtemp(prefix='celerity-scale-')
    broker = Broker()
    rows = []
    try:
        for kind in args.kinds.split(','):
            for k in (int(s) for s in args.sizes.split(',')):
                kinds = {'ours': ['ours'] * k, 'py': ['py'] * k,
                         'mixed': [('ours' if i % 2 == 0 else 'py') for i in range(k)]}[kind]
                if kind == 'mixed' and k == 1:
                    continue
                log(f'{kind} x{k}: draining {args.n}')
                try:
                    r = fleet(args, broker, kinds, workdir)
                except Exception as e:  # noqa
                    log(f'{kind} x{k} failed: {e}')
                    rows.append((kind, k, None))
                    continue
                log(f'{kind} x{k}: {r["tasks_s"]:.0f} tasks/s, per worker {r["per"]}, broker {r["broker_cores"]:.2f} cores')
                rows.append((kind, k, r))
    finally:
        broker.close()
        bench.cleanup_all()
    print(f'\nScale: {args.n} examples.add per drain (results off), Celerity -P threads / Celery -P prefork,'
          f' -c {args.concurrency} each,'
          f' one RabbitMQ 3.10 node; {os.cpu_count()} cores shared by workers, broker and harness.\n')
    print('| fleet | workers | tasks/s | tasks per worker (min..max) | max/min | Celerity share | broker CPU (cores) |'
          ' tasks/s per broker core | broker µs/task: deliver+ack | publish |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for kind, k, r in rows:
        name = {'ours': 'Celerity', 'py': 'Celery 5.2', 'mixed': 'mixed (half each)'}[kind]
        if r is None:
            print(f'| {name} | {k} | failed | | | | | | | |')
            continue
        per = r['per']
        spread = f'{per[-1] / per[0]:.2f}' if per[0] else 'inf'
        per_core = r['tasks_s'] / r['broker_cores'] if r['broker_cores'] > 0 else float('nan')
        print(f'| {name} | {k} | {r["tasks_s"]:.0f} | {per[0]}..{per[-1]} | {spread} | {r["ours"]:.0%} |'
              f' {r["broker_cores"]:.2f} | {per_core:.0f} | {r["consume_us"]:.0f} | {r["publish_us"]:.0f} |')


if __name__ == '__main__':
    main()
