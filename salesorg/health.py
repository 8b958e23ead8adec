"""``/healthz``: is the database, the broker and a worker answering?

Load balancers need a cheap, unauthenticated answer. The status is 503 only
when the database is down (the web process cannot serve anything then); a
missing broker or worker is reported in the body so monitoring can alert on it
without taking the web nodes out of rotation.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from salesorg.celery import app as celery_app

WORKER_CACHE_KEY = "healthz:worker"
WORKER_CACHE_SECONDS = 15
HEARTBEAT_KEY = "salesorg:worker-heartbeat"


def _check_database() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _check_broker() -> dict[str, Any]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "transport": str(transport)}


def _check_worker() -> dict[str, Any]:
    """Ask the workers to answer a ping; remember the answer for a few seconds."""
    cached = cache.get(WORKER_CACHE_KEY)
    if cached is not None:
        return cached
    try:
        replies = celery_app.control.ping(timeout=1.0) or []
    except Exception as exc:
        result: dict[str, Any] = {"ok": False, "error": exc.__class__.__name__}
    else:
        result = {"ok": bool(replies), "workers": sorted(name for r in replies for name in r)}
    last_beat = cache.get(HEARTBEAT_KEY)
    if last_beat is not None:
        result["last_heartbeat"] = last_beat
    cache.set(WORKER_CACHE_KEY, result, WORKER_CACHE_SECONDS)
    return result


def health_report() -> dict[str, Any]:
    """The state of the database, the broker and the workers (also for the operations page)."""
    body: dict[str, Any] = {
        "database": _check_database(),
        "broker": _check_broker(),
        "worker": _check_worker(),
    }
    body["ok"] = all(part["ok"] for part in body.values() if isinstance(part, dict))
    return body


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    body = health_report()
    return JsonResponse(body, status=200 if body["database"]["ok"] else 503)
