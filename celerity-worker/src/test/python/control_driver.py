#!/usr/bin/python3
"""Runs remote-control requests with Celery's own client (app.control) and prints the replies.

Usage: control_driver.py REQUESTS_JSON   (environment as ctlapp.py)
REQUESTS_JSON: a list of {"method", "arguments": {...}, "destination": [nodes] | null,
                          "timeout": seconds (default 2), "reply": true}
Prints ONE JSON list: per request the list of replies ({node: value} objects) Celery collected.
With a destination Celery stops waiting once every destination answered.
"""
import json
import sys

from ctlapp import app


def main():
    requests = json.loads(sys.argv[1])
    out = []
    with app.connection_for_write() as conn:
        for r in requests:
            dest = r.get('destination')
            replies = app.control.broadcast(
                r['method'], arguments=r.get('arguments') or {}, destination=dest,
                reply=r.get('reply', True), timeout=r.get('timeout', 2.0),
                limit=len(dest) if dest else None, connection=conn)
            out.append(replies)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
