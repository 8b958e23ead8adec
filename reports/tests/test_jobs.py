"""Scheduled jobs run once per slot, record what they did, and recover from redelivery."""

import pytest
from django.core.cache import cache

from reports.jobs import claim_run, daily_slot, quarter_hour_slot, weekly_slot
from reports.models import JobRun
from tests.owned_app.tasks import counting_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_counter():
    cache.delete_many(["counting_job:runs", "counting_job:fail"])


def test_a_slot_runs_once_however_often_it_is_sent():
    assert counting_job.apply(kwargs={"slot_name": "2026-11-27"}, task_id="first").get() == {
        "runs": 1
    }
    assert counting_job.apply(kwargs={"slot_name": "2026-11-27"}, task_id="second").get() is None
    run = JobRun.objects.get(job="test_counting")
    assert (run.status, run.summary, run.attempts) == (JobRun.Status.OK, {"runs": 1}, 1)
    assert run.finished_at is not None
    assert counting_job.apply(kwargs={"slot_name": "2026-11-28"}).get() == {"runs": 2}


def test_a_redelivered_task_takes_over_its_own_unfinished_run():
    # The first delivery claimed the slot, then its worker died.
    claimed = claim_run("test_counting", "2026-11-27", task_id="same-task")
    assert claimed is not None and claimed.status == JobRun.Status.RUNNING
    # Another task for the same slot (a second beat) must not run it...
    assert counting_job.apply(kwargs={"slot_name": "2026-11-27"}, task_id="other").get() is None
    # ...but the broker's redelivery of the same task does.
    assert counting_job.apply(kwargs={"slot_name": "2026-11-27"}, task_id="same-task").get() == {
        "runs": 1
    }
    run = JobRun.objects.get(job="test_counting")
    assert (run.status, run.attempts) == (JobRun.Status.OK, 2)


def test_a_failure_is_recorded_and_the_next_attempt_retries():
    cache.set("counting_job:fail", True)
    with pytest.raises(RuntimeError):
        counting_job.apply(kwargs={"slot_name": "s"}, task_id="t1").get()
    run = JobRun.objects.get(job="test_counting")
    assert run.status == JobRun.Status.FAILED and "told to fail" in run.error
    cache.delete("counting_job:fail")
    assert counting_job.apply(kwargs={"slot_name": "s"}, task_id="t2").get() == {"runs": 1}
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == (JobRun.Status.OK, 2, "")


def test_slots_follow_local_time_in_shanghai():
    from datetime import UTC, datetime

    # 2026-11-27 16:05 UTC is 2026-11-28 00:05 in Asia/Shanghai.
    moment = datetime(2026, 11, 27, 16, 5, tzinfo=UTC)
    assert daily_slot(moment) == "2026-11-28"
    assert quarter_hour_slot(moment) == "2026-11-28T00:00"
    assert weekly_slot(moment) == "2026-W48"
