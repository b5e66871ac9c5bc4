"""A child speaking Celerity's child protocol (v2) badly, for the process-pool tests. Replies to:
`bad.reply`: a frame that is not JSON; `bad.retry`: JSON the worker cannot use; `bad.garbage`: raw bytes
without framing; `bad.truncated`: the start of a frame, then silence (the child stays alive);
`bad.unknown_job`: a reply for a job number it was never given; `bad.twice`: its reply, twice;
`bad.skipped`: `skipped` for the task it runs, which it was never asked to skip;
`bad.huge`: a frame length over the limit; `bad.async` (a coroutine, several may be in flight): an
`error` frame for a job number not in flight; `bad.echo` answers normally (`result`: the task's args)."""
import json
import os
import socket
import struct
import sys
import time


def send_raw(sock, data):
    sock.sendall(struct.pack('>I', len(data)) + data)


def send(sock, message):
    send_raw(sock, json.dumps(message).encode())


def main():
    hs = json.loads(sys.stdin.readline())
    sock = socket.create_connection((hs['host'], hs['port']))
    rfile = sock.makefile('rb')
    send(sock, {'type': 'hello', 'token': hs['token'], 'pid': os.getpid(), 'lang': 'python', 'protocol': 2,
                'async_capacity': 4})
    names = ['bad.reply', 'bad.retry', 'bad.garbage', 'bad.truncated', 'bad.unknown_job', 'bad.twice', 'bad.huge',
             'bad.skipped', 'bad.echo']
    send(sock, {'type': 'ready', 'tasks': [{'name': n} for n in names] + [{'name': 'bad.async', 'async': True}]})
    while True:
        head = rfile.read(4)
        if len(head) < 4:
            return 0
        m = json.loads(rfile.read(struct.unpack('>I', head)[0]))
        if m.get('type') != 'run':
            continue
        job, task = m['job'], m['task']
        if task == 'bad.reply':
            send_raw(sock, b'{"type": "result", "job": ' + str(job).encode() + b', "value": not json')
        elif task == 'bad.retry':  # JSON, but a retry whose eta is no date
            send(sock, {'type': 'retry', 'job': job, 'exc_type': 'KeyError', 'exc_message': [], 'eta': 'not a date'})
        elif task == 'bad.garbage':
            sock.sendall(b'Traceback (most recent call last): printed on the wrong stream\n')
        elif task == 'bad.truncated':
            sock.sendall(struct.pack('>I', 1000) + b'{"type": "result", "job": ')
            time.sleep(3600)
        elif task == 'bad.unknown_job':
            send(sock, {'type': 'result', 'job': job + 1000, 'value': 1})
        elif task == 'bad.twice':
            send(sock, {'type': 'result', 'job': job, 'value': 'first'})
            send(sock, {'type': 'result', 'job': job, 'value': 'second'})
        elif task == 'bad.skipped':
            send(sock, {'type': 'skipped', 'job': job})
        elif task == 'bad.huge':
            sock.sendall(struct.pack('>I', 0x7fffffff) + b'{}')
        elif task == 'bad.async':
            send(sock, {'type': 'error', 'job': job + 1000, 'exc_type': 'KeyError', 'exc_message': []})
        else:
            send(sock, {'type': 'result', 'job': job, 'value': m['args']})


if __name__ == '__main__':
    sys.exit(main())
