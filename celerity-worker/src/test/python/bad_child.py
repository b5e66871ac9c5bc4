"""A child speaking Celerity's child protocol badly, for the process-pool tests: its reply to `bad.reply`
is not JSON, its reply to `bad.retry` is JSON the worker cannot use; `bad.echo` answers normally
(`result`: the task's args)."""
import json
import os
import socket
import struct
import sys


def send_raw(sock, data):
    sock.sendall(struct.pack('>I', len(data)) + data)


def send(sock, message):
    send_raw(sock, json.dumps(message).encode())


def main():
    hs = json.loads(sys.stdin.readline())
    sock = socket.create_connection((hs['host'], hs['port']))
    rfile = sock.makefile('rb')
    send(sock, {'type': 'hello', 'token': hs['token'], 'pid': os.getpid(), 'lang': 'python', 'protocol': 1})
    send(sock, {'type': 'ready', 'tasks': [{'name': 'bad.reply'}, {'name': 'bad.retry'}, {'name': 'bad.echo'}]})
    while True:
        head = rfile.read(4)
        if len(head) < 4:
            return 0
        m = json.loads(rfile.read(struct.unpack('>I', head)[0]))
        if m.get('type') != 'run':
            continue
        if m['task'] == 'bad.reply':
            send_raw(sock, b'{"type": "result", "job": ' + str(m['job']).encode() + b', "value": not json')
        elif m['task'] == 'bad.retry':  # JSON, but a retry whose eta is no date
            send(sock, {'type': 'retry', 'job': m['job'], 'exc_type': 'KeyError', 'exc_message': [], 'eta': 'not a date'})
        else:
            send(sock, {'type': 'result', 'job': m['job'], 'value': m['args'], 'rss_kib': 0})


if __name__ == '__main__':
    sys.exit(main())
