"""Query counts of the planning, team and weekly-report pages, pinned at two data sizes.

The same count with 2 or 17 records of each kind (and 2 or 17 extra reps
reporting, a week of 6 or 51 activities, stage moves and comments) shows
nothing runs per row. Measured for the manager and the director, the risk
register also for a rep, the weekly report pages for the rep who writes them
and the AM and manager who read them. The API is measured with a
force-authenticated client (the scope stays cached on the user object).

What a list page costs (manager): session, user, the scope, permissions
(user, groups), the capped count, the page of rows — plus the filters' choices
(people, teams) and, where a page shows them, its extras: the heat map (one
GROUP BY), the due-for-evaluation count, the matrix's average row, the team
week's summary and its live calls/visits and wins (two GROUP BYs).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from pipeline.models import Activity, DealStageChange
from pipeline.tests.factories import ClientFactory, DealFactory, LeadFactory, stage
from reports import planning, weekly
from reports.models import Risk, WeeklyReport
from reports.tests.factories_planning import (
    CompetitorFactory,
    ImprovementActionFactory,
    ImprovementEvaluationFactory,
    MarketAnalysisFactory,
    PerformanceReviewFactory,
    PlanMilestoneFactory,
    RiskFactory,
    SalesPlanFactory,
    SkillAssessmentFactory,
    TrainingRecordFactory,
    WeeklyReportFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)
MONDAY = date(2026, 11, 23)

#: pinned maxima (the measured counts, which must also not grow with the data)
MAX_LIST = 10
MAX_RISK_LIST = 9  # the heat map is one GROUP BY
#: + the plan's lines: visible teams (twice: the lines', the targets' visibility), people,
#: targets, won revenue of both periods (one query), what the user may set (3), milestones,
#: and the check that the organisation's history (team placements) is current
MAX_PLAN_PAGE = 19
#: + the report, its figures (activities by type, visits, moves and their count, results,
#: closed deals, leads), stage names, comments
MAX_WEEKLY_REPORT = 15
MAX_WEEKLY_TEAM = 13  # + the week's summary, live calls/visits and wins (two GROUP BYs)
MAX_API_LIST = 3

LISTS = {
    "plans": "/dashboard/plans/",
    "competitors": "/dashboard/research/competitors/",
    "analyses": "/dashboard/research/analyses/",
    "improvements": "/dashboard/improvements/",
    "improvements_due": "/dashboard/improvements/?due=1",
    "reviews": "/dashboard/team/reviews/",
    "training": "/dashboard/team/training/",
    "skills": "/dashboard/team/skills/",
    "skills_sorted": "/dashboard/team/skills/?sort=-negotiation",
    "weekly_list": "/dashboard/weekly-reports/",
}


def _populate(org, n: int, offset: int) -> dict[str, int]:
    """``n`` more records of every kind, spread over the manager's people."""
    people = [org.rep, org.peer_rep, org.am]
    extra_reps = [
        UserFactory(role=Role.REP, team=org.east_team, reports_to=org.am) for _ in range(n)
    ]
    people += extra_reps
    client = ClientFactory(owner=org.rep)
    plan = None
    for j in range(n):
        i = j + offset
        person = people[i % len(people)]
        plan = SalesPlanFactory(
            owner=org.manager,
            team=org.east_team,
            period="month",
            period_start=date(2000 + i // 12, i % 12 + 1, 1),
        )
        PlanMilestoneFactory(plan=plan, owner=person)
        CompetitorFactory(author=org.manager)
        MarketAnalysisFactory(author=org.manager)
        RiskFactory(
            created_by=org.manager, owner=person, likelihood=i % 5 + 1, impact=(i * 2) % 5 + 1
        )
        action = ImprovementActionFactory(created_by=org.manager, owner=person)
        if i % 2:
            ImprovementEvaluationFactory(action=action, month=date(2026, 10, 1))
        PerformanceReviewFactory(
            person=person, reviewer=org.manager, period_start=date(1800 + i, 1, 1)
        )
        TrainingRecordFactory(person=person)
        SkillAssessmentFactory(person=person, assessed_on=date(2025, 1, 1) + timedelta(days=i))
        for week in range(1, 3):
            WeeklyReportFactory(
                owner=person, week_start=MONDAY - timedelta(days=7 * (2 * i + week))
            )
        # a week of pipeline work for the rep
        for k in range(3):
            Activity.objects.create(
                type=("call", "visit", "demo")[k],
                client=client,
                owner=org.rep,
                start_at=NOW - timedelta(hours=i * 3 + k),
                subject=f"A{i}{k}",
            )
        deal = DealFactory(owner=org.rep, client=client, stage_changed_at=NOW - timedelta(hours=i))
        DealStageChange.objects.create(
            deal=deal,
            from_stage=stage("first_contact"),
            to_stage=stage("proposal"),
            changed_by=org.rep,
            changed_at=NOW - timedelta(hours=i, minutes=5),
            amount=Decimal("1"),
            probability=50,
        )
        DealFactory(
            owner=person,
            client=client,
            stage=stage("won"),
            amount=Decimal("1000"),
            closed_on=MONDAY + timedelta(days=i % 5),
        )
        LeadFactory(owner=org.rep)
    submitted = WeeklyReport.objects.filter(owner=org.peer_rep, week_start=MONDAY).first()
    if submitted is None:
        submitted = WeeklyReportFactory(owner=org.peer_rep, week_start=MONDAY)
        weekly.report_submit(by=org.peer_rep, report=submitted, expected_version=submitted.version)
    for i in range(n):
        weekly.report_comment(by=org.am, report=submitted, body=f"c{i}")
    draft = WeeklyReport.objects.get_or_create(owner=org.rep, week_start=MONDAY)[0]
    return {"plan": plan.pk, "submitted": submitted.pk, "draft": draft.pk}


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def measure(org, login):
    def _measure(user, urls: dict[str, str], api: bool = False) -> dict[str, tuple[int, int]]:
        sizes = []
        with time_machine.travel(NOW, tick=False):
            for n, offset in ((2, 0), (15, 100)):
                ids = _populate(org, n, offset)
                if api:
                    client = APIClient()
                    client.force_authenticate(user)
                else:
                    client = login(user)
                counts = {}
                for name, url in urls.items():
                    url = url.format(**ids)
                    _count(client, url)  # warm per-process caches (content types, ...)
                    counts[name] = _count(client, url)
                sizes.append(counts)
        return {name: (sizes[0][name], sizes[1][name]) for name in urls}

    return _measure


def _assert_constant(counts: dict[str, tuple[int, int]], maximum: int) -> None:
    for name, (small, large) in counts.items():
        assert small == large, f"{name}: {small} queries with little data, {large} with more"
        assert large <= maximum, f"{name}: {large} queries (pinned at most {maximum})"


@pytest.mark.parametrize("persona", ["manager", "director"])
def test_list_pages_are_constant(org, measure, persona):
    _assert_constant(measure(getattr(org, persona), LISTS), MAX_LIST)


@pytest.mark.parametrize("persona", ["manager", "rep"])
def test_risk_register_with_heat_map_is_constant(org, measure, persona):
    counts = measure(
        getattr(org, persona),
        {
            "risks": "/dashboard/risks/",
            "risks_cell": "/dashboard/risks/?likelihood=3&impact=3&sort=review",
            "risks_all": "/dashboard/risks/?status=all&overdue=1",
        },
    )
    _assert_constant(counts, MAX_RISK_LIST)


def test_plan_page_is_constant(org, measure):
    _assert_constant(
        measure(org.manager, {"plan": "/dashboard/plans/{plan}/?growth=12"}), MAX_PLAN_PAGE
    )


@pytest.mark.parametrize("persona", ["rep", "am", "manager"])
def test_weekly_report_pages_are_constant(org, measure, persona):
    urls = {
        "submitted": "/dashboard/weekly-reports/{submitted}/",
        "team_week": "/dashboard/weekly-reports/team/?week=2026-W48",
        "team_missing": "/dashboard/weekly-reports/team/?week=2026-W48&status=missing",
    }
    if persona == "rep":
        urls = {"mine": "/dashboard/weekly-report/", "mine_last": "/dashboard/weekly-report/"}
    else:
        urls["draft"] = "/dashboard/weekly-reports/{draft}/"
    counts = measure(getattr(org, persona), urls)
    _assert_constant(counts, MAX_WEEKLY_REPORT)
    for name in ("team_week", "team_missing"):
        if name in counts:
            assert counts[name][1] <= MAX_WEEKLY_TEAM


@pytest.mark.parametrize("persona", ["manager", "rep"])
def test_api_lists_are_constant(org, measure, persona):
    counts = measure(
        getattr(org, persona),
        {
            "weekly": "/api/v1/weekly-reports/",
            "weekly_week": "/api/v1/weekly-reports/?week=2026-W48",
            "risks": "/api/v1/risks/",
            "heatmap": "/api/v1/risks/heatmap/",
        },
        api=True,
    )
    _assert_constant(counts, MAX_API_LIST)


def test_the_heat_map_is_one_query(org):
    RiskFactory(created_by=org.manager)
    with CaptureQueriesContext(connection) as ctx:
        planning.heat_map(Risk.objects.all())
    assert len(ctx.captured_queries) == 1
