"""Celery tasks of the clients app (found by ``app.autodiscover_tasks()``)."""

from clients.complaint_jobs import complaint_sla  # noqa: F401  (care-complaints)
