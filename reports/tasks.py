"""Scheduled jobs of the reports app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.notifications import notify
from reports.jobs import scheduled_job, weekly_slot

BATCH = 500


def weekly_report_url() -> str:
    """The rep's weekly report page once the reports app has it, else the home page."""
    try:
        return reverse("reports:weekly-report")
    except NoReverseMatch:
        return reverse("home")


@scheduled_job("weekly_report_reminders", slot=weekly_slot)
def weekly_report_reminders(now: datetime) -> dict[str, Any]:
    """Friday afternoon: remind every active rep to write the week's sales report.

    Once a week per rep (dedupe key ``weekly_report:<ISO week>``), linking to
    the weekly report page (the home page where that page is not installed).
    """
    year, week, _weekday = timezone.localdate(now).isocalendar()
    key = f"weekly_report:{year}-W{week:02d}"
    reps = User.objects.active().filter(role=Role.REP).order_by("pk")
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
                url=weekly_report_url(),
                dedupe_key=key,
            )
        )
    return {"reps_reminded": reminded, "week": f"{year}-W{week:02d}"}
