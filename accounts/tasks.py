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
