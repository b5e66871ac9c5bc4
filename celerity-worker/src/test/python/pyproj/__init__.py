"""A Celery project laid out for `celery -A pyproj` (app in pyproj/celery.py, tasks by `include`)."""
