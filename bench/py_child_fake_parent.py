#!/usr/bin/python3
"""A fake parent driving a real Python child over the child protocol, without the JVM: the child's CPU per task
with the protocol around Celery's tracer (framing, JSON, threads, socket), serial or pipelined.

Usage: [APP=py_tasks TASK=examples.add] /usr/bin/python3 bench/py_child_fake_parent.py RUNNER_DIR DEPTH N [BACKEND_URL]

RUNNER_DIR holds the celerity_child.py to run (celerity-worker/src/main/resources/python, or a modified copy);
DEPTH = runs in flight (1: the parent's way for synchronous tasks; >1: pipelined, or coroutines with an async TASK
such as APP=async_tasks TASK=bench.asleep). Prints tasks/s, the child's CPU µs per task and its threads' voluntary
context switches per task (/proc; threads that exit meanwhile are not counted).
"""
import json, os, socket, struct, subprocess, sys, time, uuid
runner_dir, depth, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
backend = sys.argv[4] if len(sys.argv) > 4 else ''
APP = os.environ.get('APP', 'py_tasks'); TASK = os.environ.get('TASK', 'examples.add')
ARGS = (lambda i: [i, i]) if TASK == 'examples.add' else (lambda i: [])
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
env = dict(os.environ, PYTHONPATH=runner_dir + ':' + os.path.dirname(os.path.abspath(__file__)), CELERITY_TEST_BACKEND=backend,
           CELERITY_TEST_BROKER='amqp://guest:guest@127.0.0.1:5672/celerity-test')
p = subprocess.Popen(['/usr/bin/python3', '-m', 'celerity_child', APP], stdin=subprocess.PIPE, env=env)
p.stdin.write((json.dumps({'host': '127.0.0.1', 'port': srv.getsockname()[1], 'token': 't', 'hostname': 'x@y',
                           'result_backend': backend or None, 'defer_stores': os.environ.get('DEFER', '1') == '1', 'heartbeat': 5.0, 'async_concurrency': 100}) + '\n').encode()); p.stdin.close()
s, _ = srv.accept(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile('rb')
def read():
    (l,) = struct.unpack('>I', f.read(4)); return json.loads(f.read(l))
def frame(i):
    tid = str(uuid.uuid4())
    headers = {'lang': 'py', 'task': 'examples.add', 'id': tid, 'shadow': None, 'eta': None, 'expires': None,
               'group': None, 'group_index': None, 'retries': 0, 'timelimit': [None, None], 'root_id': tid,
               'parent_id': None, 'argsrepr': '(1, 1)', 'kwargsrepr': '{}', 'origin': 'gen1@bench', 'ignore_result': False}
    request = dict(headers, properties={'correlation_id': tid, 'reply_to': None}, reply_to=None, correlation_id=tid,
                   hostname='x@y', delivery_info={'exchange': '', 'routing_key': 'q', 'priority': 0, 'redelivered': False})
    b = json.dumps({'type': 'run', 'job': i, 'id': tid, 'task': TASK, 'args': ARGS(i), 'kwargs': {},
                    'embed': {'callbacks': None, 'errbacks': None, 'chain': None, 'chord': None}, 'request': request}).encode()
    return struct.pack('>I', len(b)) + b
while read()['type'] != 'ready': pass
frames = [frame(i) for i in range(n)]
def cpu():
    with open('/proc/%d/stat' % p.pid) as fh: x = fh.read().rpartition(')')[2].split()
    return (int(x[11]) + int(x[12])) / os.sysconf('SC_CLK_TCK')
def switches():  # voluntary context switches of the child's threads alive now (thread switches cost the child most)
    n = 0
    for tid in os.listdir('/proc/%d/task' % p.pid):
        try:
            with open('/proc/%d/task/%s/status' % (p.pid, tid)) as fh: n += sum(int(l.split()[1]) for l in fh if l.startswith('voluntary_ctxt'))
        except OSError: pass
    return n
sent = done = 0
t0, c0, s0 = time.time(), cpu(), switches()
while done < n:
    while sent < n and sent - done < depth:
        s.sendall(frames[sent]); sent += 1
    m = read()
    if m['type'] != 'heartbeat': done += 1
t1, c1, s1 = time.time(), cpu(), switches()
print('depth %d backend=%s: %.0f tasks/s, child CPU %.0f us/task, %.1f voluntary context switches/task (reply %s)' % (
    depth, backend or 'none', n / (t1 - t0), 1e6 * (c1 - c0) / n, (s1 - s0) / n, m['type']))
f.close(); s.close(); p.kill(); p.wait()
