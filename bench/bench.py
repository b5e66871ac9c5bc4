#!/usr/bin/python3
"""Celerity vs Python Celery benchmark harness (driven by bench/run.sh; run with Debian's /usr/bin/python3).

Every measurement uses a fresh, uniquely named queue, deletes it afterwards and stops (then kills) any
worker it started, also on Ctrl-C / SIGTERM / failure. See bench/README.md for what is measured and how.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import amqp
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
CLK = os.sysconf('SC_CLK_TCK')
PAGE_KB = os.sysconf('SC_PAGE_SIZE') // 1024

AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672/celerity-test'
VHOST = 'celerity-test'
# several people benchmarking on one machine: each gets own Redis databases and queue names
REDIS_RESULTS = os.environ.get('BENCH_REDIS_RESULTS', 'redis://127.0.0.1:6379/12')
REDIS_BROKER = os.environ.get('BENCH_REDIS_BROKER', 'redis://127.0.0.1:6379/13')
QP = os.environ.get('BENCH_QUEUE_PREFIX', 'bench')
PY = '/usr/bin/python3'


class Stalled(Exception):
    def __init__(self, msg, partial=None):
        super().__init__(msg)
        self.partial = partial  # 'x tasks/s over k/N' when some progress was measured


class NotAvailable(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# process bookkeeping (cleanup on any exit)

STARTED = {}          # pgid -> description
CREATED_QUEUES = set()  # AMQP queues to delete
STATE_FILE = None


def log(msg):
    print(f'[bench {time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def write_state():
    if STATE_FILE:
        with open(STATE_FILE, 'w') as f:
            f.write(''.join(f'{p}\n' for p in STARTED))


def start_proc(cmd, env=None, cwd=None, logpath=None, desc=''):
    out = open(logpath, 'ab') if logpath else subprocess.DEVNULL
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    STARTED[p.pid] = desc
    write_state()
    p.logpath = logpath
    return p


def stop_proc(p, grace=15):
    """SIGTERM the worker's process group (warm shutdown), SIGKILL it after `grace` seconds."""
    if p is None:
        return
    pgid = p.pid
    try:
        if p.poll() is None:
            os.killpg(pgid, signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                log(f'worker {pgid} ignored SIGTERM for {grace}s, killing')
        # prefork children may outlive the parent briefly: kill whatever is left of the group
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
    finally:
        STARTED.pop(pgid, None)
        write_state()


def cleanup_all():
    for pgid in list(STARTED):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        STARTED.pop(pgid, None)
    write_state()
    if CREATED_QUEUES:
        try:
            b = Broker()
            for q in list(CREATED_QUEUES):
                b.delete(q)
            b.close()
        except Exception as e:  # noqa
            log(f'cleanup: could not delete queues {CREATED_QUEUES}: {e}')


def on_signal(signum, frame):
    # first signal only: later ones must not interrupt the cleanup that this one starts
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f'signal {signum}')


# ---------------------------------------------------------------------------------------------
# /proc sampling

def proc_tree(pid):
    """pid plus all its descendants (scan of /proc)."""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat') as f:
                s = f.read()
            ppid = int(s[s.rfind(')') + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(children.get(x, []))
    return out


def threads_cpu(pid):
    """CPU seconds per thread name (digits folded: 'C2 CompilerThre' -> 'CN CompilerThre') of one process."""
    out = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/comm' % (pid, tid)) as fh:
                name = ''.join('N' if ch.isdigit() else ch for ch in fh.read().strip())
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as fh:
                f = fh.read().rpartition(')')[2].split()
            out[name] = out.get(name, 0.0) + (int(f[11]) + int(f[12])) / CLK
        except (OSError, ValueError, IndexError):
            pass
    return out


def cpu_seconds(pids):
    """utime+stime of every pid, plus cutime+cstime of the root (reaped children)."""
    total = 0
    for i, pid in enumerate(pids):
        try:
            with open(f'/proc/{pid}/stat') as f:
                s = f.read()
            fields = s[s.rfind(')') + 2:].split()
            total += int(fields[11]) + int(fields[12])
            if i == 0:
                total += int(fields[13]) + int(fields[14])
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f'/proc/{pid}/statm') as f:
                total += int(f.read().split()[1]) * PAGE_KB
        except (OSError, ValueError, IndexError):
            pass
    return total


def hwm_kb(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler:
    """CPU / RSS of a worker's process tree; the tree is re-scanned at most once a second."""

    def __init__(self, pid):
        self.pid = pid
        self.pids = proc_tree(pid)
        self.scanned = time.monotonic()
        self.peak_rss = 0

    def sample(self):
        now = time.monotonic()
        if now - self.scanned > 1.0:
            self.pids = proc_tree(self.pid)
            self.scanned = now
        cpu = cpu_seconds(self.pids)
        rss = rss_kb(self.pids)
        self.peak_rss = max(self.peak_rss, rss)
        return cpu, rss


# ---------------------------------------------------------------------------------------------
# broker helpers

class Broker:
    """One long-lived py-amqp connection for passive declares (queue depth) and deletes."""

    def __init__(self):
        self.conn = amqp.Connection(host='127.0.0.1:5672', userid='guest', password='guest',
                                    virtual_host=VHOST, connect_timeout=5)
        self.conn.connect()
        self.ch = self.conn.channel()

    def depth(self, q):
        """(messages_ready, consumer_count), or None if the queue does not exist."""
        try:
            _, ready, consumers = self.ch.queue_declare(q, passive=True)
            return ready, consumers
        except amqp.exceptions.NotFound:
            self.ch = self.conn.channel()
            return None

    def delete(self, q):
        try:
            self.ch.queue_delete(q)
        except amqp.exceptions.AMQPError:
            self.ch = self.conn.channel()
        CREATED_QUEUES.discard(q)

    def close(self):
        try:
            self.conn.close()
        except Exception:  # noqa
            pass


def rabbit_unacked(q):
    """messages_unacknowledged of q via rabbitmqctl (~1 s per call; used only at the end of a drain)."""
    out = subprocess.run(['rabbitmqctl', '-q', 'list_queues', '-p', VHOST, 'name', 'messages_ready',
                          'messages_unacknowledged'], capture_output=True, text=True, timeout=30).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == q:
            return int(parts[1]), int(parts[2])
    return None


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------------------------
# workers

def _is_env(word):
    return '=' in word and not word.startswith('-') and word.split('=', 1)[0].isupper()


class Worker:
    def __init__(self, kind, pool, conc, broker_url, backend_url, queue, args, workdir, pm=4, variant=None):
        self.kind, self.pool, self.conc, self.pm = kind, pool, conc, pm
        self.variant = variant  # (label, launcher words, extra worker args) from --variant, or None
        self.broker_url, self.backend_url, self.queue = broker_url, backend_url, queue
        self.args, self.workdir = args, workdir
        self.proc = None
        self.port = None
        self.http = None

    @property
    def label(self):
        pm = f' --prefetch-multiplier {self.pm}' if self.pm != 4 else ''
        if self.pool == 'process-py':
            return f'Celerity process -c {self.conc} (Python children){pm}'
        if self.kind == 'ours' and self.pool == 'process':
            return f'Celerity process -c {self.conc} (Java children){pm}'
        if self.variant:
            kind = 'Celerity' if self.kind == 'ours' else 'Celery 5.2'
            return f'{kind} {self.pool} -c {self.conc}{pm} [{self.variant[0]}]'
        return ('Celerity' if self.kind == 'ours' else 'Celery 5.2') + f' {self.pool} -c {self.conc}{pm}'

    @property
    def window(self):
        """prefetch window (prefetch multiplier x concurrency; solo counts as 1)."""
        return self.pm * (1 if self.pool == 'solo' else self.conc)

    def command(self):
        if self.kind == 'ours':
            self.port = self.port or free_port()
            # process-py: the same Python tasks as Celery's (bench/py_tasks.py) in Celerity's child processes
            child = ['--child', f'{PY} -m celerity_child py_tasks'] if self.pool == 'process-py' else []
            launcher, extra = ['java', *self.args.java_opts.split(), '-jar', self.args.jar], []
            if self.variant:
                _, words, extra = self.variant
                words = [w for w in words if not _is_env(w)]
                if '/' in words[0] and not os.path.isabs(words[0]):  # bin/celerity: from the repository root
                    words = [os.path.join(os.path.dirname(HERE), words[0]), *words[1:]]
                # bin/celerity (or another launcher script) takes the jar from CELERITY_JAR, see env()
                launcher = words if os.path.basename(words[0]) == 'celerity' else [*words, '-jar', self.args.jar]
            pm = [] if '--prefetch-multiplier' in extra else ['--prefetch-multiplier', str(self.pm)]
            return [*launcher, 'worker',
                    '-b', self.broker_url, '--result-backend', self.backend_url or 'disabled',
                    '-Q', self.queue, '-c', str(self.conc), '-P', self.pool.replace('-py', ''), '-l', 'WARNING',
                    '--http-port', str(self.port), '-n', self.node, *pm, *child, *extra]
        # a --py-variant's launcher words go before Celery's command (e.g. taskset -c 1)
        prefix = [w for w in self.variant[1] if not _is_env(w)] if self.variant else []
        return [*prefix, PY, '-m', 'celery', '-A', 'py_tasks', 'worker', '-P', self.pool, '-c', str(self.conc),
                '-Q', self.queue, '-l', 'WARNING', '-n', self.node, '--prefetch-multiplier', str(self.pm),
                '--without-mingle', '--without-gossip', '--without-heartbeat']

    @property
    def node(self):
        return 'bench@localhost' if self.kind == 'ours' else 'pybench@localhost'

    def control(self, method, **kwargs):
        """A remote-control command to this worker alone, through the broker, as the celery CLI sends it."""
        from celery import Celery
        app = Celery('bench-control', broker=self.broker_url)
        try:
            replies = app.control.broadcast(method, arguments=kwargs, destination=[self.node], reply=True,
                                            timeout=10)
        finally:
            app.close()
        if not replies:
            raise RuntimeError(f'{method}: no reply from {self.node}')
        return replies

    def env(self):
        env = dict(os.environ)
        if self.kind == 'ours':
            env['CELERITY_JAR'] = self.args.jar
        if self.variant:  # leading NAME=value words of a --variant / --py-variant launcher
            env.update(w.split('=', 1) for w in self.variant[1] if _is_env(w))
        if self.kind == 'py' or self.pool == 'process-py':
            env['PYTHONPATH'] = HERE
            env['CELERITY_TEST_BROKER'] = self.broker_url
            env['CELERITY_TEST_BACKEND'] = self.backend_url or ''
        return env

    def shell_command(self):
        cmd = ' '.join(f"'{a}'" if ' ' in a else a for a in self.command())
        if self.variant and self.kind == 'ours':
            cmd = ' '.join(w for w in self.variant[1] if _is_env(w)) + (' CELERITY_JAR=JAR ' if any(
                os.path.basename(w) == 'celerity' for w in self.variant[1]) else ' ') + cmd
        if self.kind == 'py' or self.pool == 'process-py':
            cmd = (f'CELERITY_TEST_BROKER={self.broker_url} CELERITY_TEST_BACKEND={self.backend_url or ""} '
                   f'PYTHONPATH=bench {cmd}')
        return cmd

    def start(self):
        cmd = self.command()
        logpath = os.path.join(self.workdir, f'{self.kind}-{self.queue.split(",")[0]}.log')
        self.proc = start_proc(cmd, env=self.env(), cwd=self.workdir, logpath=logpath, desc=self.label)
        return self.proc

    def stop(self):
        if self.http:
            self.http.close()
            self.http = None
        stop_proc(self.proc)
        self.proc = None

    def log_tail(self, n=5):
        try:
            with open(self.proc.logpath if self.proc else '', errors='replace') as f:
                lines = [ln.rstrip() for ln in f if ln.strip() and not ln.lstrip().startswith('at ')]
            return ' | '.join(lines[-n:])
        except OSError:
            return ''

    def stats(self):
        if self.http is None:
            self.http = http.client.HTTPConnection('127.0.0.1', self.port, timeout=5)
        try:
            self.http.request('GET', '/control/stats')
            body = self.http.getresponse().read()
        except (OSError, http.client.HTTPException):
            self.http.close()
            self.http = None
            raise
        return next(iter(json.loads(body).values()))

    def wait_ready(self, broker, rds, timeout):
        """Wait until the worker consumes from its queue."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NotAvailable(f'worker exited with {self.proc.returncode}: {self.log_tail()}')
            try:
                if self.broker_url.startswith('amqp'):
                    d = broker.depth(self.queue.split(',')[-1])
                    if d and d[1] >= 1:
                        return
                elif self.kind == 'ours':
                    st = self.stats()
                    if st.get('broker', {}).get('connected'):
                        return
                else:  # Celery on Redis: the worker's queue declaration creates the binding key
                    if rds.exists(f'_kombu.binding.{self.queue}'):
                        time.sleep(1.0)
                        return
            except (OSError, http.client.HTTPException, ValueError):
                pass
            time.sleep(0.1)
        raise Stalled(f'worker not ready in {timeout}s: {self.log_tail()}')


# ---------------------------------------------------------------------------------------------
# workloads

def prefill(broker_url, queue, n, ignore_result, extra=()):
    cmd = [PY, os.path.join(HERE, 'prefill.py'), broker_url, queue, str(n), *extra] + (['--ignore-result'] if ignore_result else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f'prefill failed: {r.stderr[-500:]}')
    m = re.search(r'in ([\d.]+)s', r.stderr)
    return n / float(m.group(1)) if m else None


def drain(args, broker, rds, kind, pool, conc, broker_kind, results, pm=4, variant=None, heavy=None):
    """One drain measurement (cold, then warm with the same worker); returns a dict row, or None when filtered out.

    heavy: dict(label, n, payload=BYTES or None, queues=K or 0): examples.echo of a BYTES string instead of
    examples.add, or messages spread over K queues that the one worker consumes (cold only: the warm phase's
    cancel/add_consumer is per queue)."""
    key = f'{broker_kind}-{"on" if results else "off"}-{kind}-{pool}-pm{pm}' + (f'-{variant[0]}' if variant else '')
    if args.filter and not re.search(args.filter, key):
        return None
    queue = f'{QP}-{kind}-{pool}-{broker_kind}-{"res" if results else "nores"}-{uuid.uuid4().hex[:8]}'
    broker_url = AMQP_URL if broker_kind == 'amqp' else REDIS_BROKER
    backend = REDIS_RESULTS if results else None
    heavy = heavy or {}
    names = [f'{queue}-{j}' for j in range(heavy['queues'])] if heavy.get('queues') else [queue]
    extra = (['--payload', str(heavy['payload'])] if heavy.get('payload') is not None else []) + \
        (['--queues', str(heavy['queues'])] if heavy.get('queues') else [])
    w = Worker(kind, pool, conc, broker_url, backend, ','.join(names), args, args.workdir, pm, variant)
    w.task = 'examples.echo' if heavy.get('payload') is not None else 'examples.add'
    n = heavy.get('n', args.n)
    row = dict(broker='RabbitMQ' if broker_kind == 'amqp' else 'Redis', results='on' if results else 'off',
               worker=w.label + (f' [{heavy["label"]}]' if heavy else ''), n=n, cmd=w.shell_command(),
               heavy=heavy.get('label'))
    rq = redis.Redis.from_url(REDIS_BROKER) if broker_kind == 'redis' else None
    rres = redis.Redis.from_url(REDIS_RESULTS)
    if broker_kind == 'amqp':
        CREATED_QUEUES.update(names)
    else:
        rq.flushdb()
    log(f'drain {row["broker"]} results={row["results"]} {w.label} N={n} queue={queue}')
    load0 = os.getloadavg()[0]
    try:
        # 1. idle: start on the fresh (empty) queue, let it settle, sample RSS
        w.start()
        w.wait_ready(broker, rq, args.start_timeout)
        time.sleep(args.settle)
        s = Sampler(w.proc.pid)
        _, row['rss_idle'] = s.sample()
        w.stop()
        # 2. prefill with the worker stopped
        if results:
            rres.flushdb()
        row['prefill_rate'] = fill(args, broker, rq, broker_kind, broker_url, queue, n, results, extra, names)
        # 3. drain, cold: the worker starts on the full queue
        w.start()
        t_start = time.monotonic()
        s = Sampler(w.proc.pid)
        row.update(measure(args, w, s, broker, rq, rres, kind, broker_kind, queue, n, results, t_start, 0))
        # 4. drain, warm: the same worker stops consuming (cancel_consumer), the queue is filled again,
        #    and add_consumer starts the timed drain of a worker whose JIT has seen N tasks already
        if args.warm and len(names) == 1:
            w.control('cancel_consumer', queue=queue)
            fill(args, broker, rq, broker_kind, broker_url, queue, n, results, extra, names)
            w.control('add_consumer', queue=queue)
            t_start = time.monotonic()
            m = measure(args, w, s, broker, rq, rres, kind, broker_kind, queue, n, results, t_start, n)
            row.update({k + '_warm': v for k, v in m.items()})
        time.sleep(0.5)
        _, row['rss_after'] = s.sample()
        row['rss_peak'] = s.peak_rss
        if kind == 'ours':
            row['rss_peak'] = max(row['rss_peak'], hwm_kb(w.proc.pid))
    except NotAvailable as e:
        if kind == 'ours' and broker_kind == 'redis':
            row['status'] = 'n/a (no Redis transport yet)'
        else:
            row['status'] = f'failed to start: {e}'
        m = re.search(r'failed to start: ([^|]*)', str(e))
        row['detail'] = (m.group(1) if m else str(e)).strip()[:300]
        log(f'  -> {row["status"]}: {str(e)[:200]}')
    except Stalled as e:
        row['status'] = f'stalled: {e.partial}' if e.partial else 'stalled'
        row['detail'] = str(e)[:300]
        log(f'  -> stalled: {e} {e.partial or ""}')
    except Exception as e:  # noqa: one broken measurement must not lose the others
        row['status'] = f'error: {type(e).__name__}'
        row['detail'] = str(e)[:300]
        log(f'  -> error: {e!r}')
    finally:
        w.stop()
        if broker_kind == 'amqp':
            for q in names:
                broker.delete(q)
        else:
            rq.flushdb()
    row['load'] = f'{load0:.1f}-{os.getloadavg()[0]:.1f}'
    if 'rate' in row:
        log(f'  -> {row["rate"]:.0f} tasks/s, {row["cpu_per_10k"]:.1f} CPU s/10k'
            + (f'; warm {row["rate_warm"]:.0f} tasks/s, {row["cpu_per_10k_warm"]:.1f} CPU s/10k' if 'rate_warm' in row else ''))
    return row


def fill(args, broker, rq, broker_kind, broker_url, queue, n, results, extra=(), names=None):
    """Prefills N messages and waits until the broker holds them all; returns the publish rate."""
    rate = prefill(broker_url, queue, n, ignore_result=not results, extra=extra)
    deadline = time.monotonic() + 60
    while True:
        have = sum((broker.depth(q) or (0, 0))[0] if broker_kind == 'amqp' else rq.llen(q) for q in names or [queue])
        if have >= n:
            return rate
        if time.monotonic() > deadline:
            raise RuntimeError(f'prefill: queue holds {have} not {n}')
        time.sleep(0.05)


def measure(args, w, s, broker, rq, rres, kind, broker_kind, queue, n, results, t_start, before):
    """Times the drain of N tasks; {@code before} = tasks the worker (or the result db) counted already."""
    if kind == 'ours':
        return measure_ours(args, w, s, n, results, rres, t_start, before)
    if results:
        return measure_count(args, w, s, n, lambda: rres.dbsize() - before, t_start)
    if broker_kind == 'redis':
        return measure_count(args, w, s, n, lambda: n - rq.llen(queue) - rq.hlen('unacked'), t_start)
    return measure_py_amqp_noresults(args, w, s, broker, queue, n, t_start)


def _progress_guard(args, t_start, last_change, what, first=None, done=None):
    now = time.monotonic()
    partial = None
    if first is not None and done is not None and now > first[0] and done > first[2]:
        partial = f'~{(done - first[2]) / (now - first[0]):.0f} tasks/s ({what})'
    if now - last_change > args.stall:
        raise Stalled(f'no progress for {args.stall:.0f}s ({what})', partial)
    if now - t_start > args.timeout:
        raise Stalled(f'not done after {args.timeout:.0f}s ({what})', partial)


def _result(n_window, t0, t1, c0, c1, t_start=None, c_start=0.0, n=None):
    if n_window <= 0 and t_start is not None:  # all done at the first poll (small N): time from the start
        n_window, t0, c0 = n, t_start, c_start
    dt = t1 - t0
    rate = n_window / dt if dt > 0 else float('nan')
    return dict(rate=rate, wall=dt, cpu=c1 - c0, cpu_per_10k=(c1 - c0) / n_window * 10000)


def measure_ours(args, w, s, n, results, rres, t_start, before=0):
    """Counters from GET /control/stats: done = total - active; with results also pool.writes."""
    first = None
    last_val, last_change = -1, time.monotonic()
    while True:
        if w.proc.poll() is not None:
            raise NotAvailable(f'worker exited with {w.proc.returncode}: {w.log_tail()}')
        try:
            st = w.stats()
        except (OSError, http.client.HTTPException, ValueError):
            st = None
        now = time.monotonic()
        cpu, _ = s.sample()
        if st is not None:
            done = st.get('total', {}).get(getattr(w, 'task', 'examples.add'), 0) - st.get('active', 0) - before
            if results:  # writes.succeeded is counted before Redis confirms: also need pending_writes == 0
                wr = st.get('pool', {}).get('writes', {})
                done = min(done, wr.get('succeeded', 0) + wr.get('failed', 0) - wr.get('pending_writes', 0) - before)
            if done != last_val:
                last_val, last_change = done, now
            if first is None and done > 0:
                first = (now, cpu, done)
            if done >= n and st.get('reserved', 0) == 0 and st.get('active', 0) == 0:
                r = _result(n - first[2], first[0], now, first[1], cpu, t_start, 0.0, n)
                r['first_s'] = first[0] - t_start
                r['done_s'] = now - t_start
                if results:
                    r['check'] = f'{rres.dbsize()} result keys'
                return r
        _progress_guard(args, t_start, last_change, f'done={last_val}/{n}', first, last_val)
        time.sleep(args.poll)


def measure_count(args, w, s, n, count, t_start):
    """Python worker with an exact completion count (result keys in Redis, or Redis broker list+unacked)."""
    first = None
    last_val, last_change = -1, time.monotonic()
    while True:
        if w.proc.poll() is not None:
            raise NotAvailable(f'worker exited with {w.proc.returncode}: {w.log_tail()}')
        done = count()
        now = time.monotonic()
        cpu, _ = s.sample()
        if done != last_val:
            last_val, last_change = done, now
        if first is None and done > 0:
            first = (now, cpu, done)
        if done >= n:
            r = _result(n - first[2], first[0], now, first[1], cpu, t_start, 0.0, n)
            r['first_s'] = first[0] - t_start
            r['done_s'] = now - t_start
            return r
        _progress_guard(args, t_start, last_change, f'done={done}/{n}', first, done)
        time.sleep(args.poll)


def measure_py_amqp_noresults(args, w, s, broker, queue, n, t_start):
    """Python worker, RabbitMQ, no results: ready count via passive declare on one connection.

    While messages are ready the worker's prefetch window is full, so done = N - ready - window.
    The window starts when that estimate first exceeds 0 (the initial prefetch burst is excluded) and
    ends when ready reaches 0; then rabbitmqctl confirms unacked reaches 0 (its ~1 s per call is not
    counted)."""
    first = None
    last_val, last_change = -1, time.monotonic()
    win = w.window
    while True:
        if w.proc.poll() is not None:
            raise NotAvailable(f'worker exited with {w.proc.returncode}: {w.log_tail()}')
        d = broker.depth(queue)
        now = time.monotonic()
        cpu, _ = s.sample()
        ready = d[0] if d else 0
        if ready != last_val:
            last_val, last_change = ready, now
        done = n - ready - win
        if first is None and done > 0:
            first = (now, cpu, done)
        if ready == 0:
            if first is None:  # n smaller than the window: fall back to from-start timing
                first = (t_start, 0.0, 0)
            r = _result(n - win - first[2], first[0], now, first[1], cpu)
            r['first_s'] = first[0] - t_start
            r['done_s'] = now - t_start
            # confirm: all prefetched messages acked (Celery acks early, at pool accept)
            t_conf = time.monotonic()
            while True:
                q = rabbit_unacked(queue)
                if q and q[0] == 0 and q[1] == 0:
                    break
                if time.monotonic() - t_conf > args.stall:
                    raise Stalled(f'ready=0 but unacked={q[1] if q else "?"} for {args.stall}s')
            r['check'] = 'rabbitmqctl unacked=0'
            return r
        _progress_guard(args, t_start, last_change, f'ready={ready}/{n}', first, done)
        time.sleep(args.poll)


def held(args, broker, kind, pool, conc, n):
    """N examples.add with an ETA an hour ahead: the worker holds them all (broker: unacked); memory per held task
    = (RSS with all held - RSS idle) / N, the worker's whole process tree."""
    queue = f'{QP}-eta-{kind}-{uuid.uuid4().hex[:8]}'
    CREATED_QUEUES.add(queue)
    w = Worker(kind, pool, conc, AMQP_URL, None, queue, args, args.workdir)
    row = dict(worker=w.label, n=n, cmd=w.shell_command())
    log(f'held ETA {w.label} N={n} queue={queue}')
    try:
        w.start()
        w.wait_ready(broker, None, args.start_timeout)
        time.sleep(args.settle)
        s = Sampler(w.proc.pid)
        _, row['rss_idle'] = s.sample()
        row['prefill_rate'] = prefill(AMQP_URL, queue, n, True, ['--countdown', '3600'])
        t0 = time.monotonic()
        while True:  # every message delivered to the worker (held), none left ready; or the time is up
            ready = (broker.depth(queue) or (0, 0))[0]
            if ready == 0:
                break
            if time.monotonic() - t0 > args.timeout:
                row['status'] = f'{ready} of {n} still ready after {args.timeout:.0f}s: per task of those held'
                break
            time.sleep(0.2)
        row['take_s'] = time.monotonic() - t0
        time.sleep(args.settle)
        q = rabbit_unacked(queue)
        row['unacked'] = q[1] if q else None
        _, row['rss_held'] = s.sample()
        row['kb_per_task'] = (row['rss_held'] - row['rss_idle']) / (row['unacked'] or n)
        log(f'  -> {row["kb_per_task"]:.2f} KB per held task (unacked {row["unacked"]})')
    except (NotAvailable, Stalled, RuntimeError) as e:
        row['status'] = f'{type(e).__name__}: {str(e)[:200]}'
        log(f'  -> {row["status"]}')
    finally:
        # Deleted while the worker still holds the messages: RabbitMQ drops them at once, whereas a
        # stopping worker hands them back and RabbitMQ 3.10 requeued 100,000 at ~2,000 a minute.
        broker.delete(queue)
        w.stop()
        broker.delete(queue)
    row['load'] = f'{os.getloadavg()[0]:.1f}'
    return row


def chord_run(args, broker, kind, pool, conc, n):
    """chord(examples.add(i, i) for i < n)(examples.xsum) from the Python client to a running, idle worker (Redis
    results db 12): time to publish, and from the first publish to the callback's result."""
    from celery import Celery, chord
    queue = f'{QP}-chord-{kind}-{uuid.uuid4().hex[:8]}'
    CREATED_QUEUES.add(queue)
    w = Worker(kind, pool, conc, AMQP_URL, REDIS_RESULTS, queue, args, args.workdir)
    row = dict(worker=w.label, n=n, cmd=w.shell_command())
    log(f'chord of {n} {w.label} queue={queue}')
    app = Celery('benchchord', broker=AMQP_URL, backend=REDIS_RESULTS)
    app.conf.task_default_queue = queue
    try:
        redis.Redis.from_url(REDIS_RESULTS).flushdb()
        w.start()
        w.wait_ready(broker, None, args.start_timeout)
        time.sleep(args.settle)
        t0 = time.monotonic()
        # the queue in the callback's options too: the worker that completes the header publishes it
        res = chord([app.signature('examples.add', (i, i), options={'queue': queue}) for i in range(n)])(
            app.signature('examples.xsum', options={'queue': queue}))
        row['publish_s'] = time.monotonic() - t0
        v = res.get(timeout=args.timeout)
        row['total_s'] = time.monotonic() - t0
        expect = sum(2 * i for i in range(n))
        row['check'] = 'callback result correct' if v == expect else f'callback returned {v!r}, expected {expect}'
        log(f'  -> {row["total_s"]:.1f} s ({row["check"]})')
    except Exception as e:  # noqa: one broken measurement must not lose the others
        row['status'] = f'{type(e).__name__}: {str(e)[:200]}'
        log(f'  -> {row["status"]}')
    finally:
        w.stop()
        broker.delete(queue)
        app.close()
    row['load'] = f'{os.getloadavg()[0]:.1f}'
    return row


def latency(args, broker, kind, pool, conc, variant=None):
    from celery import Celery
    queue = f'{QP}-lat-{kind}-{pool}-{uuid.uuid4().hex[:8]}'
    CREATED_QUEUES.add(queue)
    w = Worker(kind, pool, conc, AMQP_URL, REDIS_RESULTS, queue, args, args.workdir, variant=variant)
    row = dict(worker=w.label, n=args.lat_n, cmd=w.shell_command())
    log(f'latency {w.label} x{args.lat_n} queue={queue}')
    app = Celery('benchclient', broker=AMQP_URL, backend=REDIS_RESULTS)
    app.conf.task_default_queue = queue
    try:
        w.start()
        w.wait_ready(broker, None, args.start_timeout)
        time.sleep(args.settle)
        with app.producer_or_acquire() as producer:
            def call(i):
                res = app.send_task('examples.add', (i, i), queue=queue, producer=producer)
                try:
                    v = res.get(timeout=args.lat_timeout)
                except Exception as e:  # celery TimeoutError
                    raise Stalled(f'call {i}: {type(e).__name__} {e}')
                if v != 2 * i:
                    raise RuntimeError(f'call {i}: got {v!r}')
                res.forget()
            for i in range(args.lat_warm):  # warm-up (connections, JIT, result consumer)
                call(i)
            samples = []
            before = turnaround_buckets(w) if kind == 'ours' else None
            t_all = time.monotonic()
            for i in range(args.lat_n):
                t = time.perf_counter()
                call(i)
                samples.append((time.perf_counter() - t) * 1000)
            row['total_s'] = time.monotonic() - t_all
        if kind == 'ours':
            row.update(worker_share(before, turnaround_buckets(w)))
        row['load'] = f'{os.getloadavg()[0]:.1f}'
        samples.sort()
        row['p50'] = samples[len(samples) // 2]
        row['p99'] = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        row['mean'] = statistics.mean(samples)
        log(f'  -> p50 {row["p50"]:.2f} ms p99 {row["p99"]:.2f} ms')
    except NotAvailable as e:
        row['status'] = f'failed to start: {e}'
    except Stalled as e:
        row['status'] = 'stalled'
        row['detail'] = str(e)[:300]
        log(f'  -> stalled: {e}')
    except Exception as e:  # noqa
        row['status'] = f'error: {type(e).__name__}'
        row['detail'] = str(e)[:300]
        log(f'  -> error: {e!r}')
    finally:
        w.stop()
        broker.delete(queue)
        app.close()
    return row


def turnaround_buckets(w):
    """Cumulative histogram buckets {le_seconds: count} of the worker's celerity_task_turnaround for examples.add,
    plus ('sum', name) / ('count', name) of the queue-wait, runtime and turnaround timers (exact means)."""
    c = http.client.HTTPConnection('127.0.0.1', w.port, timeout=5)
    try:
        c.request('GET', '/metrics')
        text = c.getresponse().read().decode()
    finally:
        c.close()
    out = {}
    for line in text.splitlines():
        m = re.match(r'celerity_task_turnaround_seconds_bucket\{(.*)\}\s+(\S+)', line)
        if m and 'task="examples.add"' in m.group(1):
            le = re.search(r'le="([^"]+)"', m.group(1)).group(1)
            out[float('inf') if le == '+Inf' else float(le)] = float(m.group(2))
        m = re.match(r'(celery_task_queue_wait|celery_task_runtime|celerity_task_turnaround)_seconds_(sum|count)'
                     r'\{(.*)\}\s+(\S+)', line)
        if m and 'task="examples.add"' in m.group(3):
            out[(m.group(2), m.group(1))] = float(m.group(4))
    return out


def worker_share(before, after):
    """p50/p99 (ms, upper bucket bound) of the turnaround recorded between two bucket snapshots."""
    diff = sorted((le, after[le] - before.get(le, 0)) for le in after if not isinstance(le, tuple))
    total = diff[-1][1] if diff else 0
    out = {}
    for q in (50, 99):
        for le, n in diff:
            if total and n >= total * q / 100:
                out[f'own_p{q}'] = le * 1000
                break
    # exact means over the timed calls: receipt -> pool start, the task itself, receipt -> result stored
    for key, name in (('wait', 'celery_task_queue_wait'), ('run', 'celery_task_runtime'),
                      ('own', 'celerity_task_turnaround')):
        n = after.get(('count', name), 0) - before.get(('count', name), 0)
        if n:
            out[f'{key}_mean'] = (after[('sum', name)] - before.get(('sum', name), 0)) / n * 1000
    return out


def raw_amqp(args, payload=None, n=None):
    """The broker's ceiling for the captured examples.add message, or for an examples.echo of PAYLOAD bytes."""
    n = n or args.raw_n
    m2 = os.path.expanduser('~/.m2/repository')

    def newest(pattern_dir, prefix):
        d = os.path.join(m2, pattern_dir)
        vers = sorted(os.listdir(d), key=lambda v: [int(x) if x.isdigit() else x for x in re.split(r'[.-]', v)])
        for v in reversed(vers):
            jar = os.path.join(d, v, f'{prefix}-{v}.jar')
            if os.path.exists(jar):
                return jar
        raise FileNotFoundError(d)

    amqp_jar = newest('com/rabbitmq/amqp-client', 'amqp-client')
    cp = ':'.join([amqp_jar, os.path.join(m2, 'org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar'),
                   os.path.join(m2, 'org/slf4j/slf4j-nop/1.7.36/slf4j-nop-1.7.36.jar')])
    cap = f'{QP}-capture-{uuid.uuid4().hex[:8]}'
    queue = f'{QP}-raw-{uuid.uuid4().hex[:8]}'
    CREATED_QUEUES.update([cap, queue])
    row = dict(n=n, payload=payload, cmd=f'java -cp {cp} bench/RawAmqp.java {AMQP_URL} {cap} {queue} {n}')
    log(f'raw AMQP ceiling N={n}' + (f' payload={payload}' if payload else ''))
    try:
        prefill(AMQP_URL, cap, 1, ignore_result=True, extra=['--payload', str(payload)] if payload else ())
        p = start_proc(['java', '-cp', cp, os.path.join(HERE, 'RawAmqp.java'), AMQP_URL, cap, queue,
                        str(n), str(int(args.timeout))],
                       logpath=os.path.join(args.workdir, 'raw.log'), desc='RawAmqp')
        try:
            p.wait(args.timeout + 60)
        except subprocess.TimeoutExpired:
            row['status'] = 'stalled'
        stop_proc(p)
        with open(os.path.join(args.workdir, 'raw.log')) as f:
            text = f.read()
        for k, v in re.findall(r'RESULT (\S+) (\S+)', text):
            row[k] = v
        if 'consume_ack50_msgs_per_s' not in row and 'status' not in row:
            row['status'] = 'failed: ' + text.strip().splitlines()[-1][:200] if text.strip() else 'failed'
    finally:
        b = Broker()
        b.delete(cap)
        b.delete(queue)
        b.close()
    return row


# ---------------------------------------------------------------------------------------------
# report

def sh(cmd):
    try:
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip()
    except Exception as e:  # noqa
        return f'? ({e})'


def machine_info():
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    with open('/proc/meminfo') as f:
        mem_kb = int(f.readline().split()[1])
    import celery
    import kombu
    return {
        'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
        'host': f'{platform.system()} {platform.release()}, {os.cpu_count()} CPUs (nproc={sh("nproc")}), '
                f'{mem_kb / 1024 / 1024:.1f} GiB RAM',
        'cpu': cpu,
        'java': sh('java -version 2>&1 | head -1'),
        'celery': f'celery {celery.__version__}, kombu {kombu.__version__}, py-amqp {amqp.__version__}, '
                  f'redis-py {redis.__version__}, Python {platform.python_version()} ({PY})',
        'rabbitmq': sh('rabbitmqctl -q version'),
        'redis': redis.Redis.from_url(REDIS_RESULTS).info('server').get('redis_version'),
    }


def fmt(v, spec='.0f'):
    return format(v, spec) if isinstance(v, (int, float)) else '-'


def mb(kb):
    return f'{kb / 1024:.0f}' if kb else '-'


def ratios(drains, raws, heavy=None, payload=None):
    """Each Celerity RabbitMQ results-off row against the batched broker ceiling and Celery prefork of the same run
    (HEAVY: only the rows of that heavy label, against the ceiling measured with the same PAYLOAD)."""
    raw = next((r for r in raws if r.get('payload') == payload), None)
    ceiling = float(raw['consume_ack50_msgs_per_s']) if raw and 'consume_ack50_msgs_per_s' in raw else None
    base = next((r for r in drains if r['worker'].startswith('Celery 5.2 prefork -c 2') and r['broker'] == 'RabbitMQ'
                 and r['results'] == 'off' and 'rate' in r and r.get('heavy') == heavy), None)
    rows = [r for r in drains if r['worker'].startswith('Celerity') and r['broker'] == 'RabbitMQ'
            and r['results'] == 'off' and 'rate' in r and r.get('heavy') == heavy]
    if not rows or not (ceiling or base):
        return []
    L = [f'Ratios, RabbitMQ results off{", " + heavy if heavy else ""}: Celerity cold / warm against the broker ceiling (batched acks, '
         f'{ceiling or "-"} msg/s, section 3) and against {base["worker"] if base else "Celery prefork"} '
         f'({fmt(base and base["rate"])} / {fmt(base and base.get("rate_warm"))} tasks/s), same run.', '',
         '| Worker | % of ceiling cold / warm | x Celery prefork cold / warm |', '|---|---:|---:|']
    for r in rows:
        pc = (f'{100 * r["rate"] / ceiling:.0f}% / {100 * r.get("rate_warm", 0) / ceiling:.0f}%' if ceiling else '-')
        xc = (f'{r["rate"] / base["rate"]:.1f}x / {r.get("rate_warm", 0) / base.get("rate_warm", base["rate"]):.1f}x'
              if base else '-')
        L.append(f'| {r["worker"]} | {pc} | {xc} |')
    L.append('')
    return L


def render(info, args, drains, lats, raws, elapsed, helds=(), chords=()):
    L = []
    L.append(f'# Celerity vs Celery benchmark — {info["date"]}')
    L.append('')
    L.append(f'- Machine: {info["host"]}; CPU: {info["cpu"]}')
    L.append(f'- Java: {info["java"]}; Celerity jar: `{args.jar}` ({args.jar_info})')
    L.append(f'- Python side: {info["celery"]}')
    L.append(f'- RabbitMQ {info["rabbitmq"]} (vhost `{VHOST}`), Redis {info["redis"]}')
    L.append(f'- Run: `{args.cmdline}`  (N={args.n}, latency calls={args.lat_n}, raw N={args.raw_n}; '
             f'poll {args.poll * 1000:.0f} ms, stall timeout {args.stall:.0f} s, cap {args.timeout:.0f} s); '
             f'took {elapsed:.0f} s')
    L.append('')
    L.append('## 1. Drain rate (prefilled queue of N `examples.add`)')
    L.append('')
    L.append('Cold: the worker is started on the full queue. Warm: the same worker afterwards, after '
             '`cancel_consumer`, a second prefill of N and `add_consumer` (a long-running worker).')
    L.append('')
    L.append('| Broker | Results | Worker | N | tasks/s cold | tasks/s warm | CPU s / 10k cold | warm | RSS idle MB | RSS peak MB | RSS after MB | prefill msg/s | start to 1st task s | start to done s | load 1m | note |')
    L.append('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
    for r in drains:
        note = r.get('status', r.get('check', ''))
        if 'status' in r and 'rate' not in r:
            L.append(f'| {r["broker"]} | {r["results"]} | {r["worker"]} | {r["n"]} | **{r["status"]}** | - | - | - | '
                     f'{mb(r.get("rss_idle"))} | - | - | {fmt(r.get("prefill_rate"))} | - | - | {r.get("load", "-")} | {r.get("detail", "")[:120]} |')
        else:
            L.append(f'| {r["broker"]} | {r["results"]} | {r["worker"]} | {r["n"]} | **{r["rate"]:.0f}** | '
                     f'**{fmt(r.get("rate_warm"))}** | {r["cpu_per_10k"]:.1f} | {fmt(r.get("cpu_per_10k_warm"), ".1f")} | '
                     f'{mb(r.get("rss_idle"))} | {mb(r.get("rss_peak"))} | '
                     f'{mb(r.get("rss_after"))} | {fmt(r.get("prefill_rate"))} | {fmt(r.get("first_s"), ".2f")} | {fmt(r.get("done_s"), ".1f")} | '
                     f'{r.get("load", "-")} | {note} {r.get("detail", "")[:100]} |')
    L.append('')
    L.extend(ratios(drains, raws))
    for heavy, payload in [('10 KB argument', 10 * 1024), ('1 MB argument', 1024 * 1024)]:
        if any(r.get('heavy') == heavy for r in drains):
            L.extend(ratios(drains, raws, heavy, payload))
    if helds:
        L.append('### Held ETA tasks (examples.add, ETA one hour ahead; RSS of the worker process tree)')
        L.append('')
        L.append('| Worker | N sent | held (broker unacked) | s to take them | RSS idle MB | RSS holding MB | KB per held task | load 1m | note |')
        L.append('|---|---:|---:|---:|---:|---:|---:|---:|---|')
        for r in helds:
            L.append(f'| {r["worker"]} | {r["n"]} | {r.get("unacked", "-")} | {fmt(r.get("take_s"), ".1f")} | {mb(r.get("rss_idle"))} | '
                     f'{mb(r.get("rss_held"))} | {fmt(r.get("kb_per_task"), ".2f")} | {r.get("load", "-")} | '
                     f'{r.get("status", "")} |')
        L.append('')
    if chords:
        L.append('### Chord (header of N examples.add, callback examples.xsum; Redis results; worker idle before)')
        L.append('')
        L.append('| Worker | N | publish s (client) | first publish to callback result s | load 1m | note |')
        L.append('|---|---:|---:|---:|---:|---|')
        for r in chords:
            L.append(f'| {r["worker"]} | {r["n"]} | {fmt(r.get("publish_s"), ".1f")} | {fmt(r.get("total_s"), ".1f")} | '
                     f'{r.get("load", "-")} | {r.get("status", r.get("check", ""))} |')
        L.append('')
    L.append('## 2. Round-trip latency (sequential `send_task(examples.add).get()` from the Python client, '
             f'RabbitMQ + Redis results {REDIS_RESULTS.rsplit("/", 1)[-1].join(("db ", ""))})')
    L.append('')
    L.append(f'After {args.lat_warm} untimed warm-up calls. Worker share = receipt to result stored, from the '
             'worker\'s own `celerity_task_turnaround` histogram over the timed calls (upper bound of the bucket, '
             'buckets at most 50 µs apart up to 0.5 ms since 2026-12-01, wider above).')
    L.append('')
    L.append('| Worker | calls | p50 ms | p99 ms | mean ms | total s | worker share p50 / p99 ms | '
             'worker share mean ms: receipt to pool start + run + rest = receipt to stored | load 1m |')
    L.append('|---|---:|---:|---:|---:|---:|---:|---|---:|')
    for r in lats:
        if 'status' in r:
            L.append(f'| {r["worker"]} | {r["n"]} | **{r["status"]}** | - | - | - | - | - | {r.get("load", "-")} |')
        else:
            own = f'{r["own_p50"]:.3f} / {r["own_p99"]:.3f}' if 'own_p50' in r else '-'
            parts = '-'
            if 'own_mean' in r and 'wait_mean' in r:
                run = r.get('run_mean', 0)
                parts = (f'{r["wait_mean"]:.3f} + {run:.3f} + {r["own_mean"] - r["wait_mean"] - run:.3f} '
                         f'= {r["own_mean"]:.3f}')
            L.append(f'| {r["worker"]} | {r["n"]} | {r["p50"]:.2f} | {r["p99"]:.2f} | {r["mean"]:.2f} | '
                     f'{r["total_s"]:.1f} | {own} | {parts} | {r.get("load", "-")} |')
    L.append('')
    if raws:
        L.append('## 3. Broker ceiling (RabbitMQ Java client 5.x, one captured Celery message '
                 '(`examples.add`, or `examples.echo` of the payload) republished N times, persistent)')
        L.append('')
        L.append('| message | N | body bytes | publish msg/s | consume prefetch 1000, ack each, msg/s | consume prefetch 1000, ack multiple every 50, msg/s |')
        L.append('|---|---:|---:|---:|---:|---:|')
        for raw in raws:
            what = f'echo {raw["payload"]} B' if raw.get('payload') else 'add'
            if 'status' in raw:
                L.append(f'| {what} | {raw["n"]} | {raw.get("body_bytes", "-")} | **{raw["status"]}** | - | - |')
            else:
                L.append(f'| {what} | {raw["n"]} | {raw.get("body_bytes")} | {raw.get("publish_msgs_per_s")} | '
                         f'{raw.get("consume_ack1_msgs_per_s")} | {raw.get("consume_ack50_msgs_per_s")} |')
        L.append('')
    L.append('## Commands')
    L.append('')
    L.append('```')
    L.append(f'# prefill (worker stopped): {PY} bench/prefill.py BROKER QUEUE N [--ignore-result]')
    seen = set()
    for r in drains + lats + list(raws):
        c = re.sub(re.escape(QP) + r'-[a-z0-9-]+-[0-9a-f]{8}', 'QUEUE', r['cmd'])
        c = re.sub(r'--http-port \d+', '--http-port PORT', c)
        if c not in seen:
            seen.add(c)
            L.append(c)
    L.append('```')
    L.append('')
    L.append('Method: tasks/s counts tasks completed inside the window from the first observed completed task to the last '
             '(Celerity: `GET /control/stats` total-active and pool.writes; Celery + results: result keys in Redis db 12 '
             '(DBSIZE); Celery on Redis broker without results: LLEN queue + HLEN unacked; Celery on RabbitMQ without results: '
             'ready count from a passive queue_declare, minus the full prefetch window, until ready = 0, then '
             '`rabbitmqctl` confirms unacked = 0 outside the window). CPU = utime+stime of the worker process tree '
             '(children included for prefork) over the same window. RSS idle = worker started on the empty queue and '
             'settled; peak = highest sampled tree RSS during the drain (Celerity: also VmHWM).')
    return '\n'.join(L) + '\n'


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=int(os.environ.get('BENCH_N', 20000)))
    ap.add_argument('--lat-n', type=int, default=int(os.environ.get('BENCH_LAT_N', 500)))
    ap.add_argument('--lat-warm', type=int, default=int(os.environ.get('BENCH_LAT_WARM', 1000)),
                    help='untimed calls before the timed latency calls (JIT warm-up)')
    ap.add_argument('--raw-n', type=int, default=int(os.environ.get('BENCH_RAW_N', 50000)))
    ap.add_argument('--jar', default=os.environ.get('BENCH_JAR'))
    ap.add_argument('--java-opts', default=os.environ.get('BENCH_JAVA_OPTS', ''))
    ap.add_argument('--poll', type=float, default=0.05)
    ap.add_argument('--filter', default=os.environ.get('BENCH_FILTER'),
                    help='regex on drain keys such as amqp-off-ours-threads-pm4, redis-on-py-prefork-pm4')
    ap.add_argument('--no-warm', dest='warm', action='store_false',
                    help='skip the second (warm) drain with the same worker')
    ap.add_argument('--pm', type=int, default=int(os.environ.get('BENCH_PM', 64)),
                    help='prefetch multiplier of the extra short-task rows (both workers, RabbitMQ, results off); 0 = none')
    ap.add_argument('--stall', type=float, default=float(os.environ.get('BENCH_STALL', 30)))
    ap.add_argument('--timeout', type=float, default=float(os.environ.get('BENCH_TIMEOUT', 90)))
    ap.add_argument('--lat-timeout', type=float, default=10)
    ap.add_argument('--start-timeout', type=float, default=40)
    ap.add_argument('--settle', type=float, default=2.0)
    ap.add_argument('--only', default=os.environ.get('BENCH_ONLY', 'drain,latency,raw'),
                    help='comma list of drain,latency,raw,cold,heavy,payload,payload-redis (payload: the 10 KB / 1 MB rows of heavy; payload-redis: the same rows on the Redis broker too; heavy: 10 KB / 1 MB arguments, many queues, '
                         'held ETA tasks, ours threads -c 8 vs Celery prefork -c 2; cold: Celery prefork -c 2 and each --variant, '
                         'RabbitMQ, results off, threads -c 8)')
    ap.add_argument('--variant', action='append', default=[],
                    help='LABEL=[NAME=VALUE ...] LAUNCHER [-- WORKER ARGS]: a Celerity configuration for the "cold" '
                         'and "latency" workloads, e.g. '
                         '"cds=java -XX:SharedArchiveFile=/tmp/c.jsa" or "launcher=bin/celerity -- --prefetch-multiplier 16" '
                         '(a launcher named celerity gets the jar in CELERITY_JAR); words are shell-quoted, so '
                         '"c1=JAVA_OPTS=\'-XX:A -XX:B\' bin/celerity" passes both flags; repeatable')
    ap.add_argument('--py-variant', action='append', default=[],
                    help='LABEL=[NAME=VALUE ...] [PREFIX WORDS]: another Celery solo row for "latency", its command '
                         'run after PREFIX, e.g. "pinned=taskset -c 1"; repeatable')
    ap.add_argument('--heavy-n', type=int, default=int(os.environ.get('BENCH_HEAVY_N', 5000)),
                    help='"heavy" workload: tasks per row (10 KB arguments, many queues; 1 MB rows use N/100)')
    ap.add_argument('--heavy-queues', type=int, default=1000, help='"heavy": queues consumed by the one worker')
    ap.add_argument('--heavy-eta', type=int, default=100000, help='"heavy": ETA tasks held')
    ap.add_argument('--heavy-chord', type=int, default=10000, help='"heavy": chord header size')
    ap.add_argument('--out', default=None)
    ap.add_argument('--state-file', default=None)
    ap.add_argument('--cmdline', default=' '.join(sys.argv))
    args = ap.parse_args()

    global STATE_FILE
    STATE_FILE = args.state_file
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    args.workdir = tempfile.mkdtemp(prefix='celerity-bench-')  # no conf/worker.json here
    st = os.stat(args.jar)
    args.jar_info = f'{st.st_size // 1024} KiB, built {time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))}'
    only = set(args.only.split(','))

    t0 = time.monotonic()
    info = machine_info()
    drains, lats, raws, helds, chords = [], [], [], [], []
    broker = Broker()
    try:
        if 'drain' in only:
            plan = [('ours', 'threads', 8), ('py', 'prefork', 2), ('py', 'threads', 8)]
            processes = [('ours', 'process', 2), ('ours', 'process-py', 2)]
            for results in (False, True):
                for kind, pool, conc in plan + processes:
                    drains.append(drain(args, broker, None, kind, pool, conc, 'amqp', results))
                if not results and args.pm:
                    for kind, pool, conc in plan[:2]:
                        drains.append(drain(args, broker, None, kind, pool, conc, 'amqp', results, args.pm))
            for results in (False, True):
                for kind, pool, conc in [('ours', 'threads', 8), ('py', 'prefork', 2)]:
                    drains.append(drain(args, broker, None, kind, pool, conc, 'redis', results))
            drains = [d for d in drains if d is not None]
        variants = []
        for v in args.variant:
            label, _, spec = v.partition('=')
            words, _, extra = spec.partition(' -- ')
            # shell quoting, so that one setting can hold several words: JAVA_OPTS='-XX:A -XX:B'
            variants.append((label, shlex.split(words), shlex.split(extra)))
        py_variants = []
        for v in args.py_variant:
            label, _, words = v.partition('=')
            py_variants.append((label, shlex.split(words), []))
        if 'cold' in only:
            drains.append(drain(args, broker, None, 'py', 'prefork', 2, 'amqp', False))
            for v in variants:
                drains.append(drain(args, broker, None, 'ours', 'threads', 8, 'amqp', False, variant=v))
            drains = [d for d in drains if d is not None]
        if 'heavy' in only or 'payload' in only or 'payload-redis' in only:
            hn = args.heavy_n
            rows = [(dict(label='10 KB argument', n=hn, payload=10 * 1024), False),
                    (dict(label='1 MB argument', n=max(100, hn // 50), payload=1024 * 1024), False)]
            if 'heavy' in only:
                rows.append((dict(label=f'{args.heavy_queues} queues', n=hn, queues=args.heavy_queues), True))
            brokers = ['amqp'] + (['redis'] if 'payload-redis' in only else [])
            for heavy, results in rows:
                for broker_kind in brokers if heavy.get('payload') else ['amqp']:
                    for kind, pool, conc in [('ours', 'threads', 8), ('py', 'prefork', 2)]:
                        drains.append(drain(args, broker, None, kind, pool, conc, broker_kind, results, heavy=heavy))
            drains = [d for d in drains if d is not None]
        if 'heavy' in only or 'eta' in only:
            for kind, pool, conc in [('ours', 'threads', 8), ('py', 'prefork', 2)]:
                helds.append(held(args, broker, kind, pool, conc, args.heavy_eta))
        if 'heavy' in only or 'chord' in only:
            for kind, pool, conc in [('ours', 'threads', 8), ('py', 'prefork', 2)]:
                chords.append(chord_run(args, broker, kind, pool, conc, args.heavy_chord))
        if 'latency' in only:
            for kind, pool, conc in [('ours', 'threads', 8), ('ours', 'solo', 1), ('py', 'solo', 1)]:
                lats.append(latency(args, broker, kind, pool, conc))
            for v in variants:
                lats.append(latency(args, broker, 'ours', 'threads', 8, v))
            for v in py_variants:
                lats.append(latency(args, broker, 'py', 'solo', 1, v))
        if 'raw' in only:
            raws.append(raw_amqp(args))
        if 'payload' in only:
            for payload, n in [(10 * 1024, args.heavy_n), (1024 * 1024, max(100, args.heavy_n // 50))]:
                raws.append(raw_amqp(args, payload, n))
    except KeyboardInterrupt:
        log('interrupted: stopping workers and deleting queues')
        cleanup_all()
        raise SystemExit(130)
    finally:
        cleanup_all()
        broker.close()
    report = render(info, args, drains, lats, raws, time.monotonic() - t0, helds, chords)
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(report)
        log(f'saved {args.out}; worker logs in {args.workdir}')
    else:
        log(f'worker logs in {args.workdir}')


if __name__ == '__main__':
    main()
