"""A pipelining child (protocol v2, "pipeline": true) that always loses the race for an unqueued task:
it answers every `unqueue` with `begun` and runs the task anyway, as a child does that had begun it
when the word came. Tasks: `late.sleep(seconds)` returns its seconds after sleeping them."""
import json
import os
import queue
import socket
import struct
import sys
import threading
import time


def main():
    hs = json.loads(sys.stdin.readline())
    sock = socket.create_connection((hs['host'], hs['port']))
    rfile = sock.makefile('rb')
    lock = threading.Lock()

    def send(message):
        data = json.dumps(message).encode()
        with lock:
            sock.sendall(struct.pack('>I', len(data)) + data)

    send({'type': 'hello', 'token': hs['token'], 'pid': os.getpid(), 'lang': 'python', 'protocol': 2,
          'pipeline': True})
    send({'type': 'ready', 'tasks': [{'name': 'late.sleep'}]})
    jobs = queue.SimpleQueue()

    def serve():
        while True:
            m = jobs.get()
            time.sleep(m['args'][0])
            send({'type': 'result', 'job': m['job'], 'value': m['args'][0]})

    threading.Thread(target=serve, daemon=True).start()
    while True:
        head = rfile.read(4)
        if len(head) < 4:
            return 0
        m = json.loads(rfile.read(struct.unpack('>I', head)[0]))
        if m.get('type') == 'run':
            jobs.put(m)
        elif m.get('type') == 'unqueue':
            send({'type': 'begun', 'job': m['job']})


if __name__ == '__main__':
    sys.exit(main())
