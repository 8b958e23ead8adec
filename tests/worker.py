"""A real Celery worker process for tests, on the same broker and database as the test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from salesorg.celery import app

BASE = Path(__file__).resolve().parents[1]


@dataclass
class WorkerProcess:
    queue: str
    hostname: str
    process: subprocess.Popen

    def alive(self) -> bool:
        return self.process.poll() is None


def worker_env() -> dict[str, str]:
    """The worker sees the test database (not the development one) and the test broker."""
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
    return env


@contextmanager
def running_worker(
    *, pool: str = "solo", extra_args: tuple[str, ...] = ()
) -> Iterator[WorkerProcess]:
    queue = f"test-{uuid.uuid4().hex[:10]}"
    hostname = f"{queue}@localhost"
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
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = WorkerProcess(queue=queue, hostname=hostname, process=process)
    try:
        wait_for(
            lambda: app.control.ping(destination=[hostname], timeout=0.5),
            timeout=60,
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
        with app.connection_for_write() as conn:
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
            output = worker.process.stdout.read() if worker.process.stdout else ""
            raise AssertionError(f"the worker died while waiting for {what}:\n{output}")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def queue_length(queue: str) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(queue)
