"""Permission matrix of the planning and team pages: every persona, every model,
list / retrieve / create / update / delete.

Each model gets an East record (the manager's, or about the rep) and a North
one (the peer manager's, or about the outsider). Someone outside a record's
hierarchy gets 404 — never 403, which would confirm it exists — and never sees
it in a list or an export; someone who sees it but may not change it gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from reports import planning, teambuilding
from reports.models import (
    Competitor,
    ImprovementAction,
    MarketAnalysis,
    PerformanceReview,
    Risk,
    SalesPlan,
    SkillAssessment,
    TrainingRecord,
    WeeklyReport,
)
from reports.tests.factories_planning import (
    CompetitorFactory,
    ImprovementActionFactory,
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

PERSONAS = [
    "director",
    "manager",
    "am",
    "rep",
    "peer_rep",
    "support",
    "peer_manager",
    "peer_am",
    "outsider",
]
LEADERS = {"director", "manager"}
MANAGERS = {"director", "manager", "peer_manager"}
EAST_LINE = {"director", "manager", "am", "rep"}  # the rep and everyone above them
NORTH_LINE = {"director", "peer_manager", "peer_am", "outsider"}


@dataclass
class Case:
    """How one model's pages behave for each persona."""

    make: Callable[[Any], tuple[Any, Any]]  # org -> (east record, north record)
    list_name: str
    marker: Callable[[Any], str]  # what identifies a record in the list's HTML
    label: Callable[[Any], str]  # what identifies it in the CSV export
    detail: Callable[[Any], str] | None
    edit: Callable[[Any], str] | None
    delete: Callable[[Any], str]
    create_name: str
    sees_east: set[str]
    sees_north: set[str]
    changes: set[str]
    deletes: set[str] = field(default_factory=lambda: set(LEADERS))
    creates: set[str] = field(default_factory=lambda: set(MANAGERS))


def _url(name: str) -> Callable[[Any], str]:
    return lambda obj: reverse(name, args=[obj.pk])


def _make_plan(org):
    return (
        SalesPlanFactory(owner=org.manager, team=org.east, title="East plan"),
        SalesPlanFactory(owner=org.peer_manager, team=org.north, title="North plan"),
    )


def _make_competitor(org):
    return (
        CompetitorFactory(author=org.manager, team=org.east, name="East rival"),
        CompetitorFactory(author=org.peer_manager, team=org.north, name="North rival"),
    )


def _make_analysis(org):
    return (
        MarketAnalysisFactory(author=org.manager, team=org.east, title="East SWOT"),
        MarketAnalysisFactory(author=org.peer_manager, team=org.north, title="North SWOT"),
    )


def _make_risk(org):
    return (
        RiskFactory(created_by=org.manager, owner=org.rep, title="East risk"),
        RiskFactory(created_by=org.peer_manager, owner=org.outsider, title="North risk"),
    )


def _make_action(org):
    return (
        ImprovementActionFactory(created_by=org.manager, owner=org.am, title="East action"),
        ImprovementActionFactory(
            created_by=org.peer_manager, owner=org.peer_am, title="North action"
        ),
    )


def _make_review(org):
    return (
        PerformanceReviewFactory(person=org.rep, reviewer=org.manager, feedback="East review"),
        PerformanceReviewFactory(
            person=org.outsider, reviewer=org.peer_manager, feedback="North review"
        ),
    )


def _make_training(org):
    return (
        TrainingRecordFactory(person=org.rep, course="East course"),
        TrainingRecordFactory(person=org.outsider, course="North course"),
    )


def _make_skill(org):
    return (SkillAssessmentFactory(person=org.rep), SkillAssessmentFactory(person=org.outsider))


CASES: dict[str, Case] = {
    "plan": Case(
        make=_make_plan,
        list_name="reports:plan-list",
        marker=lambda o: f'data-plan="{o.pk}"',
        label=lambda o: o.title,
        detail=_url("reports:plan-detail"),
        edit=_url("reports:plan-edit"),
        delete=_url("reports:plan-delete"),
        create_name="reports:plan-create",
        # not shared: the author's line, and support staff of the author's region
        sees_east={"director", "manager", "support"},
        sees_north={"director", "peer_manager"},
        changes=LEADERS,
    ),
    "competitor": Case(
        make=_make_competitor,
        list_name="reports:competitor-list",
        marker=lambda o: f'data-competitor="{o.pk}"',
        label=lambda o: o.name,
        detail=_url("reports:competitor-detail"),
        edit=_url("reports:competitor-edit"),
        delete=_url("reports:competitor-delete"),
        create_name="reports:competitor-create",
        sees_east={"director", "manager", "support"},
        sees_north={"director", "peer_manager"},
        changes={"director", "manager", "support"},  # support collects research
        creates={"director", "manager", "peer_manager", "am", "peer_am", "support"},
    ),
    "analysis": Case(
        make=_make_analysis,
        list_name="reports:analysis-list",
        marker=lambda o: f'data-analysis="{o.pk}"',
        label=lambda o: o.title,
        detail=_url("reports:analysis-detail"),
        edit=_url("reports:analysis-edit"),
        delete=_url("reports:analysis-delete"),
        create_name="reports:analysis-create",
        sees_east={"director", "manager", "support"},
        sees_north={"director", "peer_manager"},
        changes={"director", "manager", "support"},
        creates={"director", "manager", "peer_manager", "am", "peer_am", "support"},
    ),
    "risk": Case(
        make=_make_risk,
        list_name="reports:risk-list",
        marker=lambda o: f'data-risk="{o.pk}"',
        label=lambda o: o.title,
        detail=_url("reports:risk-detail"),
        edit=_url("reports:risk-edit"),
        delete=_url("reports:risk-delete"),
        create_name="reports:risk-create",
        sees_east=EAST_LINE | {"support"},
        sees_north=NORTH_LINE,
        changes=EAST_LINE,  # the owner (the rep) works on it, and everyone above
        creates={"director", "manager", "peer_manager", "am", "peer_am"},
    ),
    "improvement": Case(
        make=_make_action,
        list_name="reports:improvement-list",
        marker=lambda o: f'data-action="{o.pk}"',
        label=lambda o: o.title,
        detail=_url("reports:improvement-detail"),
        edit=_url("reports:improvement-edit"),
        delete=_url("reports:improvement-delete"),
        create_name="reports:improvement-create",
        sees_east={"director", "manager", "am", "support"},
        sees_north={"director", "peer_manager", "peer_am"},
        changes={"director", "manager", "am"},
        creates={"director", "manager", "peer_manager", "am", "peer_am"},
    ),
    "review": Case(
        make=_make_review,
        list_name="reports:review-list",
        marker=lambda o: f'data-review="{o.pk}"',
        label=lambda o: o.feedback,
        detail=_url("reports:review-detail"),
        edit=_url("reports:review-edit"),
        delete=_url("reports:review-delete"),
        create_name="reports:review-create",
        # personnel records: the person and their line, not support staff
        sees_east=EAST_LINE,
        sees_north=NORTH_LINE,
        changes=LEADERS,
    ),
    "training": Case(
        make=_make_training,
        list_name="reports:training-list",
        marker=lambda o: f'data-training="{o.pk}"',
        label=lambda o: o.course,
        detail=None,
        edit=_url("reports:training-edit"),
        delete=_url("reports:training-delete"),
        create_name="reports:training-create",
        sees_east=EAST_LINE,
        sees_north=NORTH_LINE,
        changes=LEADERS,
    ),
    "skill": Case(
        make=_make_skill,
        list_name="reports:skill-matrix",
        marker=lambda o: f'data-person="{o.person_id}"',
        label=lambda o: str(o.person),
        detail=lambda o: reverse("reports:skill-person", args=[o.person_id]),
        edit=None,
        delete=_url("reports:skill-delete"),
        create_name="reports:skill-create",
        sees_east=EAST_LINE,
        sees_north=NORTH_LINE,
        changes=LEADERS,
    ),
}
MODELS = {
    "plan": SalesPlan,
    "competitor": Competitor,
    "analysis": MarketAnalysis,
    "risk": Risk,
    "improvement": ImprovementAction,
    "review": PerformanceReview,
    "training": TrainingRecord,
    "skill": SkillAssessment,
}
MATRIX = [(model, persona) for model in CASES for persona in PERSONAS]


def _status(code: int) -> str:
    return {200: "ok", 302: "ok", 403: "forbidden", 404: "missing"}.get(code, str(code))


def _expected(persona: str, allowed: set[str], visible: set[str]) -> str:
    if persona in allowed:
        return "ok"
    return "forbidden" if persona in visible else "missing"


def _body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


@pytest.mark.parametrize(("model", "persona"), MATRIX)
def test_lists_and_exports_show_exactly_the_visible_records(login, org, model, persona):
    case = CASES[model]
    east, north = case.make(org)
    client = login(getattr(org, persona))
    response = client.get(reverse(case.list_name))
    assert response.status_code == 200
    html = _body(response)
    assert (case.marker(east) in html) == (persona in case.sees_east)
    assert (case.marker(north) in html) == (persona in case.sees_north)
    csv = _body(client.get(reverse(case.list_name) + "?export=csv"))
    assert (case.label(east) in csv) == (persona in case.sees_east)
    assert (case.label(north) in csv) == (persona in case.sees_north)


@pytest.mark.parametrize(("model", "persona"), MATRIX)
def test_retrieve_and_edit_pages(login, org, model, persona):
    case = CASES[model]
    east, north = case.make(org)
    client = login(getattr(org, persona))
    if case.detail:
        got = _status(client.get(case.detail(east)).status_code)
        assert got == _expected(persona, case.sees_east, case.sees_east)
        got = _status(client.get(case.detail(north)).status_code)
        assert got == _expected(persona, case.sees_north, case.sees_north)
    if case.edit:
        got = _status(client.get(case.edit(east)).status_code)
        assert got == _expected(persona, case.changes, case.sees_east)


@pytest.mark.parametrize(("model", "persona"), MATRIX)
def test_create_page(login, org, model, persona):
    case = CASES[model]
    client = login(getattr(org, persona))
    got = _status(client.get(reverse(case.create_name)).status_code)
    assert got == ("ok" if persona in case.creates else "forbidden")


@pytest.mark.parametrize(("model", "persona"), MATRIX)
def test_delete(login, org, model, persona):
    case = CASES[model]
    east, _north = case.make(org)
    client = login(getattr(org, persona))
    got = _status(client.post(case.delete(east)).status_code)
    assert got == _expected(persona, case.deletes, case.sees_east)
    assert MODELS[model].objects.filter(pk=east.pk).exists() == (persona not in case.deletes)


# -------------------------------------------------------------------- updates
@pytest.mark.parametrize("persona", PERSONAS)
def test_risk_update_per_persona(login, org, persona):
    risk, _north = _make_risk(org)
    client = login(getattr(org, persona))
    response = client.post(
        reverse("reports:risk-edit", args=[risk.pk]),
        {
            "title": "East risk",
            "category": "market",
            "likelihood": 4,
            "impact": 5,
            "response": "reduce",
            "owner": org.rep.pk,
            "review_date": "2030-01-31",
            "status": "monitoring",
            "version": risk.version,
        },
    )
    expected = _expected(persona, CASES["risk"].changes, CASES["risk"].sees_east)
    assert _status(response.status_code) == expected
    risk.refresh_from_db()
    assert (risk.score == 20) == (persona in CASES["risk"].changes)


@pytest.mark.parametrize("persona", PERSONAS)
def test_plan_update_per_persona(login, org, persona):
    plan, _north = _make_plan(org)
    client = login(getattr(org, persona))
    response = client.post(
        reverse("reports:plan-edit", args=[plan.pk]),
        {
            "title": f"by {persona}",
            "growth_percent": "15",
            "target_revenue": "2000000",
            "budget": "10",
            "status": "active",
            "version": plan.version,
        },
    )
    expected = _expected(persona, CASES["plan"].changes, CASES["plan"].sees_east)
    assert _status(response.status_code) == expected
    plan.refresh_from_db()
    assert (plan.title == f"by {persona}") == (persona in CASES["plan"].changes)


# ----------------------------------------------------------------- sharing
SHARED_EAST = {"director", "manager", "am", "rep", "peer_rep", "support"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_shared_plan_and_analysis_reach_the_team_read_only(login, org, persona):
    plan = SalesPlanFactory(owner=org.manager, team=org.east, shared=True, title="Shared plan")
    analysis = MarketAnalysisFactory(
        author=org.manager, team=org.east, shared=True, title="Shared SWOT"
    )
    client = login(getattr(org, persona))
    html = _body(client.get(reverse("reports:plan-list")))
    assert (f'data-plan="{plan.pk}"' in html) == (persona in SHARED_EAST)
    html = _body(client.get(reverse("reports:analysis-list")))
    assert (f'data-analysis="{analysis.pk}"' in html) == (persona in SHARED_EAST)
    edit = _status(client.get(reverse("reports:plan-edit", args=[plan.pk])).status_code)
    assert edit == _expected(persona, LEADERS, SHARED_EAST)
    edit = _status(client.get(reverse("reports:analysis-edit", args=[analysis.pk])).status_code)
    assert edit == _expected(persona, {"director", "manager", "support"}, SHARED_EAST)


def test_sharing_with_another_region_is_refused(org):
    with pytest.raises(ValidationError):
        planning.competitor_create(by=org.manager, name="X", team=org.north, shared=True)
    with pytest.raises(ValidationError):
        planning.competitor_create(by=org.manager, name="X", team=None, shared=True)
    shared = planning.competitor_create(by=org.director, name="Y", team=None, shared=True)
    assert Competitor.objects.visible_to(org.outsider).filter(pk=shared.pk).exists()


# --------------------------------------------------------------- reviews' privacy
def test_a_draft_review_is_hidden_from_the_person_until_shared(login, org):
    review = PerformanceReviewFactory(
        person=org.rep, reviewer=org.manager, status=PerformanceReview.Status.DRAFT
    )
    client = login(org.rep)
    assert client.get(reverse("reports:review-detail", args=[review.pk])).status_code == 404
    manager = login(org.manager)
    response = manager.post(
        reverse("reports:review-share", args=[review.pk]), {"version": review.version}
    )
    assert response.status_code == 302
    client = login(org.rep)
    assert client.get(reverse("reports:review-detail", args=[review.pk])).status_code == 200
    assert org.rep.notifications.filter(kind="performance_review").count() == 1


def test_the_person_acknowledges_their_review_and_nobody_else_can(login, org):
    review = PerformanceReviewFactory(person=org.rep, reviewer=org.manager)
    url = reverse("reports:review-acknowledge", args=[review.pk])
    assert login(org.am).post(url, {"version": review.version}).status_code == 403
    assert login(org.outsider).post(url, {"version": review.version}).status_code == 404
    response = login(org.rep).post(url, {"version": review.version, "comment": "Fair."})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == PerformanceReview.Status.ACKNOWLEDGED
    assert review.person_comment == "Fair."
    assert org.manager.notifications.filter(kind="performance_review").exists()
    # acknowledged: it no longer changes
    response = login(org.manager).get(reverse("reports:review-detail", args=[review.pk]))
    assert reverse("reports:review-edit", args=[review.pk]) not in response.content.decode()


def test_personnel_records_are_written_only_for_people_below(org):
    common = {
        "period": "quarter",
        "period_start": date(2026, 7, 1),
        "rating_results": 3,
        "rating_activity": 3,
        "rating_customer": 3,
        "rating_teamwork": 3,
        "rating_overall": 3,
    }
    for person in (org.outsider, org.manager, org.peer_manager):
        with pytest.raises(ValidationError):
            teambuilding.review_create(by=org.manager, person=person, **common)
        with pytest.raises(ValidationError):
            teambuilding.skill_assess(
                by=org.manager,
                person=person,
                assessed_on=date(2026, 7, 1),
                leadership=1,
                communication=1,
                negotiation=1,
                analysis=1,
            )
    review = teambuilding.review_create(by=org.manager, person=org.rep, **common)
    assert review.reviewer == org.manager
    with pytest.raises(PermissionDenied):
        teambuilding.review_create(by=org.am, person=org.rep, **common)


# ------------------------------------------------------------- child records
@pytest.mark.parametrize("persona", PERSONAS)
def test_plan_milestones_per_persona(login, org, persona):
    plan, _north = _make_plan(org)
    milestone = PlanMilestoneFactory(plan=plan, owner=org.rep, title="Trade show booth")
    client = login(getattr(org, persona))
    expected = _expected(persona, LEADERS, CASES["plan"].sees_east)
    edit = client.get(reverse("reports:plan-milestone-edit", args=[milestone.pk]))
    assert _status(edit.status_code) == expected
    done = client.post(
        reverse("reports:plan-milestone-status", args=[milestone.pk]), {"status": "done"}
    )
    assert _status(done.status_code) == expected
    milestone.refresh_from_db()
    assert (milestone.status == "done") == (persona in LEADERS)
    added = client.post(
        reverse("reports:plan-milestone-create", args=[plan.pk]),
        {"m-title": "Another", "m-due_date": "2026-12-01", "m-status": "planned"},
    )
    assert _status(added.status_code) == expected
    assert plan.milestones.filter(title="Another").exists() == (persona in LEADERS)


# ------------------------------------------------------------- weekly reports
WEEKLY_SEES = EAST_LINE | {"support"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_weekly_report_pages_per_persona(login, org, persona):
    mine = WeeklyReportFactory(owner=org.rep, customer_feedback="East feedback")
    mine.status, mine.submitted_at = "submitted", timezone.now()
    mine.save()
    north = WeeklyReportFactory(owner=org.outsider, customer_feedback="North feedback")
    client = login(getattr(org, persona))
    html = _body(client.get(reverse("reports:weekly-report-list")))
    assert (f'data-report="{mine.pk}"' in html) == (persona in WEEKLY_SEES)
    assert (f'data-report="{north.pk}"' in html) == (persona in NORTH_LINE)
    csv = _body(client.get(reverse("reports:weekly-report-list") + "?export=csv"))
    assert ("East feedback" in csv) == (persona in WEEKLY_SEES)
    assert ("North feedback" in csv) == (persona in NORTH_LINE)
    detail = client.get(reverse("reports:weekly-report-detail", args=[mine.pk]))
    assert _status(detail.status_code) == ("ok" if persona in WEEKLY_SEES else "missing")
    team = _body(client.get(reverse("reports:weekly-team")))
    assert (f'data-person="{org.rep.pk}"' in team) == (persona in WEEKLY_SEES)
    assert (f'data-person="{org.outsider.pk}"' in team) == (persona in NORTH_LINE)
    delete = client.post(reverse("reports:weekly-report-delete", args=[north.pk]))
    # only its owner deletes a draft; the line above sees it (403), others do not (404)
    assert _status(delete.status_code) == _expected(persona, {"outsider"}, NORTH_LINE)
    assert WeeklyReport.objects.filter(pk=north.pk).exists() == (persona != "outsider")
