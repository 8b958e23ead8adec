"""The planning rules: growth proposals and the targets a plan writes, the
subtree rules for setting them, the risk heat map, improvement actions due for
their monthly evaluation, structured analyses and skill profiles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from pipeline.models import Target
from pipeline.tests.factories import ClientFactory, DealFactory, stage
from reports import planning, teambuilding
from reports.models import ImprovementAction, MarketAnalysis, Risk, SkillAssessment
from reports.tests.factories_planning import (
    ImprovementActionFactory,
    ImprovementEvaluationFactory,
    RiskFactory,
    SalesPlanFactory,
    SkillAssessmentFactory,
)

pytestmark = pytest.mark.django_db

Q3 = date(2026, 7, 1)
Q4 = date(2026, 10, 1)


def _won(owner, amount: str, closed_on: date, currency: str = "CNY"):
    return DealFactory(
        owner=owner,
        client=ClientFactory(owner=owner),
        stage=stage("won"),
        amount=Decimal(amount),
        currency=currency,
        closed_on=closed_on,
    )


@pytest.fixture
def q3_results(org):
    _won(org.rep, "60000", date(2026, 7, 1))
    _won(org.rep, "40000", date(2026, 9, 30))
    _won(org.rep, "99999", date(2026, 10, 1))  # Q4: not last period
    _won(org.rep, "55555", date(2026, 6, 30))  # Q2: not last period
    _won(org.peer_rep, "40000.10", date(2026, 8, 15))
    _won(org.peer_rep, "1000", date(2026, 8, 15), currency="USD")  # not yuan: left out
    _won(org.outsider, "500000", date(2026, 8, 1))  # another region


# ------------------------------------------------------------------- proposals
def test_previous_period_and_proposal_arithmetic():
    assert planning.previous_period_start("quarter", Q4) == Q3
    assert planning.previous_period_start("quarter", date(2026, 1, 1)) == date(2025, 10, 1)
    assert planning.previous_period_start("month", date(2026, 1, 15)) == date(2025, 12, 1)
    assert planning.previous_period_start("year", date(2026, 5, 1)) == date(2025, 1, 1)
    assert planning.propose(Decimal("100000"), Decimal("15")) == Decimal("115000.00")
    assert planning.propose(Decimal("40000.10"), Decimal("15")) == Decimal("46000.12")  # .115 up
    assert planning.propose(Decimal("80000"), Decimal("-10")) == Decimal("72000.00")
    assert planning.propose(Decimal("0"), Decimal("15")) == Decimal("0.00")


def test_a_plan_proposes_last_quarter_grown_by_15_percent(org, q3_results):
    plan = planning.plan_create(
        by=org.manager, title="Q4", team=org.east_team, period="quarter", period_start=Q4
    )
    assert plan.baseline_revenue == Decimal("140000.10")
    assert plan.target_revenue == Decimal("161000.12")  # 140,000.10 × 1.15 = 161,000.115
    lines = {line.key: line for line in planning.plan_lines(by=org.manager, plan=plan)}
    assert list(lines) == [
        f"team:{org.east_team.pk}",
        f"user:{org.am.pk}",
        f"user:{org.rep.pk}",
        f"user:{org.peer_rep.pk}",
    ]
    rep = lines[f"user:{org.rep.pk}"]
    assert (rep.baseline, rep.proposed, rep.won) == (
        Decimal("100000"),
        Decimal("115000.00"),
        Decimal("99999"),
    )
    assert lines[f"user:{org.peer_rep.pk}"].proposed == Decimal("46000.12")
    assert lines[f"user:{org.am.pk}"].proposed == Decimal("0.00")
    assert all(line.can_set for line in lines.values())
    at_20 = planning.plan_lines(by=org.manager, plan=plan, growth=Decimal("20"))
    assert [line.proposed for line in at_20][:3] == [
        Decimal("168000.12"),
        Decimal("0.00"),
        Decimal("120000.00"),
    ]


def test_saving_the_plan_writes_and_updates_targets(org, q3_results):
    plan = planning.plan_create(
        by=org.manager, title="Q4", team=org.east_team, period="quarter", period_start=Q4
    )
    lines = planning.plan_lines(by=org.manager, plan=plan)
    written = planning.plan_save_targets(
        by=org.manager, plan=plan, revenues={line.key: line.proposed for line in lines}
    )
    assert len(written) == 4
    rep_target = Target.objects.get(user=org.rep, period="quarter", period_start=Q4)
    assert rep_target.revenue == Decimal("115000.00")
    assert rep_target.set_by == org.manager
    assert (rep_target.calls_per_day, rep_target.visits_per_week) == (20, 10)  # rep defaults
    team_target = Target.objects.get(team=org.east_team, period="quarter", period_start=Q4)
    assert team_target.revenue == Decimal("161000.12")
    # adjusted and saved again: the same rows change, nothing is duplicated
    written = planning.plan_save_targets(
        by=org.manager,
        plan=plan,
        revenues={f"user:{org.rep.pk}": "130,000", f"team:{org.east_team.pk}": "200000"},
    )
    assert len(written) == 2
    rep_target.refresh_from_db()
    assert rep_target.revenue == Decimal("130000.00")
    assert Target.objects.filter(period="quarter", period_start=Q4).count() == 4
    plan.refresh_from_db()
    assert plan.target_revenue == Decimal("200000.00")
    # the page shows the target now set
    lines = {line.key: line for line in planning.plan_lines(by=org.manager, plan=plan)}
    assert lines[f"user:{org.rep.pk}"].value == Decimal("130000.00")


def test_a_manager_cannot_set_targets_outside_their_subtree(org, q3_results):
    plan = planning.plan_create(
        by=org.manager, title="East Q4", team=org.east, period="quarter", period_start=Q4
    )
    lines = {line.key: line for line in planning.plan_lines(by=org.manager, plan=plan)}
    # their own region's target comes from the director; their own from the director too
    assert not lines[f"team:{org.east.pk}"].can_set
    assert not lines[f"user:{org.manager.pk}"].can_set
    assert lines[f"team:{org.east_team.pk}"].can_set
    assert f"user:{org.outsider.pk}" not in lines
    assert f"user:{org.support.pk}" not in lines  # support staff sell nothing
    for forged in (
        {f"team:{org.east.pk}": "1"},
        {f"user:{org.manager.pk}": "1"},
        {f"user:{org.outsider.pk}": "1"},
        {f"team:{org.north.pk}": "1"},
        {"company": "1"},
    ):
        with pytest.raises(ValidationError):
            planning.plan_save_targets(
                by=org.manager, plan=plan, revenues={f"user:{org.rep.pk}": "5", **forged}
            )
    assert not Target.objects.exists()  # all or nothing
    with pytest.raises(ValidationError):
        planning.plan_save_targets(by=org.manager, plan=plan, revenues={f"user:{org.rep.pk}": "-5"})
    # the director sets the region's
    planning.plan_save_targets(by=org.director, plan=plan, revenues={f"team:{org.east.pk}": "9"})
    assert Target.objects.get(team=org.east).revenue == Decimal("9.00")


def test_the_targets_page_refuses_a_forged_line(login, org, q3_results):
    plan = SalesPlanFactory(owner=org.manager, team=org.east_team, period_start=Q4)
    response = login(org.manager).post(
        reverse("reports:plan-targets", args=[plan.pk]),
        {f"rev-user:{org.outsider.pk}": "100", f"rev-user:{org.rep.pk}": "100"},
        follow=True,
    )
    assert response.status_code == 200
    assert not Target.objects.exists()
    response = login(org.manager).post(
        reverse("reports:plan-targets", args=[plan.pk]), {f"rev-user:{org.rep.pk}": "100"}
    )
    assert Target.objects.get(user=org.rep).revenue == Decimal("100.00")
    # the rep can see a shared plan but not set anything
    plan.shared = True
    plan.save()
    response = login(org.rep).post(
        reverse("reports:plan-targets", args=[plan.pk]), {f"rev-user:{org.rep.pk}": "1"}
    )
    assert response.status_code == 403


def test_who_plans_for_which_team(org):
    with pytest.raises(ValidationError):
        planning.plan_create(
            by=org.manager, title="x", team=org.north, period="quarter", period_start=Q4
        )
    with pytest.raises(ValidationError):
        planning.plan_create(
            by=org.manager, title="x", team=None, period="quarter", period_start=Q4
        )
    with pytest.raises(PermissionDenied):
        planning.plan_create(
            by=org.am, title="x", team=org.east_team, period="month", period_start=Q4
        )
    company = planning.plan_create(
        by=org.director, title="Company", team=None, period="year", period_start=date(2026, 6, 1)
    )
    assert company.period_start == date(2026, 1, 1)
    with pytest.raises(ValidationError):  # one plan per scope and period
        planning.plan_create(
            by=org.director, title="Again", team=None, period="year", period_start=Q4
        )


def test_the_plan_page_shows_lines_and_proposals(login, org, q3_results):
    plan = planning.plan_create(
        by=org.manager, title="Q4", team=org.east_team, period="quarter", period_start=Q4
    )
    html = login(org.manager).get(plan.get_absolute_url() + "?growth=20").content.decode()
    assert f'data-line="user:{org.rep.pk}"' in html
    assert f'name="rev-user:{org.rep.pk}"' in html
    assert "¥120,000" in html  # proposal at 20%
    assert 'data-testid="plan-baseline">¥140,000<' in html


# -------------------------------------------------------------------- milestones
def test_milestone_owners_come_from_the_writers_line(org):
    plan = SalesPlanFactory(owner=org.manager, team=org.east)
    milestone = planning.milestone_save(
        by=org.manager, plan=plan, title="Trade show", owner=org.rep, due_date=Q4
    )
    assert milestone.owner == org.rep
    with pytest.raises(ValidationError):
        planning.milestone_save(
            by=org.manager, plan=plan, title="x", owner=org.outsider, due_date=Q4
        )
    with pytest.raises(PermissionDenied):
        planning.milestone_save(by=org.am, plan=plan, title="x", due_date=Q4)


# ----------------------------------------------------------------------- heat map
@pytest.fixture
def risks(org):
    for likelihood, impact in ((5, 5), (5, 5), (4, 2), (1, 1), (2, 4)):
        RiskFactory(created_by=org.manager, owner=org.rep, likelihood=likelihood, impact=impact)
    RiskFactory(created_by=org.manager, likelihood=5, impact=5, status=Risk.Status.CLOSED)
    RiskFactory(created_by=org.manager, likelihood=3, impact=3, status=Risk.Status.MONITORING)
    RiskFactory(created_by=org.peer_manager, likelihood=5, impact=5)  # North


def _cells(grid) -> dict[tuple[int, int], int]:
    return {(c.likelihood, c.impact): c.count for row in grid for c in row}


def test_heat_map_counts_per_cell(org, risks):
    qs = Risk.objects.visible_to(org.manager).filter(status__in=planning.OPEN_RISK_STATUSES)
    grid = planning.heat_map(qs)
    assert len(grid) == 5 and all(len(row) == 5 for row in grid)
    assert [c.impact for c in (row[0] for row in grid)] == [5, 4, 3, 2, 1]
    counts = _cells(grid)
    assert sum(counts.values()) == 6
    assert counts[(5, 5)] == 2
    assert counts[(4, 2)] == 1 and counts[(2, 4)] == 1 and counts[(1, 1)] == 1
    assert counts[(3, 3)] == 1
    assert grid[0][4].level == "critical" and grid[4][0].level == "low"
    # the rep owns five of them
    assert sum(_cells(planning.heat_map(Risk.objects.visible_to(org.rep))).values()) == 5
    assert sum(_cells(planning.heat_map(Risk.objects.visible_to(org.outsider))).values()) == 0


def test_heat_map_page_and_api(login, org, risks):
    html = login(org.manager).get(reverse("reports:risk-list")).content.decode()
    assert 'data-cell="5-5" data-count="2"' in html
    assert 'data-cell="1-1" data-count="1"' in html
    cell = login(org.manager).get(reverse("reports:risk-list") + "?likelihood=5&impact=5")
    assert cell.content.decode().count("data-risk=") == 2
    closed = login(org.manager).get(reverse("reports:risk-list") + "?status=closed")
    assert 'data-cell="5-5" data-count="1"' in closed.content.decode()
    api = APIClient()
    api.force_authenticate(org.manager)
    cells = {
        (c["likelihood"], c["impact"]): c["count"]
        for c in api.get("/api/v1/risks/heatmap/?status=open").json()
    }
    assert cells[(5, 5)] == 2 and sum(cells.values()) == 5
    api.force_authenticate(org.outsider)
    assert sum(c["count"] for c in api.get("/api/v1/risks/heatmap/").json()) == 0


def test_overdue_reviews_are_highlighted(login, org):
    with time_machine.travel(date(2026, 11, 20), tick=False):
        late = RiskFactory(created_by=org.manager, review_date=date(2026, 11, 19), title="Late")
        RiskFactory(created_by=org.manager, review_date=date(2026, 11, 20), title="Today")
        RiskFactory(
            created_by=org.manager,
            review_date=date(2026, 11, 1),
            status=Risk.Status.CLOSED,
            title="Closed",
        )
        html = login(org.manager).get(reverse("reports:risk-list") + "?status=all").content
        html = html.decode()
        assert html.count('data-overdue="1"') == 1
        assert f'data-risk="{late.pk}" class="overdue-row"' in html
        overdue = login(org.manager).get(reverse("reports:risk-list") + "?overdue=1").content
        assert overdue.decode().count("data-risk=") == 1


def test_risk_api_matrix(org):
    for persona, listed, patch, delete in (
        ("director", True, 200, 204),
        ("manager", True, 200, 204),
        ("am", True, 200, 403),
        ("rep", True, 200, 403),
        ("support", True, 403, 403),
        ("peer_rep", False, 404, 404),
        ("peer_manager", False, 404, 404),
        ("outsider", False, 404, 404),
    ):
        risk = RiskFactory(created_by=org.manager, owner=org.rep)
        api = APIClient()
        api.force_authenticate(getattr(org, persona))
        ids = {r["id"] for r in api.get("/api/v1/risks/").json()["results"]}
        assert (risk.pk in ids) is listed, persona
        response = api.patch(
            f"/api/v1/risks/{risk.pk}/", {"impact": 5, "version": risk.version}, format="json"
        )
        assert response.status_code == patch, persona
        if patch == 200:
            assert response.json()["score"] == 15
        assert api.delete(f"/api/v1/risks/{risk.pk}/").status_code == delete, persona
    api = APIClient()
    api.force_authenticate(org.am)
    created = api.post(
        "/api/v1/risks/",
        {
            "title": "Key client may churn",
            "category": "customer",
            "likelihood": 2,
            "impact": 4,
            "response": "reduce",
            "review_date": "2030-01-01",
        },
        format="json",
    )
    assert created.status_code == 201
    assert (created.json()["score"], created.json()["owner"]) == (8, org.am.pk)
    foreign = api.post(
        "/api/v1/risks/",
        {
            "title": "x",
            "category": "customer",
            "likelihood": 2,
            "impact": 4,
            "response": "reduce",
            "review_date": "2030-01-01",
            "owner": org.outsider.pk,
        },
        format="json",
    )
    assert foreign.status_code == 400
    api.force_authenticate(org.rep)
    assert api.post("/api/v1/risks/", {"title": "x"}, format="json").status_code == 403
    fresh = RiskFactory(created_by=org.manager, owner=org.rep)
    stale = api.patch(f"/api/v1/risks/{fresh.pk}/", {"impact": 1, "version": 99}, format="json")
    assert stale.status_code == 409


# ------------------------------------------------------------------ improvements
def test_actions_due_for_this_months_evaluation(org):
    with time_machine.travel(date(2026, 11, 20), tick=False):
        due = ImprovementActionFactory(created_by=org.manager, starts_on=date(2026, 9, 1))
        done = ImprovementActionFactory(created_by=org.manager, starts_on=date(2026, 9, 1))
        ImprovementEvaluationFactory(action=done, month=date(2026, 11, 1))
        ImprovementEvaluationFactory(action=due, month=date(2026, 10, 1))  # last month's only
        ImprovementActionFactory(created_by=org.manager, starts_on=date(2026, 12, 1))
        ImprovementActionFactory(
            created_by=org.manager, starts_on=date(2026, 1, 1), ends_on=date(2026, 10, 1)
        )
        ImprovementActionFactory(
            created_by=org.manager,
            starts_on=date(2026, 1, 1),
            status=ImprovementAction.Status.COMPLETED,
        )
        qs = ImprovementAction.objects.visible_to(org.manager)
        assert list(planning.due_for_evaluation(qs, date(2026, 11, 20))) == [due]
        assert not planning.due_for_evaluation(
            ImprovementAction.objects.visible_to(org.outsider), date(2026, 11, 1)
        ).exists()
        # evaluating it takes it off the list; a future month or one outside is refused
        planning.evaluation_save(
            by=org.manager, action=due, month=date(2026, 11, 5), result="31%", rating=4
        )
        assert not planning.due_for_evaluation(qs, date(2026, 11, 1)).exists()
        with pytest.raises(ValidationError):
            planning.evaluation_save(
                by=org.manager, action=due, month=date(2026, 12, 1), result="x", rating=3
            )
        with pytest.raises(ValidationError):
            planning.evaluation_save(
                by=org.manager, action=due, month=date(2026, 8, 1), result="x", rating=3
            )
        # correcting the month updates the one evaluation
        planning.evaluation_save(
            by=org.manager, action=due, month=date(2026, 11, 1), result="32%", rating=5
        )
        assert due.evaluations.filter(month=date(2026, 11, 1)).get().result == "32%"


def test_the_owner_evaluates_their_action(login, org):
    with time_machine.travel(date(2026, 11, 20), tick=False):
        action = ImprovementActionFactory(
            created_by=org.manager, owner=org.rep, starts_on=date(2026, 11, 1)
        )
        html = login(org.rep).get(reverse("reports:improvement-list") + "?due=1").content
        assert f'data-action="{action.pk}"' in html.decode()
        response = login(org.rep).post(
            reverse("reports:improvement-evaluate", args=[action.pk]),
            {"e-month": "2026-11", "e-result": "28%", "e-rating": 3, "e-notes": ""},
        )
        assert response.status_code == 302
        assert action.evaluations.get().result == "28%"
        response = login(org.peer_rep).post(
            reverse("reports:improvement-evaluate", args=[action.pk]),
            {"e-month": "2026-11", "e-result": "x", "e-rating": 3},
        )
        assert response.status_code == 404


# -------------------------------------------------------------------- analyses
def test_structured_analyses_are_validated():
    swot = planning.clean_content(
        MarketAnalysis.Kind.SWOT,
        {"strengths": "Service\n\n  Local team  ", "threats": ["New entrant", " "]},
    )
    assert swot == {
        "strengths": ["Service", "Local team"],
        "weaknesses": [],
        "opportunities": [],
        "threats": ["New entrant"],
    }
    forces = {key: {"rating": 3, "notes": ""} for key, _label in planning.FIVE_FORCES}
    assert planning.clean_content(MarketAnalysis.Kind.FIVE_FORCES, forces)["rivalry"] == {
        "rating": 3,
        "notes": "",
    }
    for bad in (6, 0, "x", None):
        with pytest.raises(ValidationError):
            planning.clean_content(
                MarketAnalysis.Kind.FIVE_FORCES, {**forces, "buyer_power": {"rating": bad}}
            )
    with pytest.raises(ValidationError):
        planning.clean_content("nonsense", {})


def test_a_five_forces_analysis_through_the_page(login, org):
    data = {"title": "Pumps market", "subject": "Industrial pumps", "summary": "Tough"}
    for key, _label in planning.FIVE_FORCES:
        data[f"c_{key}_rating"] = "4"
        data[f"c_{key}_notes"] = f"{key} notes"
    response = login(org.manager).post(
        reverse("reports:analysis-create") + "?kind=five_forces", data
    )
    assert response.status_code == 302
    analysis = MarketAnalysis.objects.get()
    assert analysis.content["supplier_power"] == {"rating": 4, "notes": "supplier_power notes"}
    html = login(org.manager).get(analysis.get_absolute_url()).content.decode()
    assert 'data-part="rivalry"' in html


# ----------------------------------------------------------------------- skills
def test_the_newest_assessment_is_the_profile(login, org):
    SkillAssessmentFactory(person=org.rep, assessed_on=date(2026, 3, 1), leadership=10)
    SkillAssessmentFactory(
        person=org.rep,
        assessed_on=date(2026, 9, 1),
        leadership=85,
        communication=81,
        negotiation=60,
        analysis=90,
    )
    SkillAssessmentFactory(person=org.peer_rep, assessed_on=date(2026, 1, 1))
    latest = teambuilding.latest_assessments(SkillAssessment.objects.all())
    assert sorted((a.person_id, a.assessed_on) for a in latest) == sorted(
        [(org.rep.pk, date(2026, 9, 1)), (org.peer_rep.pk, date(2026, 1, 1))]
    )
    levels = [c.level for c in teambuilding.skill_cells(latest.get(person=org.rep))]
    # ideal 85 / 90 / 78 / 82: meets, near (-9), gap (-18), meets
    assert levels == ["meets", "near", "gap", "meets"]
    html = login(org.manager).get(reverse("reports:skill-matrix")).content.decode()
    assert 'data-skill="leadership" data-level="meets">85<' in html
    assert 'data-skill="negotiation" data-level="gap">60<' in html
    person = login(org.rep).get(reverse("reports:skill-person", args=[org.rep.pk]))
    assert '"ideal": [85, 90, 78, 82]' in person.content.decode()
    assert '"person": [85, 81, 60, 90]' in person.content.decode()
    assert (
        login(org.peer_rep).get(reverse("reports:skill-person", args=[org.rep.pk])).status_code
        == 404
    )


def test_a_second_assessment_the_same_day_corrects_the_first(org):
    with time_machine.travel(date(2026, 11, 20), tick=False):
        scores = {"leadership": 50, "communication": 50, "negotiation": 50, "analysis": 50}
        first = teambuilding.skill_assess(
            by=org.manager, person=org.rep, assessed_on=date(2026, 11, 20), **scores
        )
        again = teambuilding.skill_assess(
            by=org.manager,
            person=org.rep,
            assessed_on=date(2026, 11, 20),
            **{**scores, "analysis": 70},
        )
        assert again.pk == first.pk and again.analysis == 70
        with pytest.raises(ValidationError):
            teambuilding.skill_assess(
                by=org.manager, person=org.rep, assessed_on=date(2026, 11, 21), **scores
            )
        with pytest.raises(ValidationError):
            teambuilding.skill_assess(
                by=org.manager,
                person=org.rep,
                assessed_on=date(2026, 11, 19),
                **{**scores, "analysis": 101},
            )


def test_the_plan_page_says_which_target_its_attainment_reads(login, org, q3_results):
    """The plan's own figure (last quarter + 15%) and the target set for its team may
    differ (a manager's region gets its target from the director): the page names the
    one the attainment is measured against."""
    plan = planning.plan_create(
        by=org.manager, title="East Q4", team=org.east, period="quarter", period_start=Q4
    )
    url = reverse("reports:plan-detail", args=[plan.pk])
    html = login(org.manager).get(url).content.decode()
    assert "plan-target-set" not in html and "plan-attainment" not in html  # nothing set yet
    planning.plan_save_targets(
        by=org.director, plan=plan, revenues={f"team:{org.east.pk}": "99999"}
    )
    plan.refresh_from_db()
    assert plan.target_revenue == Decimal("99999.00")  # saved through the plan: the same
    html = login(org.manager).get(url).content.decode()
    assert "plan-target-set" not in html
    assert "100.0% of the ¥99,999 set" in html  # the Q4 sale of 99,999
    Target.objects.filter(team=org.east).update(revenue=Decimal("199998"))  # set elsewhere
    html = login(org.manager).get(url).content.decode()
    assert 'data-testid="plan-target">¥99,999<' in html
    assert "Target set: ¥199,998" in html
    assert "50.0% of the ¥199,998 set" in html
