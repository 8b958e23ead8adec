"""The demo planning and team records (``reports/seed.py``): what the demo
shows, written once however often the seeder runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from pipeline.models import Activity
from pipeline.tests.factories import ClientFactory, DealFactory, stage
from reports import planning, seed, weekly
from reports.models import (
    Competitor,
    ImprovementAction,
    ImprovementEvaluation,
    MarketAnalysis,
    PerformanceReview,
    PlanMilestone,
    Risk,
    SalesPlan,
    SkillAssessment,
    TrainingRecord,
    WeeklyReport,
    WeeklyReportComment,
)
from salesorg.lib.seeding import SeedContext

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Thursday
MODELS = (
    SalesPlan,
    PlanMilestone,
    Competitor,
    MarketAnalysis,
    Risk,
    ImprovementAction,
    ImprovementEvaluation,
    PerformanceReview,
    TrainingRecord,
    SkillAssessment,
    WeeklyReport,
    WeeklyReportComment,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def demo_people():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--force", "--until", "accounts", stdout=StringIO())
        rep1 = User.objects.get(username="rep1")
        client = ClientFactory(owner=rep1)
        last_week = weekly.monday_of(NOW.date()) - timedelta(days=7)
        for day in range(5):
            Activity.objects.create(
                type="visit",
                client=client,
                owner=rep1,
                start_at=datetime(2026, 11, 16 + day, 10, tzinfo=NOW.tzinfo),
            )
        DealFactory(
            owner=rep1,
            client=client,
            stage=stage("won"),
            amount=Decimal("300000"),
            closed_on=last_week + timedelta(days=2),
        )
        DealFactory(
            owner=rep1,
            client=client,
            stage=stage("won"),
            amount=Decimal("100000"),
            closed_on=NOW.date() - timedelta(days=120),  # last quarter
        )
        yield


def _run() -> None:
    with time_machine.travel(NOW, tick=False):
        ctx = SeedContext.create(size="small", seed=7, stdout=StringIO())
        ctx.users = {u.username: u for u in User.objects.all()}
        seed.seed(ctx)


def test_the_demo_has_every_kind_of_record_and_a_second_run_adds_nothing(demo_people):
    _run()
    first = _counts()
    assert all(first.values()), first
    _run()
    assert _counts() == first


def test_what_the_demo_shows(demo_people):
    _run()
    manager1 = User.objects.get(username="manager1")
    rep1 = User.objects.get(username="rep1")
    east_plan = SalesPlan.objects.get(owner=manager1, period="quarter")
    assert east_plan.period_start.isoformat() == "2026-10-01"
    assert east_plan.baseline_revenue == Decimal("100000")
    assert east_plan.target_revenue == Decimal("115000.00")  # +15% quarter on quarter
    assert east_plan.shared and east_plan.milestones.count() == 5
    assert SalesPlan.objects.filter(team__isnull=True, period="year").exists()
    # a review overdue in the register, a month's evaluation still due
    assert planning.overdue_reviews(Risk.objects.all(), NOW.date()).exists()
    assert planning.due_for_evaluation(ImprovementAction.objects.all(), NOW.date()).exists()
    # last week's report carries rep1's real figures; this week's is a draft
    last_week = weekly.monday_of(NOW.date()) - timedelta(days=7)
    report = WeeklyReport.objects.get(owner=rep1, week_start=last_week)
    assert report.status == WeeklyReport.Status.SUBMITTED
    assert report.figures["activities"] == {"visit": 5}
    assert report.figures["won_amount"] == "300000.00"
    draft = WeeklyReport.objects.get(owner=rep1, week_start=weekly.monday_of(NOW.date()))
    assert draft.status == WeeklyReport.Status.DRAFT
    # someone has not sent last week's report
    assert weekly.reporters_missing(last_week).exists()
    # every rep and AM has a skill profile; the managers too
    assert SkillAssessment.objects.filter(person=manager1).exists()
    assert not User.objects.filter(role__in=("rep", "account_manager"), skill_assessments=None)
