#!/usr/bin/python3
"""Prefill a queue with N examples.add task messages published by Debian's Celery client.

Usage: /usr/bin/python3 bench/prefill.py BROKER_URL QUEUE N [--ignore-result] [--payload BYTES] [--queues K] [--countdown S]
Messages are exactly what app.send_task produces (protocol v2, JSON); publishing goes through one
producer so prefilling is not the bottleneck being measured.
--payload BYTES: examples.echo('x' * BYTES) instead of examples.add(i, i) (the heavy-argument rows);
--countdown S: every task with an ETA S seconds ahead (the held-ETA row);
--queues K: round-robin over the K queues QUEUE-0 .. QUEUE-(K-1) instead of QUEUE (one worker, many queues).
"""
import sys
import time

from celery import Celery


def main():
    broker, queue, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ignore = '--ignore-result' in sys.argv
    payload = int(sys.argv[sys.argv.index('--payload') + 1]) if '--payload' in sys.argv else None
    k = int(sys.argv[sys.argv.index('--queues') + 1]) if '--queues' in sys.argv else 0
    queues = [f'{queue}-{j}' for j in range(k)] if k else [queue]
    blob = 'x' * payload if payload is not None else None
    countdown = float(sys.argv[sys.argv.index('--countdown') + 1]) if '--countdown' in sys.argv else None
    app = Celery('bench', broker=broker)
    app.conf.task_default_queue = queue
    start = time.time()
    # An explicit connection closed with AMQP's close handshake: a process that just exits can leave
    # the broker's last frames unread, and the RST that follows made RabbitMQ drop the tail of the batch
    # (90 of 200,000 messages in one run).
    with app.connection_for_write() as conn:
        with app.producer_or_acquire(app.amqp.Producer(conn)) as producer:
            for i in range(n):
                q = queues[i % len(queues)]
                if blob is None:
                    app.send_task('examples.add', (i, i), queue=q, producer=producer, ignore_result=ignore,
                                  countdown=countdown)
                else:
                    app.send_task('examples.echo', (blob,), queue=q, producer=producer, ignore_result=ignore)
        conn.release()
    print(f'published {n} in {time.time() - start:.2f}s', file=sys.stderr)


if __name__ == '__main__':
    main()
