#!/usr/bin/python3
"""Drain rate of Python tasks in `-P process` children: N examples.add messages, prefilled, then timed.

Usage: /usr/bin/python3 bench/py_child_drain.py [--jar target/celerity.jar] [--runner PATH] [--n 3000]
                                                [--concurrency 2] [--results on|off]

--runner runs that copy of celerity_child.py (e.g. an older one, to compare) instead of the one in the jar.
Prints one line: tasks/s and µs of wall time per task per child, measured from the first finished task to the
last (start-up excluded), polling the worker's /control/stats (pool.writes: succeeded + failed) every 100 ms;
then the CPU time per task (utime+stime from /proc, load-insensitive) of the parent JVM and of its children
over the same window.
RabbitMQ vhost celerity-test; results in Redis db 12 or $BENCH_PY_BACKEND (not flushed; keys expire as usual);
queue names start with $BENCH_QUEUE_PREFIX when set.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (/proc sampling shared with bench/run.sh)
BROKER = 'amqp://guest:guest@127.0.0.1:5672/celerity-test'
BACKEND = os.environ.get('BENCH_PY_BACKEND', 'redis://127.0.0.1:6379/12')  # another db when runs share Redis
QUEUE_PREFIX = os.environ.get('BENCH_QUEUE_PREFIX', '')  # e.g. to tell parallel runs' queues apart


def stats(port):
    with urllib.request.urlopen('http://127.0.0.1:%d/control/stats' % port, timeout=5) as r:
        node = next(iter(json.load(r).values()))
    w = node['pool']['writes']
    return w['succeeded'] + w['failed']


def cpu_seconds(pid):
    """utime+stime of one process, seconds."""
    with open('/proc/%d/stat' % pid) as fh:
        fields = fh.read().rpartition(')')[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def children_of(pid):
    out = []
    for task in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/children' % (pid, task)) as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def cpu(pid):
    """(parent CPU s, children CPU s) of the worker; children that are gone are not counted."""
    kids = 0.0
    for c in children_of(pid):
        try:
            kids += cpu_seconds(c)
        except OSError:
            pass
    return cpu_seconds(pid), kids


def children_threads(pid):
    """The children's main threads and their other threads: {'main'|'other': [CPU s, voluntary, involuntary
    context switches]} (threads that are gone are not counted)."""
    out = {'main': [0.0, 0, 0], 'other': [0.0, 0, 0]}
    for c in children_of(pid):
        try:
            tids = os.listdir('/proc/%d/task' % c)
        except OSError:
            continue
        for tid in tids:
            try:
                with open('/proc/%d/task/%s/stat' % (c, tid)) as fh:
                    f = fh.read().rpartition(')')[2].split()
                with open('/proc/%d/task/%s/status' % (c, tid)) as fh:
                    cs = {l.split(':')[0]: int(l.split()[1]) for l in fh if 'ctxt_switches' in l}
            except OSError:
                continue
            g = out['main' if int(tid) == c else 'other']
            g[0] += (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
            g[1] += cs.get('voluntary_ctxt_switches', 0)
            g[2] += cs.get('nonvoluntary_ctxt_switches', 0)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--jar', default=os.path.join(HERE, '..', 'target', 'celerity.jar'))
    p.add_argument('--runner')
    p.add_argument('--n', type=int, default=3000)
    p.add_argument('--concurrency', type=int, default=2)
    p.add_argument('--results', default='on', choices=['on', 'off'])
    p.add_argument('--threads', action='store_true', help="also the parent's CPU per task by thread")
    p.add_argument('--skip', type=int, default=0,
                   help='measure from the SKIP-th finished task on (a warm worker: the JIT has compiled)')
    p.add_argument('--java-opts', default='', help='JVM options of the worker, e.g. a JFR recording')
    a = p.parse_args()
    queue = QUEUE_PREFIX + 'bench-pychild-' + uuid.uuid4().hex[:8]
    port = bench.free_port()  # a fixed one collided with other runs' workers
    subprocess.run([sys.executable, os.path.join(HERE, 'prefill.py'), BROKER, queue, str(a.n)]
                   + (['--ignore-result'] if a.results == 'off' else []), check=True)
    runner = [sys.executable, a.runner] if a.runner else [sys.executable, '-m', 'celerity_child']
    child = ' '.join(runner + ['-p', HERE, 'py_tasks'])
    env = dict(os.environ, CELERITY_TEST_BROKER=BROKER)
    if a.results == 'on':
        env['CELERITY_TEST_BACKEND'] = BACKEND
    cmd = ['java'] + a.java_opts.split() + ['-jar', a.jar, 'worker', '-P', 'process', '-c', str(a.concurrency), '--without-examples',
           '--broker', BROKER, '--result-backend', BACKEND if a.results == 'on' else 'disabled', '-Q', queue,
           '--http-port', str(port), '-l', 'WARNING', '--child', child]
    worker = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    try:
        first = None
        deadline = time.time() + 300
        while time.time() < deadline:
            time.sleep(0.1)
            if worker.poll() is not None:
                print('the worker exited (%d)' % worker.returncode, file=sys.stderr)
                return 1
            try:
                done = stats(port)
            except OSError:
                continue
            if done > a.skip and first is None:
                first, first_done = time.time(), done
                cpu0 = cpu(worker.pid)
                th0 = bench.threads_cpu(worker.pid)
                ch0 = children_threads(worker.pid)
            if done >= a.n:
                elapsed = time.time() - first
                cpu1 = cpu(worker.pid)
                th1 = bench.threads_cpu(worker.pid)
                ch1 = children_threads(worker.pid)
                rate = (done - first_done) / elapsed
                tasks = done - first_done
                with open('/proc/loadavg') as fh:
                    load = fh.read().split()[0]
                print('%s results=%s n=%d skip=%d -c %d: %.0f tasks/s, %.0f us per task per child; CPU per task: parent %.0f us,'
                      ' children %.0f us; load %s' % (
                          a.runner or 'celerity_child (jar)', a.results, a.n, a.skip, a.concurrency, rate,
                          1e6 * a.concurrency / rate, 1e6 * (cpu1[0] - cpu0[0]) / tasks,
                          1e6 * (cpu1[1] - cpu0[1]) / tasks, load))
                if a.threads:
                    per = sorted(((th1[k] - th0.get(k, 0.0), k) for k in th1), reverse=True)
                    print('  parent threads, us per task: ' + ', '.join(
                        '%s %.0f' % (k, 1e6 * v / tasks) for v, k in per if v > 0))
                    print('  children, per task: ' + ', '.join(
                        '%s threads %.0f us CPU, %.2f voluntary + %.2f involuntary context switches' % (
                            k, 1e6 * (ch1[k][0] - ch0[k][0]) / tasks, (ch1[k][1] - ch0[k][1]) / tasks,
                            (ch1[k][2] - ch0[k][2]) / tasks) for k in ('main', 'other')))
                return 0
        print('timed out', file=sys.stderr)
        return 1
    finally:
        worker.terminate()
        worker.wait(30)
        subprocess.run([sys.executable, '-c', 'from kombu import Connection; c=Connection(%r); c.default_channel.queue_delete(%r)'
                        % (BROKER, queue)], check=False)


if __name__ == '__main__':
    sys.exit(main())
