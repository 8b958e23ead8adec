"""Celery tasks of the clients app (found by ``app.autodiscover_tasks()``); each
area's module registers its own tasks."""

from clients import survey_jobs  # noqa: F401  (surveys: sending, reminders, scheduled surveys)
from clients.complaint_jobs import complaint_sla  # noqa: F401  (complaint SLA)
