#!/usr/bin/python3
"""Remote control from the real Celery client, for Celerity's integration tests.

    /usr/bin/python3 celery_control.py --broker URL METHOD [--arguments JSON] [--destination NODE ...]
                                       [--timeout S] [--no-reply]

Broadcasts METHOD with app.control.broadcast (what `celery control`/`inspect` use) and prints the
replies as ONE JSON list on stdout ([] with --no-reply).
"""
import argparse
import json
import sys

from celery import Celery


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--broker', required=True)
    p.add_argument('method')
    p.add_argument('--arguments', default='{}')
    p.add_argument('--destination', action='append')
    p.add_argument('--timeout', type=float, default=2.0)
    p.add_argument('--no-reply', action='store_true')
    a = p.parse_args()
    app = Celery('celerity-control', broker=a.broker)
    replies = app.control.broadcast(a.method, arguments=json.loads(a.arguments), destination=a.destination,
                                    reply=not a.no_reply, timeout=a.timeout)
    json.dump(replies or [], sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
