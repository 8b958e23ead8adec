"""One beat at a time: two schedulers running side by side, only the lock holder sends.

The schedulers are real ``LockedScheduler`` instances sending to a real Redis
queue (one per test); each sends its own marker so the test can tell whose
messages arrived.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from celery import Celery
from django.conf import settings

from salesorg.beat import FileBeatLock, LockedScheduler, RedisBeatLock

TTL = 3


@pytest.fixture
def queue():
    name = f"beat-test-{uuid.uuid4().hex[:8]}"
    yield name
    app = Celery("beat-test-cleanup", broker=settings.CELERY_BROKER_URL)
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(name)


@pytest.fixture(autouse=True)
def short_ttl(settings):
    settings.SALESORG_BEAT_LOCK_TTL = TTL


def scheduler(who: str, queue: str, lock, tmp_path, every: float = 1) -> LockedScheduler:
    """A beat process of its own: its own app, schedule file and lock handle."""
    app = Celery(f"beat-{who}", broker=settings.CELERY_BROKER_URL)
    app.conf.timezone = settings.CELERY_TIMEZONE
    app.conf.beat_schedule = {
        "marker": {
            "task": "beat.test.marker",
            "schedule": timedelta(seconds=every),
            "args": [who],
            "options": {"queue": queue},
        }
    }
    return LockedScheduler(app=app, schedule_filename=str(tmp_path / f"{who}-schedule"), lock=lock)


def sent(queue: str) -> Counter:
    app = Celery("beat-test-reader", broker=settings.CELERY_BROKER_URL)
    with app.connection_for_write() as conn:
        raw = conn.default_channel.client.lrange(queue, 0, -1)
    return Counter(json.loads(base64.b64decode(json.loads(m)["body"]))[0][0] for m in raw)


def run_both(a: LockedScheduler, b: LockedScheduler, seconds: float, *, a_alive=True) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if a_alive:
            a.tick()
        b.tick()
        time.sleep(0.1)


def redis_locks(key: str):
    return (
        RedisBeatLock(settings.REDIS_URL, key=key, ttl=TTL),
        RedisBeatLock(settings.REDIS_URL, key=key, ttl=TTL),
    )


def file_locks(tmp_path):
    return FileBeatLock(tmp_path / "beat.lock"), FileBeatLock(tmp_path / "beat.lock")


@pytest.mark.parametrize("kind", ["redis", "file"])
def test_only_the_beat_holding_the_lock_sends(kind, queue, tmp_path):
    lock_a, lock_b = (
        redis_locks(f"test-beat-{uuid.uuid4().hex}") if kind == "redis" else file_locks(tmp_path)
    )
    a = scheduler("A", queue, lock_a, tmp_path)
    b = scheduler("B", queue, lock_b, tmp_path)
    try:
        run_both(a, b, 4)
        counts = sent(queue)
        assert counts["A"] >= 2, counts
        assert counts["B"] == 0, counts
        assert a.is_leader and not b.is_leader
        assert lock_b.current_holder() == lock_a.holder

        # A stops cleanly (releases the lock): B takes over at its next tick.
        a.close()
        run_both(a, b, 3, a_alive=False)
        after = sent(queue)
        assert after["A"] == counts["A"], after
        assert after["B"] >= 1, after
        assert b.is_leader
    finally:
        a.close()
        b.close()


def test_a_beat_that_dies_loses_the_lock_and_the_other_sends_what_it_missed(queue, tmp_path):
    lock_a, lock_b = redis_locks(f"test-beat-{uuid.uuid4().hex}")
    a = scheduler("A", queue, lock_a, tmp_path)
    b = scheduler("B", queue, lock_b, tmp_path)
    try:
        run_both(a, b, 2)
        assert a.is_leader and sent(queue)["B"] == 0
        # A dies without releasing: nobody sends until the lock expires (TTL seconds),
        # then B takes over — including the entry that came due while A was gone.
        died = time.monotonic()
        while not b.is_leader:
            b.tick()
            time.sleep(0.1)
            assert time.monotonic() - died < TTL + 3, "B never took over"
        assert time.monotonic() - died >= TTL - 1.5  # not before A's lock could expire
        run_both(a, b, 1.5, a_alive=False)
        assert sent(queue)["B"] >= 1
    finally:
        a.close()
        b.close()


def test_on_taking_over_it_sends_what_came_due_within_the_locks_lifetime_only(queue, tmp_path):
    lock_a, lock_b = redis_locks(f"test-beat-{uuid.uuid4().hex}")
    a = scheduler("A", queue, lock_a, tmp_path, every=3600)
    b = scheduler("B", queue, lock_b, tmp_path, every=3600)
    try:
        run_both(a, b, 0.5)
        assert a.is_leader and not b.is_leader
        # While A held the lock, the hourly entry came due at B too: B left it to A.
        b._due_elsewhere["marker"] = time.monotonic()
        a.close()
        b.tick()
        assert b.is_leader and sent(queue) == {"B": 1}
        # Something that came due long before the lock could have expired is A's business.
        b.close()
        c = scheduler(
            "C",
            queue,
            RedisBeatLock(settings.REDIS_URL, key=lock_a.key, ttl=TTL),
            tmp_path,
            every=3600,
        )
        c._due_elsewhere["marker"] = time.monotonic() - 10 * TTL
        c.tick()
        assert c.is_leader and sent(queue) == {"B": 1}
        c.close()
    finally:
        a.close()
        b.close()


def test_the_file_lock_is_free_again_when_its_holder_goes(tmp_path):
    first, second = file_locks(tmp_path)
    assert first.acquire_or_renew() and first.acquire_or_renew()
    assert not second.acquire_or_renew()
    assert second.current_holder() == first.holder
    first.release()
    assert second.current_holder() is None
    assert second.acquire_or_renew()
    second.release()


def test_the_product_uses_the_locked_scheduler():
    from salesorg.celery import app

    assert app.conf.beat_scheduler == "salesorg.beat:LockedScheduler"
