"""Celery tasks of the reports app: the nightly KPI rollup, on-demand recomputes and
the weekly sales-report reminder."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from celery import shared_task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from reports import rollups
from reports.jobs import daily_slot, scheduled_job, weekly_slot
from reports.models import JobRun
from reports.weekly import reporters_missing

JOB_NAME = "kpi_rollup"


def _previous_run_started() -> datetime | None:
    """When the last successful rollup started: records changed since then are due."""
    return (
        JobRun.objects.filter(job=JOB_NAME, status=JobRun.Status.OK)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


@scheduled_job(JOB_NAME, slot=daily_slot)
def kpi_rollup(now: datetime) -> dict[str, Any]:
    """Roll up today, yesterday, the last week, changed days and any day never rolled up.

    Idempotent: every day it touches is replaced as a whole
    (``reports.rollups.rebuild_days``), so a retry or a second run writes the
    same rows.
    """
    days = rollups.nightly_days(now, _previous_run_started())
    summary = rollups.rebuild_days(days).as_dict()
    summary["first_day"] = min(days).isoformat() if days else None
    return summary


@shared_task(
    name="reports.kpi_recompute",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
)
def kpi_recompute(days: list[str]) -> dict[str, Any]:
    """Rebuild these days (ISO dates) now, e.g. after a bulk import of past activities.

    Enqueue with ``kpi_recompute.delay_on_commit([...])``; re-running is harmless.
    """
    wanted = {date.fromisoformat(d) for d in days}
    today = timezone.localdate()
    return rollups.rebuild_days(d for d in wanted if d <= today).as_dict()


BATCH = 500


@scheduled_job("weekly_report_reminders", slot=weekly_slot)
def weekly_report_reminders(now: datetime) -> dict[str, Any]:
    """Friday afternoon: remind whoever still has to submit the week's sales report.

    Once a week per person (dedupe key ``weekly_report:<ISO week>``); those who
    already submitted are left alone.
    """
    today = timezone.localdate(now)
    year, week, _weekday = today.isocalendar()
    key = f"weekly_report:{year}-W{week:02d}"
    reps = reporters_missing(today).order_by("pk")
    reminded = last_pk = 0
    while True:
        batch = list(reps.filter(pk__gt=last_pk)[:BATCH])
        if not batch:
            break
        last_pk = batch[-1].pk
        reminded += len(
            notify(
                recipients=batch,
                kind="weekly_report_reminder",
                subject=_("Your weekly sales report for week %(week)d") % {"week": week},
                message=_(
                    "Before the weekend, write this week's sales report: your activities, "
                    "customer feedback, market information and your forecast."
                ),
                url=reverse("reports:weekly-report"),
                dedupe_key=key,
            )
        )
    return {"reps_reminded": reminded, "week": f"{year}-W{week:02d}"}
