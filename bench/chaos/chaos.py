#!/usr/bin/python3
"""Fault-injection suite ("nothing lost, nothing stuck"), driven by bench/chaos/run.sh.

Each scenario runs against Celerity and Celery 5.2's own worker in the same run, on the real
RabbitMQ (vhost celerity-chaos, workers log in as user celerity-chaos so their connections can be
closed without touching the harness's) and Redis (db 12 = execution counts, 13 = Redis broker;
the backend-outage scenario uses a private redis-server for results).
See docs/reliability.md.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import amqp
import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import bench as B  # noqa: E402  (process bookkeeping and /proc sampling of bench/bench.py)
import corpus  # noqa: E402

PY = '/usr/bin/python3'
VHOST = 'celerity-chaos'
WORKER_USER, WORKER_PASS = 'celerity-chaos', 'chaos'
AMQP_WORKER = f'amqp://{WORKER_USER}:{WORKER_PASS}@127.0.0.1:5672/{VHOST}'
COUNT_DB, REDIS_BROKER_DB = 12, 13
REDIS_BROKER = f'redis://127.0.0.1:6379/{REDIS_BROKER_DB}'


def log(msg):
    print(f'[chaos {time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def rabbitmqctl(*args, timeout=60):
    return subprocess.run(['rabbitmqctl', '-q', *args], capture_output=True, text=True, timeout=timeout)


def amqp_conn():
    c = amqp.Connection(host='127.0.0.1:5672', userid='guest', password='guest', virtual_host=VHOST,
                        connect_timeout=5)
    c.connect()
    return c


def queue_counts(q):
    """(messages_ready, messages_unacknowledged) of q from rabbitmqctl, or None."""
    out = rabbitmqctl('list_queues', '-p', VHOST, 'name', 'messages_ready', 'messages_unacknowledged').stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[0] == q:
            return int(p[1]), int(p[2])
    return None


# ---------------------------------------------------------------------------------------------
# publishing (raw: the harness's own connections, never the worker's user)

class Publisher:
    def __init__(self, broker, queue):
        self.broker, self.queue = broker, queue
        self.failed = 0
        if broker == 'amqp':
            self.conn = amqp_conn()
            self.ch = self.conn.channel()
            self.ch.queue_declare(queue, durable=True, auto_delete=False)
        else:
            self.r = redis.Redis(db=REDIS_BROKER_DB, single_connection_client=True)
            self.pipe = self.r.pipeline(transaction=False)
            self.pending = 0

    def client_id(self):
        return self.r.client_id() if self.broker == 'redis' else None

    def send(self, m):
        if self.broker == 'amqp':
            try:
                self.ch.basic_publish(corpus.amqp_message(m), exchange='', routing_key=self.queue)
            except (amqp.exceptions.AMQPError, OSError, ValueError, TypeError, OverflowError) as e:
                self.failed += 1
                log(f'  publish of {m.kind} failed: {e!r:.120}')
                try:
                    self.ch = self.conn.channel()
                except (amqp.exceptions.AMQPError, OSError):
                    self.conn = amqp_conn()
                    self.ch = self.conn.channel()
        else:
            self.pipe.lpush(self.queue, corpus.redis_envelope(m, self.queue))
            self.pending += 1
            if self.pending >= 200:
                self.flush()

    def flush(self):
        if self.broker == 'redis' and self.pending:
            self.pipe.execute()
            self.pending = 0

    def close(self):
        self.flush()
        if self.broker == 'amqp':
            self.conn.close()  # with the close handshake: an RST can drop the batch's tail
        else:
            self.r.close()


def purge(broker, queue):
    if broker == 'amqp':
        c = amqp_conn()
        try:
            c.channel().queue_delete(queue)
        finally:
            c.close()
    else:
        r = redis.Redis(db=REDIS_BROKER_DB)
        r.delete(queue, 'unacked', 'unacked_index', 'unacked_mutex', f'_kombu.binding.{queue}')
        r.close()


# ---------------------------------------------------------------------------------------------
# workers

class Worker:
    """One worker under test. ours-threads: Java chaos.mark in the thread pool; ours-process-py:
    Python chaos.mark in Celerity's child processes; celery-prefork: Celery 5.2's own worker."""

    def __init__(self, args, cfg, broker, queue, backend=None, conc=2, pm=4):
        self.args, self.cfg, self.broker, self.queue = args, cfg, broker, queue
        self.backend, self.conc, self.pm = backend, conc, pm
        self.ours = cfg.startswith('ours')
        self.pool = cfg.split('-', 1)[1]
        self.node = f'{cfg}-{uuid.uuid4().hex[:6]}@127.0.0.1'
        self.port = B.free_port()
        self.proc = None
        self.starts = 0

    @property
    def broker_url(self):
        return AMQP_WORKER if self.broker == 'amqp' else REDIS_BROKER

    @property
    def window(self):
        return self.pm * self.conc

    @property
    def label(self):
        return {'ours-threads': f'Celerity threads -c {self.conc} (Java tasks)',
                'ours-process-py': f'Celerity process -c {self.conc} (Python children)',
                'ours-process': f'Celerity process -c {self.conc} (Java children)',
                'celery-prefork': f'Celery 5.2 prefork -c {self.conc}',
                'celery-threads': f'Celery 5.2 threads -c {self.conc}'}.get(self.cfg, self.cfg)

    def command(self):
        if self.ours:
            cmd = ['java', *self.args.java_opts.split(), '-cp', f'{self.args.jar}:{self.args.classes}',
                   'io.celerity.cli.Main', 'worker', '-b', self.broker_url,
                   '--result-backend', self.backend or 'disabled', '-Q', self.queue, '-c', str(self.conc),
                   '-l', 'WARNING', '--http-port', str(self.port), '-n', self.node,
                   '--prefetch-multiplier', str(self.pm)]
            if self.pool == 'process-py':
                return cmd + ['-P', 'process', '--without-examples', '--child', f'{PY} -m celerity_child chaos_tasks']
            return cmd + ['-P', self.pool, '-A', 'ChaosTasks']
        return [PY, '-m', 'celery', '-A', 'chaos_tasks', 'worker', '-P', self.pool, '-c', str(self.conc),
                '-Q', self.queue, '-l', 'WARNING', '-n', self.node, '--prefetch-multiplier', str(self.pm),
                '--without-mingle', '--without-gossip', '--without-heartbeat']

    def env(self):
        env = dict(os.environ)
        env.update(PYTHONPATH=HERE, CHAOS_BROKER=self.broker_url, CHAOS_BACKEND=self.backend or '',
                   CHAOS_COUNT_REDIS=f'127.0.0.1:6379/{COUNT_DB}')
        return env

    def start(self):
        self.starts += 1
        logpath = os.path.join(self.args.workdir, f'{self.cfg}-{self.queue}.log')
        self.proc = B.start_proc(self.command(), env=self.env(), cwd=self.args.workdir, logpath=logpath,
                                 desc=self.label)
        self.sampler = B.Sampler(self.proc.pid)
        return self.proc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL to the worker's whole process group (children included), as a crash would."""
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        B.STARTED.pop(pgid, None)
        B.write_state()
        self.proc = None

    def stop(self):
        B.stop_proc(self.proc)
        self.proc = None

    def rss_mb(self):
        if not self.alive():
            return None
        self.sampler.pids = B.proc_tree(self.proc.pid)
        return B.rss_kb(self.sampler.pids) / 1024

    def log_tail(self, n=3):
        try:
            with open(os.path.join(self.args.workdir, f'{self.cfg}-{self.queue}.log'), errors='replace') as f:
                lines = [ln.rstrip() for ln in f if ln.strip() and not ln.lstrip().startswith(('at ', '...'))]
            return ' | '.join(lines[-n:])[:400]
        except OSError:
            return ''

    def wait_consuming(self, timeout=60):
        """Until the worker consumes its queue (AMQP: a consumer on it; Redis: ours says connected,
        Celery's binding key exists)."""
        deadline = time.monotonic() + timeout
        c = amqp_conn() if self.broker == 'amqp' else None
        r = redis.Redis(db=REDIS_BROKER_DB)
        try:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f'worker exited with {self.proc.returncode}: {self.log_tail()}')
                try:
                    if self.broker == 'amqp':
                        _, _, consumers = c.channel().queue_declare(self.queue, durable=True, auto_delete=False)
                        if consumers >= 1:
                            return
                    elif self.ours:
                        h = http.client.HTTPConnection('127.0.0.1', self.port, timeout=2)
                        h.request('GET', '/control/stats')
                        st = next(iter(json.loads(h.getresponse().read()).values()))
                        h.close()
                        if st.get('broker', {}).get('connected'):
                            return
                    elif r.exists(f'_kombu.binding.{self.queue}'):
                        time.sleep(1.0)
                        return
                except (OSError, http.client.HTTPException, ValueError, StopIteration, amqp.exceptions.AMQPError):
                    pass
                time.sleep(0.2)
            raise RuntimeError(f'worker not consuming after {timeout}s: {self.log_tail()}')
        finally:
            if c:
                c.close()
            r.close()


class Counter:
    """Executions recorded by chaos.mark in the counting Redis (HINCRBY key seq 1)."""

    def __init__(self, key):
        self.key = key
        self.r = redis.Redis(db=COUNT_DB)
        self.r.delete(key)

    def distinct(self):
        return self.r.hlen(self.key)

    def executions(self):
        return sum(int(v) for v in self.r.hvals(self.key))

    def close(self):
        self.r.delete(self.key)
        self.r.close()


def run_id():
    return uuid.uuid4().hex[:10]


def fill(broker, queue, ctx, n, sleep):
    pub = Publisher(broker, queue)
    try:
        for seq in range(n):
            tid = corpus.task_id(ctx.run, seq)
            pub.send(corpus.task_msg('chaos.mark', tid, [ctx.good_key, seq, sleep]))
    finally:
        pub.close()


def wait_no_consumer(q, timeout=10):
    c = amqp_conn()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, _, consumers = c.channel().queue_declare(q, durable=True, auto_delete=False)
            if consumers == 0:
                return
            time.sleep(0.05)
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# scenario 1: kill -9 of the worker's process group every K seconds during an acks_late drain

def scenario_kill(args, cfg):
    n = args.kill_n
    q = f'chaos-kill-{cfg}-{run_id()}'
    ctx = corpus.Ctx(q, f'chaos:{q}', f'chaos:{q}:bad', run_id())
    cnt = Counter(ctx.good_key)
    w = Worker(args, cfg, 'amqp', q)
    row = dict(scenario='kill -9 every %gs' % args.kill_every, broker='RabbitMQ', worker=w.label, n=n,
               window=w.window)
    log(f'kill: {w.label} N={n} queue={q}')
    try:
        fill('amqp', q, ctx, n, args.kill_sleep)
        kills, t0, boot = 0, time.monotonic(), []
        w.start()
        while kills < args.kill_max:
            # --kill-from consuming (default): the clock starts when the worker consumes, so a worker
            # that boots slowly on a loaded machine still drains between kills; 'start': from spawn
            if args.kill_from == 'consuming':
                tb = time.monotonic()
                try:
                    w.wait_consuming(timeout=30)
                except RuntimeError:
                    pass
                boot.append(time.monotonic() - tb)
            time.sleep(args.kill_every)
            if cnt.distinct() >= n:
                break
            w.kill9()
            kills += 1
            wait_no_consumer(q)  # so that wait_consuming sees the new worker, not the dead one
            w.start()
        if boot:
            row['boot_s'] = sum(boot) / len(boot)
        row['done_during_kills'] = cnt.distinct()
        if row['done_during_kills'] == 0:
            row['note'] = 'no task ran between kills: the worker needs longer than the interval to start'
        # then the worker runs undisturbed until all are done (or no progress for --stall s)
        last, last_t = -1, time.monotonic()
        while True:
            d = cnt.distinct()
            if d >= n:
                break
            if d != last:
                last, last_t = d, time.monotonic()
            if time.monotonic() - last_t > args.stall or not w.alive():
                row['note'] = 'stalled after the kills' if w.alive() else f'worker died: {w.log_tail()}'
                break
            time.sleep(0.2)
        row['wall_s'] = time.monotonic() - t0
        time.sleep(1.0)
        w.stop()
        c = amqp_conn()
        _, ready, _ = c.channel().queue_declare(q, durable=True, auto_delete=False)
        c.close()
        d, e = cnt.distinct(), cnt.executions()
        row.update(kills=kills, missing=n - d, duplicates=e - d, left_in_queue=ready)
        row['ok'] = row['missing'] == 0 and row['duplicates'] <= kills * w.window and ready == 0
    except Exception as ex:  # noqa: one broken measurement must not lose the others
        row['note'] = f'error: {ex!r:.200}'
        row['ok'] = False
    finally:
        w.stop()
        purge('amqp', q)
        cnt.close()
    log(f'  -> {row}')
    return row


# ---------------------------------------------------------------------------------------------
# scenario 2: the worker's broker connections closed K times during a paced drain

def close_worker_connections(broker, own_ids):
    if broker == 'amqp':
        r = rabbitmqctl('close_all_user_connections', WORKER_USER, 'chaos: connection closed on purpose')
        return r.returncode == 0
    r = redis.Redis(db=REDIS_BROKER_DB, single_connection_client=True)
    try:
        killed = 0
        for c in r.client_list():
            if int(c.get('db', -1)) == REDIS_BROKER_DB and int(c['id']) not in own_ids and int(c['id']) != r.client_id():
                try:
                    killed += r.client_kill_filter(_id=c['id'])
                except redis.ResponseError:
                    pass
        return killed > 0
    finally:
        r.close()


def scenario_connclose(args, cfg, broker):
    n, closes = args.close_n, args.closes
    q = f'chaos-close-{cfg}-{broker}-{run_id()}'
    ctx = corpus.Ctx(q, f'chaos:{q}', f'chaos:{q}:bad', run_id())
    cnt = Counter(ctx.good_key)
    w = Worker(args, cfg, broker, q)
    row = dict(scenario=f'{closes} connection closes', broker='RabbitMQ' if broker == 'amqp' else 'Redis',
               worker=w.label, n=n)
    log(f'connclose: {w.label} {broker} N={n} closes={closes} queue={q}')
    if broker == 'redis':
        purge('redis', q)
    pub = None
    try:
        pub = Publisher(broker, q)
        w.start()
        w.wait_consuming()
        own = set()
        if broker == 'redis':
            own.add(pub.client_id())
            own.add(cnt.r.client_id())
        duration = closes * args.close_every
        published = [0]
        stop = threading.Event()

        def feed():  # paced: the closes fall while work keeps arriving
            t0 = time.monotonic()
            for seq in range(n):
                due = t0 + seq * duration / n
                while time.monotonic() < due:
                    time.sleep(0.005)
                pub.send(corpus.task_msg('chaos.mark', corpus.task_id(ctx.run, seq), [ctx.good_key, seq, 0]))
                if broker == 'redis' and seq % 20 == 0:
                    pub.flush()
                published[0] = seq + 1
                if stop.is_set():
                    return
            pub.flush()

        done_closes = [0]

        def closer():
            for _ in range(closes):
                t = time.monotonic()
                if close_worker_connections(broker, own):
                    done_closes[0] += 1
                if stop.wait(max(0.0, args.close_every - (time.monotonic() - t))):
                    return

        feeder, killer = threading.Thread(target=feed, daemon=True), threading.Thread(target=closer, daemon=True)
        t0 = time.monotonic()
        feeder.start()
        time.sleep(0.5)
        killer.start()
        last, last_t, longest = -1, time.monotonic(), 0.0
        while True:
            d = cnt.distinct()
            now = time.monotonic()
            if d != last:
                last, last_t = d, now
            elif d < published[0]:  # no progress while work is waiting
                longest = max(longest, now - last_t)
            if d >= n and not killer.is_alive():
                break
            if not w.alive():
                row['note'] = f'worker died: {w.log_tail()}'
                break
            if now - last_t > args.stall and d < published[0]:
                row['note'] = f'stalled at {d}/{published[0]} published'
                break
            time.sleep(0.1)
        row['wall_s'] = time.monotonic() - t0
        stop.set()
        killer.join(30)
        feeder.join(5)
        row['alive'] = w.alive()
        left = settle_check(broker, q, w, settle=args.settle_max)
        if left != '0/0' and broker == 'redis':
            row['note'] = (row.get('note', '') + ' ' + redis_unacked_detail(cnt)).strip()
        d, e = cnt.distinct(), cnt.executions()
        row.update(closes=done_closes[0], missing=n - d, duplicates=e - d, longest_stall_s=round(longest, 1),
                   left=left)
        row['ok'] = row['missing'] == 0 and longest < args.stall_limit and row['alive'] and left == '0/0'
    except Exception as ex:  # noqa
        row['note'] = f'error: {ex!r:.200}'
        row['ok'] = False
    finally:
        w.stop()
        if pub:
            try:
                pub.close()
            except Exception:  # noqa
                pass
        purge(broker, q)
        cnt.close()
    log(f'  -> {row}')
    return row


def settle_check(broker, q, w, settle=0.0):
    """'ready/unacked' still in the broker while the worker is alive (Redis: list length / `unacked`
    entries); polled for up to `settle` seconds until both are 0."""
    deadline = time.monotonic() + settle
    while True:
        if broker == 'amqp':
            qc = queue_counts(q)
            left = f'{qc[0]}/{qc[1]}' if qc else '?'
        else:
            r = redis.Redis(db=REDIS_BROKER_DB)
            try:
                left = f'{r.llen(q)}/{r.hlen("unacked")}'
            finally:
                r.close()
        if left == '0/0' or time.monotonic() >= deadline:
            return left
        time.sleep(1.0)


def _describe(v, ctx=None):
    """A short description of an `unacked` entry that is not a good task (the hostile kind, if known)."""
    try:
        env = json.loads(v)[0]
        env = json.loads(env) if isinstance(env, (str, bytes)) else env
        h = env.get('headers') if isinstance(env, dict) else None
        if isinstance(h, dict) and ctx and str(h.get('id')) in ctx.kind_of:
            return ctx.kind_of[str(h.get('id'))]
        p = env.get('properties') if isinstance(env, dict) else None
        if isinstance(p, dict) and ctx and str(p.get('correlation_id')) in ctx.kind_of:
            return ctx.kind_of[str(p.get('correlation_id'))]
        if isinstance(h, dict):
            return f"task={str(h.get('task'))[:30]} id={str(h.get('id'))[:12]}"
        return f'envelope keys {sorted(env)[:5]}' if isinstance(env, dict) else f'{type(env).__name__}'
    except (ValueError, TypeError, IndexError, AttributeError):
        return repr(v[:60])


def ours_held_detail(w, ctx):
    """What Celerity says it holds (inspect active / reserved / scheduled over its HTTP API)."""
    parts = []
    for what in ('active', 'reserved', 'scheduled'):
        try:
            h = http.client.HTTPConnection('127.0.0.1', w.port, timeout=5)
            h.request('GET', f'/control/inspect/{what}')
            body = json.loads(h.getresponse().read())
            h.close()
            reqs = next(iter(body.values())) if isinstance(body, dict) and body else []
            ids = []
            for r in reqs if isinstance(reqs, list) else []:
                r = r.get('request', r) if isinstance(r, dict) else {}
                tid = str(r.get('id'))
                ids.append(ctx.kind_of.get(tid) or ('good' if tid in ctx.good_ids else tid[:13]))
            parts.append(f'{what}: {len(ids)}' + (f' ({", ".join(sorted(set(ids)))})' if ids else ''))
        except (OSError, http.client.HTTPException, ValueError, StopIteration) as e:
            parts.append(f'{what}: ? ({e!r:.40})')
        finally:
            pass
    return 'Celerity holds ' + ', '.join(parts)


def amqp_leftover_detail(w, q, ctx):
    """Which messages the worker did not settle: stop it (RabbitMQ requeues what it held), then
    basic_get everything left and name the hostile kinds (the worker is restarted by the caller)."""
    w.stop()
    c = amqp_conn()
    try:
        ch = c.channel()
        kinds = {}
        while True:
            m = ch.basic_get(q, no_ack=True)
            if m is None:
                break
            h = m.headers or {}
            tid = str(h.get('id'))
            k = ctx.kind_of.get(tid) or ('good' if tid in ctx.good_ids else f'task={str(h.get("task"))[:20]}')
            kinds[k] = kinds.get(k, 0) + 1
        return 'left after stop: ' + (', '.join(f'{k} x{n}' for k, n in sorted(kinds.items())) or 'nothing')
    finally:
        c.close()


def redis_unacked_detail(cnt, ctx=None):
    """What the entries left in `unacked` are: task ids, and whether chaos.mark ran them already."""
    r = redis.Redis(db=REDIS_BROKER_DB)
    try:
        ran, notran, other, others = 0, 0, 0, {}
        for _, v in r.hscan_iter('unacked'):
            try:
                env = json.loads(v)[0]
                env = json.loads(env) if isinstance(env, (str, bytes)) else env
                if ctx and str(env['headers']['id']) not in ctx.good_ids:
                    raise ValueError('not a good task')
                seq = int(str(env['headers']['id'])[-12:])
            except (ValueError, KeyError, TypeError, IndexError):
                other += 1
                dk = _describe(v, ctx)
                others[dk] = others.get(dk, 0) + 1
                continue
            if cnt.r.hexists(cnt.key, seq):
                ran += 1
            else:
                notran += 1
        detail = f'`unacked` holds {ran} executed + {notran} not executed task(s) + {other} other'
        return detail + (' (' + ', '.join(f'{k} x{n}' for k, n in sorted(others.items()))[:300] + ')' if others else '')
    finally:
        r.close()


# ---------------------------------------------------------------------------------------------
# scenario 3: the result backend unavailable for T seconds during an acks_late drain

class PrivateRedis:
    """A redis-server of our own on a free port: it can go away without disturbing anybody else."""

    def __init__(self, workdir):
        self.port = B.free_port()
        self.dir = tempfile.mkdtemp(prefix='chaos-redis-', dir=workdir)
        self.proc = None

    def start(self):
        self.proc = B.start_proc(['redis-server', '--port', str(self.port), '--bind', '127.0.0.1', '--dir', self.dir,
                                  '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no'],
                                 logpath=os.path.join(self.dir, 'redis.log'), desc='private redis')
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError('private redis-server did not start')

    def shutdown(self):
        """SHUTDOWN SAVE: what was written stays on disk and is loaded by the next start."""
        try:
            redis.Redis(port=self.port).shutdown(save=True)
        except redis.ConnectionError:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        B.stop_proc(self.proc)

    def stop(self):
        B.stop_proc(self.proc)


def scenario_backend(args, cfg):
    n = args.backend_n
    q = f'chaos-backend-{cfg}-{run_id()}'
    ctx = corpus.Ctx(q, f'chaos:{q}', f'chaos:{q}:bad', run_id())
    cnt = Counter(ctx.good_key)
    red = PrivateRedis(args.workdir)
    w = Worker(args, cfg, 'amqp', q, backend=f'redis://127.0.0.1:{red.port}/0')
    row = dict(scenario=f'result backend down {args.outage:g}s', broker='RabbitMQ', worker=w.label, n=n)
    log(f'backend: {w.label} N={n} queue={q} backend port {red.port}')
    try:
        red.start()
        fill('amqp', q, ctx, n, args.backend_sleep)
        t0 = time.monotonic()
        w.start()
        while cnt.distinct() < n * 0.2:
            if not w.alive() or time.monotonic() - t0 > args.stall * 3:
                raise RuntimeError(f'no start of the drain: {w.log_tail()}')
            time.sleep(0.1)
        at = cnt.distinct()
        red.shutdown()
        time.sleep(args.outage)
        during = cnt.distinct() - at
        red.start()
        row['done_during_outage'] = during
        last, last_t = -1, time.monotonic()
        rr = redis.Redis(port=red.port)
        keys = [f'celery-task-meta-{corpus.task_id(ctx.run, s)}' for s in range(n)]

        def stored():
            ok = 0
            for i in range(0, n, 1000):
                for v in rr.mget(keys[i:i + 1000]):
                    if v and json.loads(v).get('status') == 'SUCCESS':
                        ok += 1
            return ok
        while True:
            d = cnt.distinct()
            s = stored() if d >= n else 0
            if d >= n and s >= n:
                break
            prog = d + s
            if prog != last:
                last, last_t = prog, time.monotonic()
            if not w.alive():
                row['note'] = f'worker died: {w.log_tail()}'
                break
            if time.monotonic() - last_t > args.stall:
                row['note'] = f'no progress for {args.stall:g}s'
                break
            time.sleep(0.5)
        row['wall_s'] = time.monotonic() - t0
        time.sleep(1.0)
        row['alive'] = w.alive()
        left = settle_check('amqp', q, w, settle=args.settle_max)
        d, e, s = cnt.distinct(), cnt.executions(), stored()
        row.update(missing=n - d, duplicates=e - d, results_stored=s, results_lost=n - s, left=left)
        row['ok'] = row['missing'] == 0 and s == n and row['alive'] and left == '0/0'
        rr.close()
    except Exception as ex:  # noqa
        row['note'] = f'error: {ex!r:.200}'
        row['ok'] = False
    finally:
        w.stop()
        red.stop()
        purge('amqp', q)
        cnt.close()
    log(f'  -> {row}')
    return row


# ---------------------------------------------------------------------------------------------
# scenario 4: the hostile corpus (all kinds interleaved with good tasks; then each kind on its own)

def wait_good(cnt, n, w, stall):
    last, last_t = -1, time.monotonic()
    while True:
        d = cnt.distinct()
        if d >= n:
            return None
        if d != last:
            last, last_t = d, time.monotonic()
        if not w.alive():
            return 'dead'
        if time.monotonic() - last_t > stall:
            return f'stuck {d}/{n}'
        time.sleep(0.1)


def hostile_batch(args, w, broker, q, kinds, per_kind, n_good, stall):
    """Publishes the batch on the running worker's queue; returns (outcome, details)."""
    ctx = corpus.Ctx(q, f'chaos:{q}:{run_id()}', f'chaos:{q}:bad', run_id())
    cnt = Counter(ctx.good_key)
    try:
        msgs = corpus.interleave(ctx, broker, kinds, per_kind, n_good)
        pub = Publisher(broker, q)
        try:
            for m in msgs:
                pub.send(m)
        finally:
            pub.close()
        del msgs
        res = wait_good(cnt, n_good, w, stall)
        time.sleep(args.settle)
        alive = w.alive()
        left = settle_check(broker, q, w, settle=args.settle_max) if alive else '-'
        rss = w.rss_mb()
        note = None
        if left != '0/0' and alive and w.ours:
            note = ours_held_detail(w, ctx)
        if left != '0/0' and broker == 'redis' and alive:
            note = ((note + '; ') if note else '') + redis_unacked_detail(cnt, ctx)
        elif left != '0/0' and alive:
            # does one more delivery shake the unsettled ones loose (an ack waiting for a flush)?
            pub2 = Publisher(broker, q)
            pub2.send(corpus.good(ctx, n_good))
            pub2.close()
            time.sleep(3)
            note = ((note + '; ') if note else '') + f'after one more task: {settle_check(broker, q, w)}; '
            note += amqp_leftover_detail(w, q, ctx)
        d = cnt.distinct()
        out = dict(good_done=d, good=n_good, alive=alive, left=left, rss_mb=rss, publish_failed=pub.failed)
        if not alive:
            out['outcome'] = 'DIED'
            out['note'] = w.log_tail()
        elif res:
            out['outcome'] = 'STALLED'
        elif left not in ('0/0',):
            out['outcome'] = 'LEFT ' + left
        else:
            out['outcome'] = 'ok'
        if note and 'note' not in out:
            out['note'] = note
        return out
    finally:
        cnt.close()


def scenario_hostile(args, cfg, broker):
    kinds = [k for k in corpus.kinds_for(broker) if not args.kinds or re.search(args.kinds, k)]
    rows = []
    bname = 'RabbitMQ' if broker == 'amqp' else 'Redis'

    def fresh():
        q = f'chaos-hostile-{cfg}-{broker}-{run_id()}'
        if broker == 'redis':
            purge('redis', q)
        w = Worker(args, cfg, broker, q, conc=2)
        w.start()
        w.wait_consuming()
        return w, q

    # all kinds together
    if not args.per_kind_only:
        log(f'hostile: {cfg} {broker} {len(kinds)} kinds x {args.per_kind} + {args.good} good')
        w, q = fresh()
        try:
            idle = w.rss_mb()
            out = hostile_batch(args, w, broker, q, kinds, args.per_kind, args.good, args.stall)
            out.update(scenario=f'hostile corpus: {len(kinds)} kinds x {args.per_kind}', broker=bname,
                       worker=w.label, rss_idle_mb=idle, kind='(all)')
            out['ok'] = out['outcome'] == 'ok'
        except Exception as ex:  # noqa
            out = dict(scenario='hostile corpus', broker=bname, worker=w.label, kind='(all)', ok=False,
                       outcome=f'error {ex!r:.150}')
        finally:
            w.stop()
            purge(broker, q)
        log(f'  -> {out}')
        rows.append(out)
    # one kind at a time (a worker that was hurt is replaced before the next kind)
    if args.per_kind_runs:
        w, q = fresh()
        try:
            for k in kinds:
                try:
                    out = hostile_batch(args, w, broker, q, [k], args.kind_n, args.kind_good, args.kind_stall)
                except Exception as ex:  # noqa
                    out = dict(outcome=f'error {ex!r:.150}')
                out.update(scenario='hostile kind', broker=bname, worker=w.label, kind=k)
                out['ok'] = out['outcome'] == 'ok'
                log(f'  {k}: {out["outcome"]} ({out.get("good_done")}/{out.get("good")} good, left {out.get("left")})')
                rows.append(out)
                if not out['ok']:
                    w.stop()
                    purge(broker, q)
                    w, q = fresh()
        finally:
            w.stop()
            purge(broker, q)
    return rows


# ---------------------------------------------------------------------------------------------
# scenario 5: soak on the thread pool (RSS growth after warm-up)

def scenario_soak(args, cfg):
    n, warm = args.soak_n, args.soak_warm
    q = f'chaos-soak-{cfg}-{run_id()}'
    ctx = corpus.Ctx(q, f'chaos:{q}', f'chaos:{q}:bad', run_id())
    conc = 8 if cfg == 'ours-threads' else 2
    w = Worker(args, cfg, 'amqp', q, conc=conc)
    row = dict(scenario=f'soak {n:,} tasks', broker='RabbitMQ', worker=w.label, n=n)
    log(f'soak: {w.label} N={n} queue={q}')
    c = amqp_conn()
    ch = c.channel()
    try:
        pub = Publisher('amqp', q)
        w.start()
        w.wait_consuming()
        t0 = time.monotonic()
        rss_warm = None
        rss_max_after_warm = 0.0
        # examples.add-like load without results: chaos.mark on a counter would make Redis the
        # bottleneck, so the soak counts ready messages instead (acks_late: ready + unacked drain to 0)
        for seq in range(n):
            if seq % 5000 == 0:
                while True:
                    _, ready, _ = ch.queue_declare(q, durable=True, auto_delete=False)
                    done = seq - ready
                    if done >= warm and rss_warm is None:
                        rss_warm = w.rss_mb()
                    if rss_warm is not None:
                        rss_max_after_warm = max(rss_max_after_warm, w.rss_mb() or 0)
                    if ready < 20000:
                        break
                    if not w.alive():
                        raise RuntimeError(f'worker died: {w.log_tail()}')
                    time.sleep(0.2)
            tid = corpus.task_id(ctx.run, seq)
            pub.send(corpus.task_msg('chaos.noop', tid, [], ignore_result=True))
        pub.close()
        while True:
            _, ready, _ = ch.queue_declare(q, durable=True, auto_delete=False)
            if ready == 0 or not w.alive():
                break
            time.sleep(0.5)
        time.sleep(2)
        row['wall_s'] = time.monotonic() - t0
        rss_end = w.rss_mb()
        rss_max_after_warm = max(rss_max_after_warm, rss_end or 0)
        row.update(rss_warm_mb=rss_warm, rss_end_mb=rss_end, rss_max_after_warm_mb=rss_max_after_warm,
                   alive=w.alive(), left=settle_check('amqp', q, w))
        if rss_warm:
            row['growth_pct'] = round(100.0 * (rss_max_after_warm - rss_warm) / rss_warm, 1)
        row['ok'] = bool(rss_warm) and row.get('growth_pct', 100) < 10 and row['alive'] and row['left'] == '0/0'
    except Exception as ex:  # noqa
        row['note'] = f'error: {ex!r:.200}'
        row['ok'] = False
    finally:
        c.close()
        w.stop()
        purge('amqp', q)
    log(f'  -> {row}')
    return row


# ---------------------------------------------------------------------------------------------
# report

def fmt(v):
    if v is None:
        return '-'
    if isinstance(v, bool):
        return 'yes' if v else 'no'
    if isinstance(v, float):
        return f'{v:.1f}'
    return str(v).replace('|', '/').replace('\n', ' ')


def table(rows, cols):
    head = '| ' + ' | '.join(h for h, _ in cols) + ' |\n|' + '|'.join('---' for _ in cols) + '|\n'
    return head + ''.join('| ' + ' | '.join(fmt(r.get(k)) for _, k in cols) + ' |\n' for r in rows)


def verdict(r):
    return 'PASS' if r.get('ok') else 'FAIL'


def report(args, results):
    out = [f'# Fault-injection run {datetime.datetime.now():%Y-%m-%d %H:%M}\n',
           f'Command: `{args.cmdline}`; mode: {"quick" if args.quick else "full"}; '
           f'machine: {platform.node()} {os.cpu_count()} CPUs; jar: `{args.jar}`\n']
    for r in results:
        r['verdict'] = verdict(r)
    sec = {k: [r for r in results if r['_s'] == k] for k in ('kill', 'close', 'backend', 'hostile', 'kind', 'soak')}
    if sec['kill']:
        out.append(f'\n## kill -9 of the worker\'s process group every {args.kill_every:g} s '
                   f'(from {"consuming" if args.kill_from == "consuming" else "start"}; acks_late, RabbitMQ)\n\n'
                   'duplicates may reach kills x window (prefetch multiplier x concurrency); missing must be 0.\n\n')
        out.append(table(sec['kill'], [('worker', 'worker'), ('N', 'n'), ('kills', 'kills'),
                                       ('done while killing', 'done_during_kills'), ('missing', 'missing'),
                                       ('duplicates', 'duplicates'), ('window', 'window'),
                                       ('left in queue', 'left_in_queue'), ('start to consuming s', 'boot_s'),
                                       ('wall s', 'wall_s'),
                                       ('verdict', 'verdict'), ('note', 'note')]))
    if sec['close']:
        out.append(f'\n## broker connections of the worker closed (paced drain), longest stall must be < '
                   f'{args.stall_limit:g} s\n\n')
        out.append(table(sec['close'], [('broker', 'broker'), ('worker', 'worker'), ('N', 'n'), ('closes', 'closes'),
                                        ('missing', 'missing'), ('duplicates', 'duplicates'),
                                        ('longest stall s', 'longest_stall_s'), ('alive', 'alive'),
                                        ('ready/unacked after', 'left'), ('verdict', 'verdict'), ('note', 'note')]))
    if sec['backend']:
        out.append(f'\n## result backend (private redis-server) down {args.outage:g} s during an acks_late drain\n\n')
        out.append(table(sec['backend'], [('worker', 'worker'), ('N', 'n'), ('done during outage', 'done_during_outage'),
                                          ('missing', 'missing'), ('duplicates', 'duplicates'),
                                          ('results lost', 'results_lost'), ('alive', 'alive'),
                                          ('ready/unacked after', 'left'), ('verdict', 'verdict'), ('note', 'note')]))
    if sec['hostile']:
        out.append(f'\n## hostile corpus: every kind x {args.per_kind} interleaved with {args.good} good tasks\n\n')
        out.append(table(sec['hostile'], [('broker', 'broker'), ('worker', 'worker'), ('kinds', 'scenario'),
                                          ('good done', 'good_done'), ('alive', 'alive'),
                                          ('ready/unacked after', 'left'), ('RSS idle MB', 'rss_idle_mb'),
                                          ('RSS after MB', 'rss_mb'), ('outcome', 'outcome'),
                                          ('verdict', 'verdict'), ('note', 'note')]))
    if sec['kind']:
        out.append(f'\n## hostile corpus, one kind at a time ({args.kind_n} bad + {args.kind_good} good each)\n\n'
                   'ok = all good tasks done, worker alive, queue empty and nothing unacked. '
                   'STALLED = good tasks stuck behind the kind; LEFT r/u = messages still ready/unacked; '
                   'DIED = the worker process exited.\n\n')
        workers = []
        for r in sec['kind']:
            key = f'{r["worker"]}, {r["broker"]}'
            if key not in workers:
                workers.append(key)
        kinds = []
        for r in sec['kind']:
            if r['kind'] not in kinds:
                kinds.append(r['kind'])
        cell = {(f'{r["worker"]}, {r["broker"]}', r['kind']): r['outcome'] for r in sec['kind']}
        out.append('| kind | ' + ' | '.join(workers) + ' |\n|---|' + '---|' * len(workers) + '\n')
        for k in kinds:
            out.append(f'| {k} | ' + ' | '.join(cell.get((wk, k), 'n/a') for wk in workers) + ' |\n')
        bad = [r for r in sec['kind'] if not r.get('ok')]
        if bad:
            out.append('\nNot ok:\n\n')
            for r in bad:
                out.append(f'- {r["kind"]}, {r["worker"]}, {r["broker"]}: {r["outcome"]}, '
                           f'{r.get("good_done")}/{r.get("good")} good done'
                           + (f'; {r["note"]}' if r.get('note') else '') + '\n')
    if sec['soak']:
        out.append('\n## soak (Celerity: thread pool -c 8; Celery: prefork -c 2), RSS growth after warm-up must be < 10%\n\n')
        out.append(table(sec['soak'], [('worker', 'worker'), ('N', 'n'), ('RSS warm MB', 'rss_warm_mb'),
                                       ('max after warm MB', 'rss_max_after_warm_mb'), ('end MB', 'rss_end_mb'),
                                       ('growth %', 'growth_pct'), ('alive', 'alive'), ('left', 'left'),
                                       ('wall s', 'wall_s'), ('verdict', 'verdict'), ('note', 'note')]))
    return ''.join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--jar', required=True)
    ap.add_argument('--classes', required=True, help='directory with the compiled ChaosTasks.class')
    ap.add_argument('--out')
    ap.add_argument('--state-file')
    ap.add_argument('--cmdline', default='')
    ap.add_argument('--quick', action='store_true', help='small counts: a smoke check in a few minutes')
    ap.add_argument('--only', default='kill,close,backend,hostile',
                    help='scenarios: kill,close,backend,hostile,kinds,soak (soak and kinds are not in the default)')
    ap.add_argument('--workers', default='ours,celery', help='ours,celery')
    ap.add_argument('--brokers', default='amqp,redis', help='for close and hostile')
    ap.add_argument('--kinds', default='', help='regex: only these hostile kinds')
    ap.add_argument('--java-opts', default=os.environ.get('CHAOS_JAVA_OPTS', ''))
    ap.add_argument('--stall', type=float, default=60.0, help='no progress for this long ends a measurement')
    ap.add_argument('--stall-limit', type=float, default=15.0, help='longest allowed stall in the close scenario')
    ap.add_argument('--kill-n', type=int, default=3000)
    ap.add_argument('--kill-every', type=float, default=3.0)
    ap.add_argument('--kill-max', type=int, default=12)
    ap.add_argument('--kill-from', choices=('consuming', 'start'), default='consuming',
                    help='the kill interval counts from when the worker consumes (default) or from its start')
    ap.add_argument('--kill-sleep', type=float, default=0.01, help='seconds each task sleeps')
    ap.add_argument('--close-n', type=int, default=20000)
    ap.add_argument('--closes', type=int, default=20)
    ap.add_argument('--close-every', type=float, default=3.0)
    ap.add_argument('--backend-n', type=int, default=3000)
    ap.add_argument('--backend-sleep', type=float, default=0.01)
    ap.add_argument('--outage', type=float, default=10.0)
    ap.add_argument('--per-kind', type=int, default=40)
    ap.add_argument('--good', type=int, default=1000)
    ap.add_argument('--per-kind-only', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--kind-n', type=int, default=40)
    ap.add_argument('--kind-good', type=int, default=50)
    ap.add_argument('--kind-stall', type=float, default=20.0)
    ap.add_argument('--settle', type=float, default=2.0, help='wait after the good tasks are done, before checking')
    ap.add_argument('--settle-max', type=float, default=15.0, help='poll this long for an empty queue / unacked')
    ap.add_argument('--bomb-mb', type=int, default=100)
    ap.add_argument('--soak-n', type=int, default=1_000_000)
    ap.add_argument('--soak-warm', type=int, default=100_000)
    args = ap.parse_args()
    if args.quick:
        args.kill_n, args.kill_max, args.kill_sleep = 600, 5, 0.03  # ~9 s of work: several kills
        args.close_n, args.closes = 2000, 5
        args.backend_n = 1000
        args.per_kind, args.good = 5, 200
        args.kind_n, args.kind_good, args.kind_stall = 5, 20, 15.0
        args.soak_n, args.soak_warm = 100_000, 20_000
        args.stall = 30.0
    corpus.BOMB_MB = args.bomb_mb
    only = set(args.only.split(','))
    workers = args.workers.split(',')
    brokers = args.brokers.split(',')
    args.per_kind_runs = 'kinds' in only
    B.STATE_FILE = args.state_file
    args.workdir = tempfile.mkdtemp(prefix='celerity-chaos-')
    log(f'worker logs in {args.workdir}')
    signal.signal(signal.SIGINT, B.on_signal)
    signal.signal(signal.SIGTERM, B.on_signal)

    cfgs = {'ours': ['ours-process-py', 'ours-threads'], 'celery': ['celery-prefork']}
    results = []

    def add(rows, s):
        for r in rows if isinstance(rows, list) else [rows]:
            r['_s'] = s
            results.append(r)

    try:
        if 'kill' in only:
            for wk in workers:
                for cfg in cfgs[wk]:
                    add(scenario_kill(args, cfg), 'kill')
        if 'close' in only:
            for b in brokers:
                for wk in workers:
                    for cfg in cfgs[wk]:  # Python children too: tasks queued in a child (child_pipeline)
                        add(scenario_connclose(args, cfg, b), 'close')
        if 'backend' in only:
            for wk in workers:
                for cfg in cfgs[wk]:
                    add(scenario_backend(args, cfg), 'backend')
        if 'hostile' in only or 'kinds' in only:
            args.per_kind_only = 'hostile' not in only
            for b in brokers:
                for wk in workers:
                    rows = scenario_hostile(args, 'ours-threads' if wk == 'ours' else 'celery-prefork', b)
                    add([r for r in rows if r.get('kind') == '(all)'], 'hostile')
                    add([r for r in rows if r.get('kind') != '(all)'], 'kind')
        if 'soak' in only:
            for wk in workers:
                add(scenario_soak(args, 'ours-threads' if wk == 'ours' else 'celery-prefork'), 'soak')
    except KeyboardInterrupt:
        log('interrupted: stopping workers')
    finally:
        B.cleanup_all()
        md = report(args, results)
        print(md)
        if args.out:
            with open(args.out, 'w') as f:
                f.write(md)
            log(f'report saved to {args.out}')
    return 0 if results and all(r.get('ok') for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
