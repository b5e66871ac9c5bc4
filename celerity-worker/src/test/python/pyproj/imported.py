"""Listed in the app's `imports` setting."""
from pyproj.celery import app


@app.task(name='pyproj.imported')
def imported():
    return 'found by imports'
