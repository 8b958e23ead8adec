"""A real Celery worker process for tests, on the same broker and database as the test."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery
from django.conf import settings
from django.db import connection

from salesorg.celery import app

BASE = Path(__file__).resolve().parents[1]


@dataclass
class WorkerProcess:
    queue: str
    hostname: str
    process: subprocess.Popen
    log: Path | None = None

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """What the worker printed (kept in a file, so a chatty worker never blocks on a pipe)."""
        return self.log.read_text(errors="replace") if self.log else ""


def worker_env(**overrides: str) -> dict[str, str]:
    """The worker sees the test database (not the development one) and the test broker.

    ``overrides`` replace environment variables (``REDIS_URL=""`` runs it on the
    filesystem broker, ``CELERY_VISIBILITY_TIMEOUT="10"`` shortens redelivery).
    """
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "REDIS_URL": settings.REDIS_URL,
        }
    )
    env.update(overrides)
    return env


def broker_app(url: str | None = None, **transport_options: Any) -> Celery:
    """The test's Celery app, or a small one on another broker (a private Redis, a folder).

    Pinging and sending need an app of their own there: the control API publishes
    through its app's producer pool whatever connection it is given.
    """
    if url is None:
        return app
    other = Celery(f"test-probe-{uuid.uuid4().hex[:6]}", broker=url, set_as_current=False)
    other.conf.broker_transport_options = transport_options
    other.conf.task_serializer = "json"
    return other


def _ping(hostname: str, broker: Celery) -> list:
    return broker.control.ping(destination=[hostname], timeout=0.5)


@contextmanager
def running_worker(
    *,
    pool: str = "solo",
    extra_args: tuple[str, ...] = (),
    queue: str | None = None,
    env: dict[str, str] | None = None,
    broker: Celery = app,
    keep_queue: bool = False,
) -> Iterator[WorkerProcess]:
    """A worker process consuming one queue of its own (or ``queue``).

    ``env`` overrides its environment; ``broker`` is an app on its broker when
    that is not the test's (``broker_app(url)``: a private Redis, a folder); ``keep_queue``
    leaves the queue in place on exit (another worker takes it over).
    """
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    hostname = f"{queue}-{uuid.uuid4().hex[:4]}@localhost"
    log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
    log_file = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "salesorg",
            "worker",
            "-Q",
            queue,
            "-n",
            hostname,
            f"--pool={pool}",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            *extra_args,
        ],
        cwd=BASE,
        env=worker_env(**(env or {})),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = WorkerProcess(queue=queue, hostname=hostname, process=process, log=log)
    try:
        wait_for(
            lambda: _ping(hostname, broker),
            timeout=90,
            what="the worker to answer a ping",
            worker=worker,
        )
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()
        log.unlink(missing_ok=True)
        if not keep_queue:
            with broker.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)


def wait_for(
    check, *, timeout: float, what: str, worker: WorkerProcess | None = None, interval: float = 0.1
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if worker is not None and not worker.alive():
            raise AssertionError(f"the worker died while waiting for {what}:\n{worker.output()}")
        time.sleep(interval)
    output = f"; the worker said:\n{worker.output()[-5000:]}" if worker is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{output}")


def queue_length(queue: str) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(queue)
