"""Tasks go through a real broker (Redis) to a real worker process, and only after commit."""

import uuid

import pytest
from django.core.cache import cache
from django.db import transaction

from tests.owned_app.tasks import leave_trace
from tests.worker import queue_length, running_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_task_enqueued_on_commit_runs_on_a_real_worker():
    key = f"trace-{uuid.uuid4().hex}"
    with running_worker() as worker:
        with transaction.atomic():
            leave_trace.apply_async_on_commit(args=(key, "committed"), queue=worker.queue)
            assert queue_length(worker.queue) == 0, "nothing may be sent before the commit"
        assert wait_for(lambda: cache.get(key), timeout=30, what="the task", worker=worker) == (
            "committed"
        )


def test_a_rolled_back_transaction_enqueues_nothing():
    rolled_back = f"trace-{uuid.uuid4().hex}"
    marker = f"trace-{uuid.uuid4().hex}"
    with running_worker() as worker:
        with pytest.raises(RuntimeError), transaction.atomic():
            leave_trace.apply_async_on_commit(args=(rolled_back, "oops"), queue=worker.queue)
            raise RuntimeError("the user's save failed")
        assert queue_length(worker.queue) == 0
        # The queue is first-in first-out on one solo worker: once a task sent
        # afterwards has run, the rolled-back one would have run too.
        leave_trace.apply_async(args=(marker, "after"), queue=worker.queue)
        wait_for(lambda: cache.get(marker), timeout=30, what="the marker task", worker=worker)
        assert cache.get(rolled_back) is None
