"""Jobs survive the faults of real life, with real worker processes.

- a worker killed (SIGKILL) in the middle of a job: the broker hands the job to
  a new worker, which finishes it; what the first one already did is not done
  again (``acks_late`` + the job's per-item dedupe keys + the JobRun claim);
- the same for a pool child killed under a prefork worker (``reject_on_worker_lost``);
- Redis restarted under a running worker: it reconnects and work resumes;
- the embedded default: a worker on the filesystem broker runs a real job.

The Redis tests use a private ``redis-server`` on a free port (started and
stopped here), so restarting it or shortening its redelivery time never
touches the Redis other tests share; it is stopped even when a test fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from accounts.models import Notification, Role
from accounts.tests.factories import UserFactory
from reports.models import JobRun
from tests.owned_app.tasks import slow_items_job
from tests.worker import broker_app, running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: The private Redis gives an unacknowledged message back after this many seconds
#: (production: 6 hours); task limits must stay below it (settings check).
VISIBILITY = 8
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
    "CELERY_TASK_TIME_LIMIT": str(VISIBILITY - 1),
    "CELERY_TASK_SOFT_TIME_LIMIT": str(VISIBILITY - 2),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, which the test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self._app = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=30, what="the private redis-server to start")

    def answers(self) -> bool:
        ping = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return ping.stdout.strip() == "PONG"

    def restart(self) -> None:
        """``SHUTDOWN NOSAVE`` (everything in it is lost, as with a crash), then start again."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False)
        assert self.process is not None
        self.process.wait(timeout=30)
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cache(self) -> RedisCache:
        """The workers' cache (same key prefix as this test process uses)."""
        return RedisCache(self.url, {"KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"]})

    def app(self):
        """An app on this Redis, to ping its workers and send them tasks."""
        if self._app is None:
            self._app = broker_app(self.url, visibility_timeout=VISIBILITY)
        return self._app


@pytest.fixture
def redis_server(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def slow_job_config(server: PrivateRedis, user, items: int = 6, pause: float = 1.0) -> str:
    run = uuid.uuid4().hex[:8]
    server.cache().set(
        "slow_items:config",
        {"user": user.pk, "items": items, "pause": pause, "run": run},
        timeout=600,
    )
    return run


def send_slow_job(server: PrivateRedis, queue: str, slot: str) -> str:
    task_id = f"slow-{uuid.uuid4().hex}"
    server.app().send_task(
        slow_items_job.name, kwargs={"slot_name": slot}, queue=queue, task_id=task_id
    )
    return task_id


def items_done(user) -> int:
    return Notification.objects.filter(recipient=user, kind="test_item").count()


def finished(slot: str) -> JobRun | None:
    return JobRun.objects.filter(job="test_slow_items", slot=slot, status=JobRun.Status.OK).first()


def test_a_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(redis_server):
    user = UserFactory()
    slow_job_config(redis_server, user)
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {"REDIS_URL": redis_server.url, **FAST_REDELIVERY}
    with running_worker(queue=queue, env=env, broker=redis_server.app(), keep_queue=True) as first:
        send_slow_job(redis_server, queue, "kill-test")
        wait_for(lambda: items_done(user) >= 2, timeout=90, what="two items", worker=first)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
        killed_at = time.monotonic()
    done_by_first = items_done(user)
    assert 2 <= done_by_first < 6
    assert JobRun.objects.get(slot="kill-test").status == JobRun.Status.RUNNING

    # Once the message's visibility timeout has passed, a new worker gets it back.
    time.sleep(max(0.0, VISIBILITY + 1 - (time.monotonic() - killed_at)))
    with running_worker(queue=queue, env=env, broker=redis_server.app()) as second:
        run = wait_for(
            lambda: finished("kill-test"), timeout=180, what="the job to finish", worker=second
        )
    assert run.attempts == 2  # the redelivered task took its own unfinished run over
    assert run.summary == {"items": 6, "new": 6 - done_by_first}
    titles = sorted(Notification.objects.filter(recipient=user).values_list("title", flat=True))
    assert titles == [f"item {i}" for i in range(6)]  # each item exactly once


def test_a_killed_pool_child_is_replaced_and_the_job_finishes_once(redis_server):
    user = UserFactory()
    slow_job_config(redis_server, user)
    env = {"REDIS_URL": redis_server.url}
    with running_worker(pool="prefork", env=env, broker=redis_server.app()) as worker:
        send_slow_job(redis_server, worker.queue, "child-test")
        wait_for(lambda: items_done(user) >= 2, timeout=90, what="two items", worker=worker)
        children = subprocess.run(
            ["pgrep", "-P", str(worker.process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGKILL)
        done_by_first = items_done(user)
        # reject_on_worker_lost: the message goes straight back to the queue and a
        # new pool child runs it.
        run = wait_for(
            lambda: finished("child-test"), timeout=180, what="the job to finish", worker=worker
        )
    assert run.attempts == 2
    assert items_done(user) == 6
    assert run.summary["new"] <= 6 - done_by_first + 1


def test_work_resumes_after_redis_restarts_under_a_running_worker(redis_server):
    rep = UserFactory(role=Role.REP)
    env = {"REDIS_URL": redis_server.url}
    user = UserFactory()
    slow_job_config(redis_server, user, items=1, pause=0)
    with running_worker(env=env, broker=redis_server.app()) as worker:
        send_slow_job(redis_server, worker.queue, "before-restart")
        wait_for(
            lambda: finished("before-restart"), timeout=90, what="the first job", worker=worker
        )

        redis_server.restart()  # everything in Redis is gone, the worker is cut off
        assert worker.alive()
        # The worker reconnects by itself and declares its queue again.
        wait_for(
            lambda: _answers(worker.hostname, redis_server),
            timeout=120,
            what="the worker to reconnect",
            worker=worker,
        )
        slow_job_config(redis_server, user, items=2, pause=0)  # the cache was emptied too
        send_slow_job(redis_server, worker.queue, "after-restart")
        run = wait_for(
            lambda: finished("after-restart"), timeout=120, what="the job after", worker=worker
        )
    assert run.summary["items"] == 2
    assert rep.is_active


def _answers(hostname: str, server: PrivateRedis) -> bool:
    try:
        return bool(server.app().control.ping(destination=[hostname], timeout=1))
    except Exception:  # still reconnecting
        return False


def test_a_real_job_runs_end_to_end_on_the_filesystem_broker(tmp_path):
    """The embedded default: no REDIS_URL, the broker is a folder, the cache files."""
    rep = UserFactory(role=Role.REP)
    broker = tmp_path / "broker"
    folders = {sub: broker / sub for sub in ("in", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)

    fs = broker_app(
        "filesystem://",
        data_folder_in=str(folders["in"]),
        data_folder_out=str(folders["in"]),
        processed_folder=str(folders["processed"]),
        store_processed=False,
        control_folder=str(folders["control"]),
    )

    env = {"REDIS_URL": "", "SALESORG_VAR_DIR": str(tmp_path)}
    with running_worker(env=env, broker=fs) as worker:
        fs.send_task(
            "jobs.weekly_report_reminders", kwargs={"slot_name": "fs-test"}, queue=worker.queue
        )
        run = wait_for(
            lambda: JobRun.objects.filter(
                job="weekly_report_reminders", slot="fs-test", status=JobRun.Status.OK
            ).first(),
            timeout=120,
            what="the job on the filesystem broker",
            worker=worker,
        )
    assert run.summary["reps_reminded"] >= 1
    assert Notification.objects.filter(recipient=rep, kind="weekly_report_reminder").exists()
    assert (tmp_path / "cache").exists()  # the worker used the file cache, not Redis
