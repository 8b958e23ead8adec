"""The job machinery: every job in the one beat schedule, in Shanghai time, reliable options."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils.module_loading import autodiscover_modules

from accounts.models import Notification, Role
from accounts.tests.factories import UserFactory
from reports.checks import check_visibility_timeout
from reports.tasks import weekly_report_reminders
from salesorg.celery import app as celery_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE = Path(__file__).resolve().parents[2]

#: Every scheduled job of issue 5 (the complaint and survey ones come with their branches).
EXPECTED = {
    "jobs.visit_reminders": (8, 0, "*"),
    "jobs.renewal_reminders": (7, 30, "*"),
    "jobs.stale_deals": (9, 0, "mon"),
    "jobs.weekly_report_reminders": (15, 0, "fri"),
    "jobs.rfm_scoring": (2, 0, "*"),
    "jobs.expire_documents": (0, 10, "*"),
    "jobs.notification_digest": (18, 0, "*"),
    "jobs.complaint_sla": ("*", "*/15", "*"),
    "jobs.survey_quarterly": (10, 0, "*"),
    "jobs.survey_post_project": ("*", 5, "*"),
    "jobs.survey_post_complaint": ("*", 35, "*"),
    "jobs.survey_reminders": (10, 30, "*"),
}


def schedule_by_task() -> dict:
    return {e["task"]: e for e in celery_app.conf.beat_schedule.values()}


def test_every_job_is_in_the_one_beat_schedule_at_its_local_time():
    entries = schedule_by_task()
    assert celery_app.conf.timezone == "Asia/Shanghai"
    for task, (hour, minute, dow) in EXPECTED.items():
        when = entries[task]["schedule"]
        assert (str(when._orig_hour), str(when._orig_minute), str(when._orig_day_of_week)) == (
            str(hour),
            str(minute),
            dow,
        ), task
    # the existing housekeeping keeps running
    assert "accounts.tasks.heartbeat" in entries
    assert "accounts.tasks.clear_expired_sessions" in entries


def test_every_installed_job_is_scheduled():
    autodiscover_modules("tasks")
    installed = {n for n in celery_app.tasks if n.startswith("jobs.") and ".test_" not in n}
    assert installed <= set(schedule_by_task())


def test_a_daily_job_is_due_at_its_local_hour_not_utc():
    when = schedule_by_task()["jobs.visit_reminders"]["schedule"]
    yesterday = datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)
    with time_machine.travel(datetime(2026, 12, 2, 7, 59, tzinfo=SHANGHAI), tick=False):
        assert when.is_due(yesterday).is_due is False
    # 08:00 in Shanghai is midnight UTC
    with time_machine.travel(datetime(2026, 12, 2, 8, 0, 5, tzinfo=SHANGHAI), tick=False):
        assert when.is_due(yesterday).is_due is True


def test_jobs_acknowledge_late_are_requeued_when_their_worker_dies_and_are_time_limited():
    autodiscover_modules("tasks")
    for name in EXPECTED:
        task = celery_app.tasks.get(name)
        if task is None:  # registered by the complaints and surveys branches
            continue
        assert task.acks_late and task.reject_on_worker_lost, name
        assert 0 < task.soft_time_limit < task.time_limit <= 30 * 60, name


def test_the_visibility_timeout_outlasts_every_late_acknowledged_task(settings):
    assert check_visibility_timeout() == []
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    warnings = check_visibility_timeout()
    assert any("jobs.visit_reminders" in w.msg for w in warnings)
    assert {w.id for w in warnings} == {"reports.W001"}


def test_the_product_refuses_a_visibility_timeout_shorter_than_the_time_limit():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "salesorg.settings",
            "SECRET_KEY": "x" * 50,
            "REDIS_URL": "redis://127.0.0.1:6379/9",
            "CELERY_VISIBILITY_TIMEOUT": "600",
            "CELERY_TASK_TIME_LIMIT": "900",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT=600 must be longer than CELERY_TASK_TIME_LIMIT" in (
        result.stderr
    )


@pytest.mark.django_db
def test_weekly_report_reminder_once_a_week_to_every_rep_who_has_not_submitted(
    org, django_capture_on_commit_callbacks
):
    from reports.models import WeeklyReport

    UserFactory(role=Role.REP, is_active=False, reports_to=org.am)
    done = UserFactory(role=Role.REP, reports_to=org.am, username="done_rep")
    WeeklyReport.objects.create(
        owner=done,
        week_start=date(2026, 11, 30),
        status=WeeklyReport.Status.SUBMITTED,
        submitted_at=datetime(2026, 12, 4, 11, 0, tzinfo=SHANGHAI),
    )

    def run(when: datetime, slot: str | None = None):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return weekly_report_reminders.apply(kwargs={"slot_name": slot} if slot else {}).get()

    friday = datetime(2026, 12, 4, 15, 0, tzinfo=SHANGHAI)
    assert run(friday) == {"reps_reminded": 3, "week": "2026-W49"}
    assert run(friday, slot="manual") == {"reps_reminded": 0, "week": "2026-W49"}
    notes = Notification.objects.filter(kind="weekly_report_reminder")
    assert {n.recipient for n in notes} == {org.rep, org.peer_rep, org.outsider}
    assert {n.url for n in notes} == {"/dashboard/weekly-report/"}
    assert len(mail.outbox) == 3
    # the next Friday is another week, and done_rep has not submitted that one yet
    assert run(datetime(2026, 12, 11, 15, 0, tzinfo=SHANGHAI))["reps_reminded"] == 4
