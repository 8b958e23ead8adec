"""The demo's survey history: 18 months of campaigns and answers, low scores followed
up, idempotent, and quiet for the jobs (nothing is e-mailed when they first run)."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncQuarter
from django.urls import reverse

from accounts.models import User
from clients.models import SurveyCampaign, SurveyInvitation, SurveyResponse
from clients.survey_jobs import survey_post_project, survey_quarterly
from clients.survey_metrics import figures, is_low_score
from pipeline.models import Activity, ActivityType
from tests.reference_data import ensure as ensure_reference_data

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, 30, tzinfo=TZ)


def _seed() -> None:
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--force", "--seed", "3", stdout=StringIO())


def _counts() -> tuple[int, ...]:
    return (
        SurveyCampaign.objects.count(),
        SurveyInvitation.objects.count(),
        SurveyResponse.objects.count(),
        Activity.objects.filter(survey_response__isnull=False).count(),
    )


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_reference_data()  # runs before the per-test check does
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _seed()
            yield _counts()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


pytestmark = pytest.mark.usefixtures("db")


def test_eighteen_months_of_quarterly_and_post_project_surveys(demo):
    keys = set(SurveyCampaign.objects.values_list("key", flat=True))
    quarterly = sorted(k for k in keys if k.startswith("quarterly:"))
    assert quarterly == [
        f"quarterly:{q}" for q in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2")
    ]
    assert any(k.startswith("project:") for k in keys)
    per_quarter = (
        SurveyResponse.objects.annotate(q=TruncQuarter("submitted_at", tzinfo=TZ))
        .values("q")
        .annotate(n=Count("pk"))
    )
    assert len(per_quarter) >= 6 and all(row["n"] >= 10 for row in per_quarter)
    result = figures(SurveyResponse.objects.all())
    assert result.nps.promoters and result.nps.detractors and result.nps.passives
    assert 20 <= result.nps.answers * 100 // SurveyInvitation.objects.count() <= 80
    assert SurveyInvitation.objects.filter(reminded_at__isnull=False).exists()


def test_each_low_score_has_one_care_call(demo):
    follow_ups = Activity.objects.filter(survey_response__isnull=False)
    assert set(follow_ups.values_list("type", flat=True)) == {ActivityType.FOLLOW_UP}
    assert follow_ups.values("survey_response").distinct().count() == follow_ups.count()
    low = 0
    for response in SurveyResponse.objects.prefetch_related("answers__question"):
        ratings = [a.number for a in response.answers.all() if a.question.kind == "rating"]
        low += is_low_score(response.nps_score, ratings)
    assert low == follow_ups.count() > 0


def test_a_second_run_adds_nothing(demo):
    _seed()
    assert _counts() == demo


def test_the_jobs_find_the_demo_already_surveyed(demo):
    with time_machine.travel(NOW, tick=False):
        assert survey_quarterly.apply(task_id="q").get()["sent"] == 0
        summary = survey_post_project.apply(task_id="p").get()
    assert summary["campaigns"] == 0
    assert mail.outbox == []


def test_the_results_page_shows_the_history(demo, client):
    client.force_login(User.objects.get(username="manager1"))
    page = client.get(reverse("clients:survey-results"), {"period": "18m", "scope": "am"})
    assert page.status_code == 200
    assert page.context["total"].nps.answers > 50
    assert len([r for r in page.context["rows"] if r.figures.responses]) >= 2
