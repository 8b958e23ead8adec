"""System checks for the job machinery (``manage.py check`` runs them).

With Redis, a task acknowledged late (``acks_late``) that has not finished
when the broker's visibility timeout passes is handed to a second worker, so
it would run twice at once. Every such task's time limit, and every countdown
or ETA in the beat schedule, must stay below the visibility timeout.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning


def check_visibility_timeout(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.REDIS_URL:
        return []
    from django.utils.module_loading import autodiscover_modules

    from salesorg.celery import app

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    autodiscover_modules("tasks")  # every app's tasks, without Celery's import signals
    problems: list[CheckMessage] = []
    for name, task in sorted(app.tasks.items()):
        if not getattr(task, "acks_late", False):
            continue
        limit = task.time_limit or app.conf.task_time_limit
        if limit is None or limit >= visibility:
            problems.append(
                Warning(
                    f"Task {name} is acknowledged late but may run {limit or 'without limit'} "
                    f"seconds, not less than the broker's visibility timeout ({visibility} s).",
                    hint="Give it a shorter time_limit or raise CELERY_VISIBILITY_TIMEOUT.",
                    id="reports.W001",
                )
            )
    for entry_name, entry in app.conf.beat_schedule.items():
        options = entry.get("options", {})
        countdown = options.get("countdown") or 0
        if countdown >= visibility:
            problems.append(
                Warning(
                    f"Beat entry {entry_name} waits {countdown} s, not less than the "
                    f"visibility timeout ({visibility} s).",
                    id="reports.W002",
                )
            )
    return problems
