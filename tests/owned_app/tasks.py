"""A task for the real-worker tests: it leaves a trace the test can wait for."""

from celery import shared_task
from django.core.cache import cache


@shared_task(acks_late=True, reject_on_worker_lost=True)
def leave_trace(key: str, value: str) -> None:
    cache.set(key, value, timeout=300)


from reports.jobs import scheduled_job  # noqa: E402


@scheduled_job("test_counting")
def counting_job(now):
    """Counts its runs in the cache; fails when told to, to test failure records."""
    if cache.get("counting_job:fail"):
        raise RuntimeError("told to fail")
    runs = cache.get("counting_job:runs", 0) + 1
    cache.set("counting_job:runs", runs, timeout=300)
    return {"runs": runs}


@scheduled_job("test_slow_items")
def slow_items_job(now):
    """Notifies one person about each of a few items, pausing between them, so a test can
    kill its worker half-way. Each item has a dedupe key, like the real jobs' items."""
    import time

    from accounts.models import User
    from accounts.notifications import notify

    config = cache.get("slow_items:config")
    user = User.objects.get(pk=config["user"])
    made = 0
    for item in range(config["items"]):
        made += len(
            notify(
                recipients=[user],
                kind="test_item",
                subject=f"item {item}",
                message="",
                dedupe_key=f"slow-item:{config['run']}:{item}",
            )
        )
        time.sleep(config["pause"])
    return {"items": config["items"], "new": made}
