"""The Celery application and the one beat schedule.

Tasks subclass ``DjangoTask``, so ``task.delay_on_commit(...)`` enqueues only
after the surrounding transaction commits (nothing is sent for a rollback).
Tasks that must not be lost declare ``acks_late=True`` and
``reject_on_worker_lost=True`` themselves.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesorg.settings")

app = Celery("salesorg", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

#: Every periodic job of the product, in one place. Each job is idempotent: it
#: works out from the database what is due, so a second beat or a retry does no
#: double work.
app.conf.beat_schedule = {
    "worker-heartbeat": {
        "task": "accounts.tasks.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
}
