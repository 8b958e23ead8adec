"""Scheduled jobs of the pipeline: reminders, expiry housekeeping and RFM scoring.

Each is a ``reports.jobs.scheduled_job``: it claims its schedule slot once in
``JobRun`` and calls a service that works out from the database what is due;
the beat schedule is in ``salesorg/celery.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from pipeline.services.contracts import contracts_expire_ended
from pipeline.services.quotes import quotes_expire_due
from pipeline.services.reminders import (
    send_renewal_reminders,
    send_stale_deal_alerts,
    send_visit_reminders,
)
from pipeline.services.rfm import rfm_nightly
from reports.jobs import daily_slot, scheduled_job, weekly_slot


@scheduled_job("visit_reminders", slot=daily_slot)
def visit_reminders(now: datetime) -> dict[str, Any]:
    """Every morning: each owner/AM's clients due or overdue for a visit and today's visits."""
    return send_visit_reminders(now)


@scheduled_job("renewal_reminders", slot=daily_slot)
def renewal_reminders(now: datetime) -> dict[str, Any]:
    """Daily: contracts ending in 90, 60 or 30 days, to their owner and the client's AM."""
    return send_renewal_reminders(now)


@scheduled_job("stale_deals", slot=weekly_slot)
def stale_deals(now: datetime) -> dict[str, Any]:
    """Weekly: open deals without activity for SALESORG_STALE_DEAL_DAYS, to owner and manager."""
    return send_stale_deal_alerts(now)


@scheduled_job("rfm_scoring", slot=daily_slot)
def rfm_scoring(now: datetime) -> dict[str, Any]:
    """Nightly: spend, key-account flags, RFM scores and segments; key accounts without AM."""
    return rfm_nightly(now)


@scheduled_job("expire_documents", slot=daily_slot)
def expire_documents(now: datetime) -> dict[str, Any]:
    """Daily: sent quotes past their validity and active contracts past their end expire."""
    today = timezone.localdate(now)
    return {
        "quotes_expired": quotes_expire_due(today=today),
        "contracts_expired": contracts_expire_ended(today=today),
    }
