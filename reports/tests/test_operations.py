"""The operations page: job runs for the director and staff, per-job history, run now."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from reports.models import JobRun
from reports.operations import describe_schedule
from salesorg.celery import app as celery_app

pytestmark = pytest.mark.django_db


def run_row(job: str, slot: str, status=JobRun.Status.OK, minutes_ago: int = 10, **extra):
    started = timezone.now() - timedelta(minutes=minutes_ago)
    return JobRun.objects.create(
        job=job,
        slot=slot,
        status=status,
        started_at=started,
        finished_at=started + timedelta(seconds=3) if status != JobRun.Status.RUNNING else None,
        **extra,
    )


@pytest.fixture
def runs(db):
    return {
        "old": run_row("visit_reminders", "2026-11-30", minutes_ago=1440, summary={"reminded": 4}),
        "new": run_row("visit_reminders", "2026-12-01", summary={"reminded": 5}),
        "failed": run_row(
            "rfm_scoring",
            "2026-12-01",
            JobRun.Status.FAILED,
            error="Traceback (most recent call last):\nValueError: boom",
        ),
    }


def test_the_director_sees_every_job_with_its_latest_run(org, login, runs):
    page = login(org.director).get(reverse("reports:operations")).content.decode()
    for job in (
        "visit_reminders",
        "renewal_reminders",
        "stale_deals",
        "weekly_report_reminders",
        "rfm_scoring",
        "expire_documents",
        "notification_digest",
        "complaint_sla",
        "survey_quarterly",
    ):
        assert f'data-job="{job}"' in page
    assert "daily at 08:00" in page and "Mondays at 09:00" in page and "every 15 minutes" in page
    assert "reminded: 5" in page and "ValueError: boom" in page
    assert 'data-testid="run-now-visit_reminders"' in page


@pytest.mark.parametrize("who", ["manager", "am", "rep", "support", "outsider"])
def test_others_may_not_see_it(org, login, runs, who):
    client = login(getattr(org, who))
    assert client.get(reverse("reports:operations")).status_code == 403
    assert client.get(reverse("reports:operations-job", args=["rfm_scoring"])).status_code == 403
    assert client.get(reverse("reports:operations-health")).status_code == 403
    assert client.post(reverse("reports:operations-run", args=["rfm_scoring"])).status_code == 403


def test_staff_may_see_it(login, runs):
    staff = UserFactory(is_staff=True)
    assert login(staff).get(reverse("reports:operations")).status_code == 200


def test_the_menu_shows_operations_to_those_allowed(org, login):
    url = reverse("reports:operations")
    assert url in login(org.director).get(reverse("accounts:profile")).content.decode()
    assert url not in login(org.manager).get(reverse("accounts:profile")).content.decode()


def test_runs_filter_by_job_and_status_and_export(org, login, runs):
    client = login(org.director)
    page = client.get(reverse("reports:operations"), {"status": "failed"}).content.decode()
    table = page[page.index('data-testid="run-table"') :]
    assert 'data-job="rfm_scoring"' in table and 'data-job="visit_reminders"' not in table
    csv = client.get(reverse("reports:operations"), {"job": "visit_reminders", "export": "csv"})
    rows = b"".join(csv.streaming_content).decode().splitlines()
    assert len(rows) == 3 and rows[1].startswith("visit_reminders,2026-12-01,Succeeded")


def test_a_jobs_history_lists_its_runs_newest_first(org, login, runs):
    page = (
        login(org.director)
        .get(reverse("reports:operations-job", args=["visit_reminders"]))
        .content.decode()
    )
    assert page.index("2026-12-01") < page.index("2026-11-30")
    assert "rfm_scoring" not in page[page.index('data-testid="run-table"') :]
    failed = login(org.director).get(reverse("reports:operations-job", args=["rfm_scoring"]))
    assert "ValueError: boom" in failed.content.decode()


def test_an_unknown_job_answers_404(org, login):
    client = login(org.director)
    assert client.get(reverse("reports:operations-job", args=["nope"])).status_code == 404
    assert client.post(reverse("reports:operations-run", args=["nope"])).status_code == 404


def _pop_sent(task: str) -> list[dict]:
    """Take the messages for ``task`` off the default queue (the broker is real Redis)."""
    found = []
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        for raw in client.lrange("celery", 0, -1):
            message = json.loads(raw)
            if message["headers"]["task"] == task:
                client.lrem("celery", 1, raw)
                _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                found.append(kwargs)
    return found


def test_run_now_enqueues_the_job_after_commit_under_a_manual_slot(
    org, login, django_capture_on_commit_callbacks
):
    client = login(org.director)
    _pop_sent("jobs.expire_documents")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("reports:operations-run", args=["expire_documents"]))
    assert response.status_code == 302
    assert _pop_sent("jobs.expire_documents") == []  # nothing before the commit
    for callback in callbacks:
        callback()
    (sent,) = _pop_sent("jobs.expire_documents")
    assert sent["slot_name"].startswith("manual-")
    assert "is queued" in client.get(response.url).content.decode()


def test_a_job_not_installed_cannot_be_run(org, login):
    response = login(org.director).post(
        reverse("reports:operations-run", args=["complaint_sla"]), follow=True
    )
    if "jobs.complaint_sla" in celery_app.tasks:  # after the complaints branch is merged
        assert "is queued" in response.content.decode()
        _pop_sent("jobs.complaint_sla")
    else:
        assert "not installed" in response.content.decode()


def test_health_shows_database_broker_workers_and_beat(org, login):
    page = login(org.director).get(reverse("reports:operations-health")).content.decode()
    assert 'data-testid="health-report"' in page
    assert "Database" in page and "Broker" in page and "Workers" in page and "Beat" in page


@pytest.mark.parametrize("extra", [0, 80])
def test_the_page_takes_a_constant_number_of_queries(
    org, login, runs, extra, django_assert_max_num_queries
):
    for i in range(extra):
        run_row("stale_deals", f"2026-W{i:02d}", minutes_ago=60 + i)
    client = login(org.director)
    # session, user, latest run per job, the week's tally, capped count, page,
    # menu permissions (user's and groups')
    with django_assert_max_num_queries(8):
        assert client.get(reverse("reports:operations")).status_code == 200
    # session, user, job exists, latest, tally, count, page, permissions (2)
    with django_assert_max_num_queries(9):
        assert (
            client.get(reverse("reports:operations-job", args=["stale_deals"])).status_code == 200
        )


def test_schedules_in_words():
    assert describe_schedule(crontab(hour=8, minute=0)) == "daily at 08:00"
    assert describe_schedule(crontab(hour=15, minute=0, day_of_week="fri")) == "Fridays at 15:00"
    assert describe_schedule(crontab(minute="*/15")) == "every 15 minutes"
    assert describe_schedule(crontab(minute=5)) == "every hour at :05"
    assert describe_schedule(60.0) == "every 60 seconds"
