#!/usr/bin/python3
"""Training run for a class-data-sharing archive / AOT cache: a worker drains N examples.add and exits.

    /usr/bin/python3 bench/train_cache.py [--n 20000] [--jar target/celerity.jar] -- JAVA [JVM FLAGS...]

e.g. `-- java -XX:ArchiveClassesAtExit=/tmp/celerity.jsa` (JDK 17 AppCDS, dynamic archive) or
`-- /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -XX:AOTCacheOutput=/tmp/celerity.aot` (JDK 25 AOT cache,
classes + method profiles). The queue is prefilled first so the worker starts on a full queue, as in the
cold drain of bench.py; the worker gets SIGTERM (warm shutdown) once all N are done, so the JVM writes
the archive at exit. RabbitMQ at 127.0.0.1:5672, vhost celerity-test (or `--broker redis`: Redis db 13);
results off.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import amqp

HERE = os.path.dirname(os.path.abspath(__file__))
AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672/celerity-test'
REDIS_URL = 'redis://127.0.0.1:6379/13'
RESULTS_URL = 'redis://127.0.0.1:6379/12'


def print_thread_cpu(pid):
    clk = os.sysconf('SC_CLK_TCK')
    groups = {}
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/stat') as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index('(') + 1:s.rindex(')')]
        fields = s[s.rindex(')') + 2:].split()
        user, system = int(fields[11]) / clk, int(fields[12]) / clk
        key = name.rstrip('0123456789-').strip() or name
        switches, writes = 0, 0
        try:
            with open(f'/proc/{pid}/task/{tid}/status') as f:
                switches = sum(int(line.split()[1]) for line in f if 'ctxt_switches' in line)
            with open(f'/proc/{pid}/task/{tid}/io') as f:
                writes = sum(int(line.split()[1]) for line in f if line.startswith('syscw'))
        except OSError:
            pass
        u, s_, c, w = groups.get(key, (0, 0, 0, 0))
        groups[key] = (u + user, s_ + system, c + switches, w + writes)
    total = sum(g[0] + g[1] for g in groups.values())
    print(f'thread CPU s (total {total:.1f}; user + system; context switches; write syscalls):', file=sys.stderr)
    for k, (u, s_, c, w) in sorted(groups.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
        if u + s_ >= 0.05:
            print(f'  {u + s_:6.2f}  {100 * (u + s_) / total:4.0f}%  ({u:.2f} + {s_:.2f})  {c:8d} cs  {w:8d} w  {k}',
                  file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=20000)
    ap.add_argument('--jar', default=os.path.join(os.path.dirname(HERE), 'target', 'celerity.jar'))
    ap.add_argument('--timeout', type=float, default=300)
    ap.add_argument('--thread-cpu', action='store_true',
                    help='print the CPU seconds of the worker JVM threads by name (JIT compiler threads, GC, '
                         'event loops, pool) once the queue is drained: where a cold drain spends its CPU')
    ap.add_argument('--payload', type=int, help='examples.echo of a string this long instead of examples.add')
    ap.add_argument('--broker', choices=['amqp', 'redis'], default='amqp')
    ap.add_argument('--python', action='store_true',
                    help='the Python examples.add of bench/py_tasks.py in -P process -c 2 children (celerity_child), '
                         'results in Redis db 12, as the "Python children" drain row of bench.py')
    ap.add_argument('--java-children', action='store_true',
                    help='as --python, but the built-in Java examples.add in -P process -c 2 Java children')
    ap.add_argument('java', nargs='+')
    args = ap.parse_args()
    url = AMQP_URL if args.broker == 'amqp' else REDIS_URL
    queue = f'bench-train-{uuid.uuid4().hex[:8]}'
    port = 20000 + os.getpid() % 20000
    task = 'examples.add' if args.payload is None else 'examples.echo'
    subprocess.run(['/usr/bin/python3', os.path.join(HERE, 'prefill.py'), url, queue, str(args.n),
                    *([] if args.python or args.java_children else ['--ignore-result']), *(['--payload', str(args.payload)] if args.payload is not None else [])],
                   check=True)
    pool = (['--result-backend', RESULTS_URL, '-c', '2', '-P', 'process',
             *([] if args.java_children else ['--child', '/usr/bin/python3 -m celerity_child py_tasks'])]
            if args.python or args.java_children
            else ['--result-backend', 'disabled', '-c', '8', '-P', 'threads'])
    cmd = [*args.java, '-jar', args.jar, 'worker', '-b', url, '-Q', queue, *pool,
           '-l', 'WARNING', '--http-port', str(port), '-n', 'train@localhost']
    env = dict(os.environ, PYTHONPATH=HERE) if args.python else None
    p = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, env=env)
    try:
        started = time.monotonic()
        deadline = started + args.timeout
        while time.monotonic() < deadline and p.poll() is None:
            try:
                c = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
                c.request('GET', '/control/stats')
                st = next(iter(json.loads(c.getresponse().read()).values()))
                c.close()
                if st.get('total', {}).get(task, 0) >= args.n and st.get('active', 0) == 0:
                    break
            except (OSError, http.client.HTTPException, ValueError, StopIteration):
                pass
            time.sleep(0.2)
        else:
            print('train_cache: worker did not drain the queue', file=sys.stderr)
        print(f'start to drained: {time.monotonic() - started:.2f} s')
        if args.thread_cpu:
            print_thread_cpu(p.pid)
        t = time.monotonic()
        os.killpg(p.pid, signal.SIGTERM)
        rc = p.wait(args.timeout)
        print(f'train_cache: worker exited {rc}, {time.monotonic() - t:.1f}s after SIGTERM', file=sys.stderr)
        return rc
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        if args.broker == 'amqp':
            conn = amqp.Connection(host='127.0.0.1:5672', userid='guest', password='guest',
                                   virtual_host='celerity-test')
            conn.connect()
            conn.channel().queue_delete(queue)
            conn.close()
        else:
            import redis
            redis.Redis.from_url(url).delete(queue, f'_kombu.binding.{queue}')


if __name__ == '__main__':
    sys.exit(main())
