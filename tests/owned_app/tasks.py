"""A task for the real-worker tests: it leaves a trace the test can wait for."""

from celery import shared_task
from django.core.cache import cache


@shared_task(acks_late=True, reject_on_worker_lost=True)
def leave_trace(key: str, value: str) -> None:
    cache.set(key, value, timeout=300)
