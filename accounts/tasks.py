"""Housekeeping jobs of the organisation app."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from salesorg.health import HEARTBEAT_KEY


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Proves that beat schedules and a worker runs; ``/healthz`` shows the time."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=None)
    return stamp


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=540)
def clear_expired_sessions() -> None:
    call_command("clearsessions")


# --- notification digest (care-jobs)
from datetime import datetime  # noqa: E402

from accounts.notifications import send_daily_digests  # noqa: E402
from reports.jobs import daily_slot, scheduled_job  # noqa: E402


@scheduled_job("notification_digest", slot=daily_slot)
def notification_digest(now: datetime) -> dict[str, int]:
    """18:00: one e-mail per digest reader summarising the notifications not yet e-mailed."""
    return send_daily_digests(now)


# --- end notification digest
