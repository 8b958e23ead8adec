"""Scheduled jobs that run once per schedule slot and say what they did.

Every periodic job is written as::

    @scheduled_job("visit_reminders", slot=daily_slot)
    def visit_reminders(now: datetime) -> dict:
        ...  # work out from the database what is due; return a summary
        return {"reminded": 12}

The decorator makes it a Celery task that first claims the ``(job, slot)``
row in ``JobRun`` (unique), so a second beat, a duplicate send or a manual
run in the same slot does nothing. A redelivery of the *same* task (the
worker died with ``acks_late``) takes the claim over and runs again; the job's
own per-item keys (notification dedupe keys, unique invitations, unique
escalation levels) make that second run finish the work without repeating
what the first one did. The run's summary or error is stored for the
operations page.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from reports.models import JobRun

logger = logging.getLogger(__name__)

SlotFunction = Callable[[datetime], str]


def daily_slot(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y-%m-%d")


def weekly_slot(now: datetime) -> str:
    year, week, _ = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def hourly_slot(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y-%m-%dT%H")


def quarter_hour_slot(now: datetime) -> str:
    local = timezone.localtime(now)
    return local.replace(minute=local.minute - local.minute % 15).strftime("%Y-%m-%dT%H:%M")


def claim_run(job: str, slot: str, *, task_id: str = "") -> JobRun | None:
    """Claim ``(job, slot)``; ``None`` when another task has it or it is done.

    A failed run may be claimed again (a retry), and so may a running one by
    the very task that started it (the broker redelivered it after its worker
    died); a different task for the same slot is a duplicate and gets nothing.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            return JobRun.objects.create(job=job, slot=slot, started_at=now, task_id=task_id)
    except IntegrityError:
        pass
    existing = JobRun.objects.get(job=job, slot=slot)
    redelivered = bool(task_id) and existing.task_id == task_id
    if existing.status == JobRun.Status.FAILED or (
        existing.status == JobRun.Status.RUNNING and redelivered
    ):
        taken = JobRun.objects.filter(
            pk=existing.pk, status=existing.status, attempts=existing.attempts
        ).update(
            status=JobRun.Status.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            finished_at=None,
            error="",
            task_id=task_id,
        )
        if taken:
            existing.refresh_from_db()
            return existing
    return None


def run_job(
    job: str, slot: str, work: Callable[[datetime], dict[str, Any]], *, task_id: str = ""
) -> JobRun | None:
    """Claim the slot, run ``work(now)`` and record how it went."""
    run = claim_run(job, slot, task_id=task_id)
    if run is None:
        logger.info("job %s slot %s already claimed; nothing to do", job, slot)
        return None
    try:
        summary = work(timezone.now()) or {}
    except Exception:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.FAILED, finished_at=timezone.now(), error=traceback.format_exc()
        )
        raise
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.OK, finished_at=timezone.now(), summary=summary
    )
    run.refresh_from_db()
    return run


def scheduled_job(
    name: str, *, slot: SlotFunction = daily_slot, **task_options: Any
) -> Callable[[Callable[[datetime], dict[str, Any]]], Any]:
    """Turn ``work(now) -> summary`` into an idempotent, recorded Celery task.

    The task takes an optional ``slot_name`` (backfills, tests, a manual run
    from the operations page under a fresh name such as "manual-<time>").
    Tasks acknowledge late and are re-queued if their worker dies, so no run
    is lost; they are time-limited so none hangs forever.
    """
    options = {
        "acks_late": True,
        "reject_on_worker_lost": True,
        "ignore_result": True,
        "soft_time_limit": 20 * 60,
        "time_limit": 25 * 60,
        **task_options,
    }

    def decorate(work: Callable[[datetime], dict[str, Any]]) -> Any:
        @shared_task(name=f"jobs.{name}", bind=True, **options)
        @functools.wraps(work)
        def task(self: Any, slot_name: str | None = None) -> dict[str, Any] | None:
            chosen = slot_name or slot(timezone.now())
            run = run_job(name, chosen, work, task_id=self.request.id or "")
            return run.summary if run else None

        task.work = work
        task.job_name = name
        return task

    return decorate
