"""A beat scheduler that sends only while it holds a lock: one beat at a time.

Run exactly one beat (``make run`` runs ``celery worker --beat``; with several
hosts, run ``celery beat`` on one). If a second one is started by mistake — or
on purpose, as a warm standby — it must not send the schedule a second time.
``LockedScheduler`` (configured as ``beat_scheduler``) sends only while it
holds the *beat lock*:

- with Redis (``REDIS_URL`` set) the lock is a Redis key set with ``NX`` and
  an expiry, renewed every ``ttl / 3`` seconds by a compare-and-renew script,
  so a beat that dies loses it after at most ``ttl`` seconds;
- on the embedded default the lock is an exclusive ``flock`` on a file in
  ``var/`` — the operating system releases it when the process dies.

A beat that does not hold the lock keeps its schedule running without
sending (it moves each entry on as the holder would), and remembers what came
due. When it takes the lock over it sends what came due during the last
``ttl`` seconds — what a holder that died may not have sent — and nothing
older. Any duplicate this may cause is harmless: every job claims its
schedule slot once in ``JobRun`` (``reports.jobs``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_NAME = "beat-lock"


class BeatLock:
    """The interface both locks offer: take or keep the lock, and let it go."""

    holder: str

    def acquire_or_renew(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def release(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def current_holder(self) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


def _holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RedisBeatLock(BeatLock):
    """A Redis key holding the holder's id, with an expiry the holder keeps renewing."""

    _RENEW = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('pexpire', KEYS[1], ARGV[2])
        end
        return 0
    """
    _RELEASE = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('del', KEYS[1])
        end
        return 0
    """

    def __init__(self, url: str, *, key: str = f"salesorg:{LOCK_NAME}", ttl: float = 60) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.key = key
        self.ttl_ms = int(ttl * 1000)
        self.holder = _holder_id()

    def acquire_or_renew(self) -> bool:
        try:
            if self.client.eval(self._RENEW, 1, self.key, self.holder, self.ttl_ms):
                return True
            return bool(self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms))
        except Exception:  # Redis down: nobody can be sure, so nobody sends
            logger.warning("beat lock: Redis did not answer; not sending", exc_info=True)
            return False

    def release(self) -> None:
        try:
            self.client.eval(self._RELEASE, 1, self.key, self.holder)
        except Exception:
            logger.warning("beat lock: could not release it; it expires by itself")

    def current_holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None


class FileBeatLock(BeatLock):
    """An exclusive ``flock`` on a file: held while the process lives (one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.holder = _holder_id()
        self._fd: int | None = None

    def acquire_or_renew(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, self.holder.encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def current_holder(self) -> str | None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:  # free means nobody holds it, whatever the file still says
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return os.read(fd, 200).decode() or "?"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def default_lock() -> BeatLock:
    """Redis when the project runs on Redis, else a file lock in ``var/``.

    The Redis key carries the cache's key prefix, so two installations sharing
    one Redis database each run their own beat.
    """
    if settings.REDIS_URL:
        prefix = settings.CACHES["default"].get("KEY_PREFIX") or "salesorg"
        return RedisBeatLock(
            settings.REDIS_URL, key=f"{prefix}:{LOCK_NAME}", ttl=settings.SALESORG_BEAT_LOCK_TTL
        )
    return FileBeatLock(Path(settings.VAR_DIR) / "beat.lock")


def beat_lock_holder() -> str | None:
    """Who holds the beat lock now ("host:pid:…"), for the operations page."""
    try:
        return default_lock().current_holder()
    except Exception:
        return None


class LockedScheduler(PersistentScheduler):
    """``PersistentScheduler`` that sends only while it holds the beat lock."""

    def __init__(self, *args: Any, lock: BeatLock | None = None, **kwargs: Any) -> None:
        self.lock = lock or default_lock()
        ttl = float(getattr(settings, "SALESORG_BEAT_LOCK_TTL", 60))
        self.lock_ttl = ttl
        self.renew_every = max(ttl / 3, 0.5)
        self.is_leader = False
        self._renewed_at = 0.0
        #: entries that came due while another beat held the lock: name -> monotonic time
        self._due_elsewhere: dict[str, float] = {}
        super().__init__(*args, **kwargs)
        # Wake up often enough to renew the lock before it expires.
        self.max_interval = min(self.max_interval, self.renew_every)

    # --- the lock ----------------------------------------------------------------
    def holds_lock(self) -> bool:
        now = time.monotonic()
        if self.is_leader and now - self._renewed_at < self.renew_every:
            return True
        held = self.lock.acquire_or_renew()
        if held:
            self._renewed_at = now
            if not self.is_leader:
                logger.info("beat: took the beat lock (%s); sending the schedule", self.lock.holder)
                self.is_leader = True
                self._send_missed()
        elif self.is_leader:
            logger.warning("beat: lost the beat lock; another beat sends the schedule now")
            self.is_leader = False
        return held

    def _send_missed(self) -> None:
        """Send what came due elsewhere within the lock's lifetime: the beat that held
        the lock then may have died before sending it."""
        horizon = time.monotonic() - self.lock_ttl - self.renew_every
        missed = [name for name, at in self._due_elsewhere.items() if at >= horizon]
        self._due_elsewhere.clear()
        for name in missed:
            entry = self.schedule.get(name)
            if entry is not None:
                logger.info("beat: sending %s, due while the last holder may have died", name)
                self._send(entry)

    # --- scheduling --------------------------------------------------------------
    def tick(self, *args: Any, **kwargs: Any) -> float:
        self._leader_this_tick = self.holds_lock()
        delay = super().tick(*args, **kwargs)
        return min(delay, self.renew_every)

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        if not getattr(self, "_leader_this_tick", False):
            # Another beat sends it; remember it in case that beat died meanwhile.
            self._due_elsewhere[entry.name] = time.monotonic()
            logger.debug("beat: %s is due; the beat holding the lock sends it", entry.name)
            return
        self._send(entry, producer)

    def _send(self, entry: ScheduleEntry, producer: Any = None) -> None:
        super().apply_entry(entry, producer=producer or self.producer)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.is_leader:
                self.lock.release()
                self.is_leader = False
