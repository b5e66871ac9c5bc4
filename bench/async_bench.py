#!/usr/bin/python3
"""Async tasks benchmark: N tasks that each wait 100 ms on I/O (a sleep, or a local HTTP server that answers
after 100 ms), on Celerity (Java tasks returning a Vert.x Future; Python `async def` tasks in -P process
children) and on Celery's prefork -c 2, threads -c 100 and gevent (when importable), in one run.

The HTTP server is bench/SlowHttp.java (Vert.x, from the jar).

Usage (through bench/async.sh): async_bench.py --jar JAR [--n 10000] [--py-n N] [--only sleep,http]
Results go to Redis db 12, or $BENCH_ASYNC_BACKEND (flushed before each measurement: never share it with another run); a measurement counts result keys every 50 ms
and times the first result to the N-th (start-up excluded). Parent CPU per task is the worker's main
process only (for Celerity: the JVM; its Python children are reported apart).
"""
import argparse
import json
import os
import shutil
import re
import subprocess
import sys
import tempfile
import time
import uuid

import redis
from celery import Celery

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (process bookkeeping and /proc sampling shared with bench/run.sh)

BROKER = 'amqp://guest:guest@127.0.0.1:5672/celerity-test'
BACKEND = os.environ.get('BENCH_ASYNC_BACKEND', 'redis://127.0.0.1:6379/12')  # flushed by each row: a db of its own
QUEUE_PREFIX = os.environ.get('BENCH_QUEUE_PREFIX', '')  # e.g. to tell parallel runs' queues apart
HTTP_PORT = int(os.environ.get('BENCH_ASYNC_HTTP_PORT', 18999))


def prefill(queue, task, n):
    app = Celery('prefill', broker=BROKER)
    with app.connection_for_write() as conn:
        with app.producer_or_acquire(app.amqp.Producer(conn)) as producer:
            for _ in range(n):
                app.send_task(task, (), queue=queue, producer=producer)
        conn.release()


def delete_queue(queue):
    app = Celery('cleanup', broker=BROKER)
    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_delete(queue)
        except Exception as e:  # noqa
            bench.log(f'could not delete {queue}: {e}')


def worker_command(args, kind, pool, conc, queue, port):
    if kind == 'ours-java':
        return [args.java] + args.java_opts.split() + ['-cp', args.jar + ':' + args.classes, 'io.celerity.cli.Main', 'worker',
                '-A', 'AsyncBenchTasks', '--without-examples', '-P', 'threads', '-c', str(conc), '--broker', BROKER,
                '--result-backend', BACKEND, '-Q', queue, '--http-port', str(port), '-l', 'WARNING']
    if kind == 'ours-py':
        child = f'{sys.executable} -m celerity_child -p {HERE} async_tasks'
        return [args.java] + args.java_opts.split() + ['-jar', args.jar, 'worker', '-P', 'process', '-c', str(conc),
                '--without-examples', '--broker', BROKER, '--result-backend', BACKEND, '-Q', queue,
                '--http-port', str(port), '-l', 'WARNING', '--child', child]
    return [sys.executable, '-m', 'celery', '-A', 'async_tasks', 'worker', '-P', pool, '-c', str(conc), '-Q', queue,
            '-l', 'WARNING', '--without-gossip', '--without-mingle', '--without-heartbeat', '-n', f'bench-{queue}@%h']


def failures(rres):
    """Results whose state is not SUCCESS (a failed wait is fast, and must not pass for throughput)."""
    keys = list(rres.scan_iter('celery-task-meta-*', count=1000))
    bad = 0
    for i in range(0, len(keys), 1000):
        for raw in rres.mget(keys[i:i + 1000]):
            if raw is not None and json.loads(raw).get('status') != 'SUCCESS':
                bad += 1
    return bad


def jit_seconds(pid):
    """CPU of the JVM's JIT compiler threads (C1/C2) alive now: a fixed warm-up cost of the JVM, not a
    per-task one, that a short or slow row spreads over its tasks (compiler threads that exited are
    missed, so this is a lower bound)."""
    try:
        return sum(v for k, v in bench.threads_cpu(pid).items() if 'CompilerThre' in k)
    except OSError:
        return 0.0


def measure(args, rres, row):
    kind, pool, conc, inflight, task, n = row['kind'], row['pool'], row['conc'], row['inflight'], row['task'], row['n']
    queue = QUEUE_PREFIX + 'bench-async-' + uuid.uuid4().hex[:8]
    rres.flushdb()
    warm = args.warm if kind.startswith('ours') else 0
    prefill(queue, task, n + warm)
    env = dict(os.environ, CELERITY_TEST_BROKER=BROKER, CELERITY_TEST_BACKEND=BACKEND,
               BENCH_HTTP=f'http://127.0.0.1:{HTTP_PORT}/', BENCH_HTTP_PORT=str(HTTP_PORT),
               CELERITY_ASYNC_CONCURRENCY=str(args.java_inflight), CELERITY_CHILD_ASYNC_CONCURRENCY=str(args.child_inflight))
    port = bench.free_port()
    logpath = os.path.join(args.workdir, f'{kind}-{pool}-{task}.log')
    w = bench.start_proc(worker_command(args, kind, pool, conc, queue, port), env=env, cwd=HERE, logpath=logpath,
                         desc=f'{kind} {pool}')
    try:
        first = None
        last, last_change = -1, time.monotonic()
        t_start = time.monotonic()
        while True:
            if w.poll() is not None:
                return dict(row, error=f'worker exited {w.returncode}; see {logpath}')
            done = rres.dbsize()
            now = time.monotonic()
            if done != last:
                last, last_change = done, now
            if first is None and done > warm:
                first = (now, done, bench.cpu_seconds([w.pid]), bench.cpu_seconds(bench.proc_tree(w.pid)),
                         jit_seconds(w.pid))
                threads0 = bench.threads_cpu(w.pid) if args.threads else None
            if done >= n + warm:
                parent = bench.cpu_seconds([w.pid]) - first[2]
                total = bench.cpu_seconds(bench.proc_tree(w.pid)) - first[3]
                window = n + warm - first[1]
                if threads0 is not None:
                    t1 = bench.threads_cpu(w.pid)
                    per = sorted(((t1[k] - threads0.get(k, 0.0), k) for k in t1), reverse=True)
                    bench.log('  parent threads, us per task: ' + ', '.join(
                        '%s %.0f' % (k, 1e6 * v / window) for v, k in per if v > 0))
                rate = window / (now - first[0]) if now > first[0] else float('nan')
                jit = jit_seconds(w.pid) - first[4] if kind.startswith('ours') else None
                out = dict(row, rate=rate, ideal=inflight / 0.1 if inflight else None, wall=now - first[0],
                            parent_us=parent / window * 1e6, total_us=total / window * 1e6)
                if jit is not None:
                    out['jit_us'] = jit / window * 1e6
                failed = failures(rres)
                if failed:
                    out['error'] = f'{failed} of {n + warm} not SUCCESS'
                return out
            if now - last_change > args.stall or now - t_start > args.timeout:
                partial = (done - first[1]) / (now - first[0]) if first and now > first[0] else None
                return dict(row, error=f'stalled at {done}/{n + warm}', rate=partial, ideal=inflight / 0.1 if inflight else None)
            time.sleep(0.05)
    finally:
        bench.stop_proc(w)
        delete_queue(queue)


def http_ceiling(args):
    row = dict(label='reference: Vert.x HttpClient straight to the server, no worker', kind='ref', pool='-', conc=0,
               inflight=args.java_inflight, n=args.n, wait='http')
    out = subprocess.run(['java', '-cp', args.jar, os.path.join(HERE, 'HttpCeiling.java'), str(args.n),
                          str(args.java_inflight), str(HTTP_PORT)], capture_output=True, text=True, timeout=300)
    try:
        row.update(rate=float(out.stdout.strip().rsplit(' ', 1)[1].rstrip('/s')), ideal=args.java_inflight / 0.1)
    except (IndexError, ValueError):
        row['error'] = 'no rate: ' + out.stderr[-200:]
    bench.log(f"http: {row['label']} -> {row.get('rate') or 0:.0f} req/s")
    return row


def render(args, rows, elapsed):
    out = ['# Async tasks: 10,000 waits of 100 ms on I/O, Celerity vs Celery', '',
           f'Command: `{args.cmdline}`; {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; run took {elapsed:.0f} s.',
           f'Results stored in Redis ({BACKEND}) by every worker; rate = tasks from the first result to the last / time.',
           (f'Celerity rows after {args.warm} warm-up tasks of the same kind (not counted). ' if args.warm else '')
           + 'Ideal = tasks in flight / 0.1 s. Parent CPU = the worker\'s main process per task; total = with its children;',
           'of which JIT = the JVM\'s C1/C2 compiler threads in the same window (warm-up, not per-task work).',
           '']
    for task_kind in ('sleep', 'http'):
        sel = [r for r in rows if r['wait'] == task_kind]
        if not sel:
            continue
        out += [f'## {task_kind}', '',
                '| worker | tasks in flight | n | tasks/s | % of ideal | vs Celery prefork -c 2 | parent CPU µs/task | of which JIT | total CPU µs/task |',
                '|---|---|---|---|---|---|---|---|---|']
        base = next((r.get('rate') for r in sel if r['pool'] == 'prefork' and r['kind'] == 'celery'), None)
        if base is None:
            base = next((r.get('rate') for r in rows if r['pool'] == 'prefork' and r['kind'] == 'celery'), None)
        for r in sel:
            rate = r.get('rate')
            note = f" ({r['error']})" if r.get('error') else ''
            out.append('| {} | {} | {} | {} | {} | {} | {} | {} | {} |'.format(
                r['label'] + note, r['inflight'] or '—', r['n'], f'{rate:.0f}' if rate else '—',
                f"{100 * rate / r['ideal']:.0f}%" if rate and r['ideal'] else '—',
                f'{rate / base:.0f}x' if rate and base else '—',
                f"{r['parent_us']:.0f}" if 'parent_us' in r else '—', f"{r['jit_us']:.0f}" if 'jit_us' in r else '—',
                f"{r['total_us']:.0f}" if 'total_us' in r else '—'))
        out.append('')
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--jar', required=True)
    ap.add_argument('--n', type=int, default=int(os.environ.get('BENCH_N', 10000)))
    ap.add_argument('--prefork-n', type=int, default=300, help='tasks for Celery prefork -c 2 (20 tasks/s at best)')
    ap.add_argument('--threads-n', type=int, default=3000, help='tasks for Celery threads -c 100 (1000 tasks/s at best)')
    ap.add_argument('--gevent-n', type=int, default=3000, help='tasks for Celery gevent -c 1000')
    ap.add_argument('--java-inflight', type=int, default=1000)
    ap.add_argument('--child-inflight', type=int, default=100)
    ap.add_argument('--only', default='sleep,http')
    ap.add_argument('--warm', type=int, default=0,
                    help="Celerity rows: the worker first runs this many tasks, not counted (steady state, JIT done)")
    ap.add_argument('--rows', help='regex on row labels: only those rows (e.g. "Python async" for a quick A/B)')
    ap.add_argument('--threads', action='store_true', help="log the worker's CPU per task by thread (load-insensitive)")
    ap.add_argument('--java-opts', default=os.environ.get('BENCH_JAVA_OPTS', ''))
    ap.add_argument('--java', default=os.environ.get('BENCH_JAVA', 'java'), help="the java of Celerity's workers (e.g. a Java 25)")
    ap.add_argument('--stall', type=float, default=30)
    ap.add_argument('--timeout', type=float, default=120)
    ap.add_argument('--out')
    ap.add_argument('--state-file')
    ap.add_argument('--cmdline', default=' '.join(sys.argv))
    args = ap.parse_args()
    bench.STATE_FILE = args.state_file
    import signal
    signal.signal(signal.SIGTERM, bench.on_signal)
    signal.signal(signal.SIGINT, bench.on_signal)
    args.workdir = tempfile.mkdtemp(prefix='celerity-async-bench-')
    args.classes = os.path.join(args.workdir, 'classes')
    subprocess.run(['javac', '-d', args.classes, '-cp', args.jar, os.path.join(HERE, 'AsyncBenchTasks.java')], check=True)
    try:
        import gevent  # noqa: F401
        gevent_ok = True
    except ImportError:
        gevent_ok = False
    t0 = time.monotonic()
    rows = []
    rres = redis.Redis.from_url(BACKEND)
    server = bench.start_proc(['java', '-cp', args.jar, os.path.join(HERE, 'SlowHttp.java'), str(HTTP_PORT)],
                              logpath=os.path.join(args.workdir, 'http.log'), desc='slow http')
    try:
        deadline = time.monotonic() + 60
        while 'ready' not in open(os.path.join(args.workdir, 'http.log')).read():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit('the HTTP server did not start: see ' + os.path.join(args.workdir, 'http.log'))
            time.sleep(0.2)
        for wait in args.only.split(','):
            a, s = ('bench.asleep', 'bench.ssleep') if wait == 'sleep' else ('bench.ahttp', 'bench.shttp')
            j = 'bench.jsleep' if wait == 'sleep' else 'bench.jhttp'
            plan = [dict(label='Celerity, Java async (-P threads -c 2, async_concurrency %d)' % args.java_inflight,
                         kind='ours-java', pool='threads', conc=2, inflight=args.java_inflight, task=j, n=args.n),
                    dict(label='Celerity, Python async def (-P process -c 2, child_async_concurrency %d)' % args.child_inflight,
                         kind='ours-py', pool='process', conc=2, inflight=2 * args.child_inflight, task=a, n=args.n),
                    dict(label='Celery prefork -c 2', kind='celery', pool='prefork', conc=2, inflight=2, task=s,
                         n=args.prefork_n),
                    dict(label='Celery threads -c 100', kind='celery', pool='threads', conc=100, inflight=100, task=s,
                         n=args.threads_n)]
            if wait == 'sleep':  # the worker's per-task ceiling on this machine now: no wait at all
                plan.insert(0, dict(label='reference: Celerity, Java no-op sync task (-P threads -c 2), no wait',
                                    kind='ours-java', pool='threads', conc=2, inflight=None, task='bench.jnoop', n=args.n))
            if gevent_ok:
                plan.append(dict(label='Celery gevent -c 1000', kind='celery', pool='gevent', conc=1000, inflight=1000,
                                 task=s, n=args.gevent_n))
            if wait == 'http':  # the client and server alone, no worker: what the machine allows now
                rows.append(http_ceiling(args))
            for row in plan:
                if args.rows and not re.search(args.rows, row['label']):
                    continue
                row['wait'] = wait
                bench.log(f"{wait}: {row['label']}, n={row['n']}")
                r = measure(args, rres, row)
                bench.log(f"  -> {r.get('rate') or 0:.0f} tasks/s {r.get('error', '')}")
                rows.append(r)
    except KeyboardInterrupt:
        bench.cleanup_all()
        raise SystemExit(130)
    finally:
        bench.cleanup_all()
        rres.flushdb()
    report = render(args, rows, time.monotonic() - t0)
    if not gevent_ok:
        report += '\ngevent: not importable for /usr/bin/python3 (python3-gevent not installed), so not measured.\n'
    print(report)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(report)
        bench.log(f'saved {args.out}; logs in {args.workdir}')
    shutil.rmtree(args.classes, ignore_errors=True)


if __name__ == '__main__':
    main()
