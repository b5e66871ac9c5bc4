"""Plain functions for ChildReadingTest: a celerity_child runs them without a Celery app."""
import time


def nap(seconds):
    time.sleep(seconds)
    return seconds


def add(x, y):
    return x + y
