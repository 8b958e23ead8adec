"""Celery tasks of the clients app; each area's module registers its own tasks."""

from clients import survey_jobs  # noqa: F401  (surveys: sending, reminders, scheduled surveys)
