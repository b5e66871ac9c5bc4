"""Tiny Celery app for `celery -A ctlapp inspect|control|status|events` against Celerity.

Broker and backend come from the environment: CTL_BROKER (required), CTL_BACKEND (optional).
"""
import os

from celery import Celery

app = Celery('ctlapp', broker=os.environ['CTL_BROKER'], backend=os.environ.get('CTL_BACKEND') or None)
app.conf.update(accept_content=['json'], task_serializer='json', result_serializer='json')
