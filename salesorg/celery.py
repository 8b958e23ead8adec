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
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesorg.settings")

app = Celery("salesorg", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _require_secret_key(**_kwargs: object) -> None:
    """The worker signs survey links: it does not start without a ``SECRET_KEY``
    (``SystemExit``: Celery logs and ignores ordinary errors of signal handlers)."""
    from django.core.exceptions import ImproperlyConfigured

    from salesorg.startup import require_secret_key

    try:
        require_secret_key()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc


HOUR = 3600

#: Every periodic job of the product, in one place, in ``CELERY_TIMEZONE``
#: (Asia/Shanghai by default). Each job is idempotent: it works out from the
#: database what is due and claims its slot once in ``JobRun``, so a second
#: beat or a retry does no double work. Run exactly one beat (see README
#: "Scheduled jobs"); ``salesorg.beat.LockedScheduler`` makes a second one send
#: nothing. ``expires`` drops a send that waited too long for a worker, so a
#: daily job never runs after local midnight under the next day's slot.
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
    # --- scheduled jobs (care-jobs) ---
    "expire-documents": {
        "task": "jobs.expire_documents",
        "schedule": crontab(hour=0, minute=10),
        "options": {"expires": 12 * HOUR},
    },
    "rfm-scoring": {
        "task": "jobs.rfm_scoring",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    "renewal-reminders": {
        "task": "jobs.renewal_reminders",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 12 * HOUR},
    },
    "visit-reminders": {
        "task": "jobs.visit_reminders",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    "stale-deals": {
        "task": "jobs.stale_deals",
        "schedule": crontab(hour=9, minute=0, day_of_week="mon"),
        "options": {"expires": 3 * 24 * HOUR},
    },
    "weekly-report-reminders": {
        "task": "jobs.weekly_report_reminders",
        "schedule": crontab(hour=15, minute=0, day_of_week="fri"),
        "options": {"expires": 24 * HOUR},
    },
    "notification-digest": {
        "task": "jobs.notification_digest",
        "schedule": crontab(hour=18, minute=0),
        "options": {"expires": 5 * HOUR},
    },
    # complaints (care-complaints) and surveys (care-surveys) register these tasks
    "complaint-sla": {
        "task": "jobs.complaint_sla",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    "survey-quarterly": {
        "task": "jobs.survey_quarterly",
        "schedule": crontab(hour=10, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    "survey-post-project": {
        "task": "jobs.survey_post_project",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    "survey-post-complaint": {
        "task": "jobs.survey_post_complaint",
        "schedule": crontab(minute=35),
        "options": {"expires": 55 * 60},
    },
    "survey-reminders": {
        "task": "jobs.survey_reminders",
        "schedule": crontab(hour=10, minute=30),
        "options": {"expires": 12 * HOUR},
    },
    # --- end scheduled jobs ---
    # --- KPI rollups (reports-kpis): after midnight, when yesterday is complete
    "kpi-rollup": {
        "task": "jobs.kpi_rollup",
        "schedule": crontab(hour=0, minute=40),
        "options": {"expires": 6 * HOUR},
    },
    # --- end KPI rollups
}
