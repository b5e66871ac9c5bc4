#!/usr/bin/python3
"""Per-task cost inside a Python child, without the parent: the runner's handling of one `run` message
(examples.add), N times in a row, for a given copy of celerity_child.py.

Usage: /usr/bin/python3 bench/py_child_trace_cost.py RUNNER_PATH [--n 5000] [--backend URL]

With --backend the task's result is stored by the child (the tracer path; the older direct-call runner
never stores, its parent does). Prints µs per task (CPU time of this process and wall time).
"""
import argparse
import importlib.util
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('runner')
    p.add_argument('--n', type=int, default=5000)
    p.add_argument('--backend')
    a = p.parse_args()
    os.environ['CELERITY_TEST_BACKEND'] = a.backend or ''
    sys.path.insert(0, HERE)
    spec = importlib.util.spec_from_file_location('runner_under_test', a.runner)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    import py_tasks
    if hasattr(runner, 'CeleryApp'):
        import inspect
        conf = {'hostname': 'bench@localhost', 'result_backend': a.backend}
        extra = [None] if 'channel' in inspect.signature(runner.CeleryApp).parameters else []
        celery_app = runner.CeleryApp(py_tasks.app, conf, *extra)
        child = runner.Child(None, celery_app, None)
    else:
        child = runner.Child(None, runner.Tasks(py_tasks, []))
    queue = 'bench-trace-cost'
    delivery = {'exchange': '', 'routing_key': queue, 'priority': 0, 'redelivered': False}

    def message(i):
        tid = str(uuid.uuid4())
        headers = {'lang': 'py', 'task': 'examples.add', 'id': tid, 'shadow': None, 'eta': None, 'expires': None,
                   'group': None, 'group_index': None, 'retries': 0, 'timelimit': [None, None], 'root_id': tid,
                   'parent_id': None, 'argsrepr': '(%d, %d)' % (i, i), 'kwargsrepr': '{}', 'origin': 'gen1@bench',
                   'ignore_result': False}
        request = dict(headers, properties={'correlation_id': tid, 'reply_to': None}, reply_to=None,
                       correlation_id=tid, hostname='bench@localhost', delivery_info=delivery)
        return {'type': 'run', 'job': i, 'id': tid, 'task': 'examples.add', 'args': [i, i], 'kwargs': {},
                'embed': {'callbacks': None, 'errbacks': None, 'chain': None, 'chord': None},
                'headers': headers, 'request': request}

    msgs = [message(i) for i in range(a.n)]
    for m in msgs[:200]:  # warm-up
        child.run(m)
    c0, w0 = time.process_time(), time.perf_counter()
    for m in msgs[200:]:
        reply = child.run(m)
    c1, w1 = time.process_time(), time.perf_counter()
    n = a.n - 200
    print('%s backend=%s: %.0f us CPU, %.0f us wall per task (last reply type %s)' % (
        os.path.basename(a.runner), a.backend or 'none', 1e6 * (c1 - c0) / n, 1e6 * (w1 - w0) / n, reply['type']))


if __name__ == '__main__':
    main()
