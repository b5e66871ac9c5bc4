from pyproj.celery import app


@app.task(name='pyproj.discovered')
def discovered():
    return 'found by autodiscover_tasks'
