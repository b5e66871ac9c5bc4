"""Python Celery app for the benchmark: the same example tasks Celerity has built in.

The tasks live in celerity-worker/src/test/python/py_examples.py (shared with the mixed-fleet tests); this module
only makes them importable as `-A py_tasks` with PYTHONPATH=bench. Broker and backend come from
CELERITY_TEST_BROKER / CELERITY_TEST_BACKEND.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'celerity-worker', 'src', 'test', 'python'))

from py_examples import app  # noqa: E402,F401  (registers the examples.* tasks)
