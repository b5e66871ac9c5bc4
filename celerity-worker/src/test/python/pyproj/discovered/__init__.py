"""A package found by app.autodiscover_tasks()."""
