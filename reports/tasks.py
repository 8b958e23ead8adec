"""Scheduled jobs of the reports app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from reports.jobs import scheduled_job, weekly_slot
from reports.weekly import reporters_missing

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
