#!/usr/bin/python3
"""Captures Celery events with Celery's own receiver (the one `celery events` and Flower use).

Usage: event_capture.py HOSTNAME SECONDS STOP_TYPES   (environment as ctlapp.py)
Keeps events sent by HOSTNAME. Prints "ready" on stderr once consuming, then at the end ONE JSON
list of the events on stdout. Stops after SECONDS, or as soon as an event of every type in
STOP_TYPES (comma separated) has been seen.
"""
import json
import sys
import time

from ctlapp import app


def run():
    hostname, seconds, stop = sys.argv[1], float(sys.argv[2]), set(filter(None, sys.argv[3].split(',')))
    seen = []
    deadline = time.monotonic() + seconds

    def on_event(event):
        if event.get('hostname') == hostname:
            seen.append(event)

    class Receiver(app.events.Receiver):
        def on_consume_ready(self, connection, channel, consumers, **kwargs):
            super().on_consume_ready(connection, channel, consumers, **kwargs)  # broadcasts `heartbeat`
            print('ready', file=sys.stderr, flush=True)

        def on_iteration(self):
            if time.monotonic() > deadline or (stop and stop <= {e['type'] for e in seen}):
                self.should_stop = True

    with app.connection() as conn:
        recv = Receiver(conn, handlers={'*': on_event})
        for _ in recv.consume(limit=None, timeout=None, safety_interval=0.2, wakeup=True):
            pass
    print(json.dumps(seen, default=repr))


if __name__ == '__main__':
    run()
