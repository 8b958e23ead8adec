"""Targets: who sets what (the subtree rule), attainment by the SPEC's
definition against a hand-computed fixture, the breakdown and the API."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from pipeline.models import Target
from pipeline.services import targets as services
from pipeline.tests.activity_factories import (
    ActivityFactory,
    ClientFactory,
    DealFactory,
    TargetFactory,
    stage,
)
from pipeline.tests.test_activity_pages import PERSONAS

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY = date(2026, 5, 1)


def won(owner, amount, closed_on, currency="CNY"):
    return DealFactory(
        client=ClientFactory(owner=owner),
        amount=Decimal(amount),
        stage=stage("won"),
        probability=100,
        closed_on=closed_on,
        currency=currency,
    )


@pytest.fixture
def revenue(org):
    """Won deals, by hand:

    rep:      300,000 (May 10) + 200,000 (May 31) in May; 999,000 on June 1;
              a lost 500,000 and an open 100,000 in May don't count, nor a USD deal
    peer_rep: 100,000 (May 20)
    manager:   50,000 (May 2)      — East region, not East Team
    outsider: 400,000 (May 5)      — North
    """
    won(org.rep, "300000", date(2026, 5, 10))
    won(org.rep, "200000", date(2026, 5, 31))
    won(org.rep, "999000", date(2026, 6, 1))
    won(org.rep, "77000", date(2026, 5, 12), currency="USD")
    DealFactory(
        client=ClientFactory(owner=org.rep),
        amount=Decimal("500000"),
        stage=stage("lost"),
        probability=0,
        closed_on=date(2026, 5, 15),
    )
    DealFactory(client=ClientFactory(owner=org.rep), amount=Decimal("100000"))
    won(org.peer_rep, "100000", date(2026, 5, 20))
    won(org.manager, "50000", date(2026, 5, 2))
    won(org.outsider, "400000", date(2026, 5, 5))


# -------------------------------------------------------------------- periods
def test_periods():
    assert services.period_start_for("quarter", date(2026, 8, 19)) == date(2026, 7, 1)
    assert services.period_bounds("quarter", date(2026, 10, 1)) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
    )
    assert services.period_bounds("month", date(2026, 12, 5)) == (
        date(2026, 12, 1),
        date(2027, 1, 1),
    )
    assert services.period_bounds("year", date(2026, 3, 1)) == (date(2026, 1, 1), date(2027, 1, 1))
    assert services.period_label("quarter", date(2026, 4, 1)) == "2026 Q2"


# ------------------------------------------------------------------ attainment
def test_attainment_matches_the_hand_computed_fixture(org, revenue, django_assert_num_queries):
    targets = {
        "rep": TargetFactory(user=org.rep, period_start=MAY, revenue=Decimal("1000000")),
        "team": TargetFactory(team=org.east_team, period_start=MAY, revenue=Decimal("2000000")),
        "east": TargetFactory(team=org.east, period_start=MAY, revenue=Decimal("1300000")),
        "company": TargetFactory(period_start=MAY, revenue=Decimal("4200000")),
        "rep_q2": TargetFactory(
            user=org.rep,
            period="quarter",
            period_start=date(2026, 4, 1),
            revenue=Decimal("2998000"),
        ),
        "zero": TargetFactory(user=org.peer_rep, period_start=MAY, revenue=Decimal("0")),
    }
    # The first call records the organisation's history for team figures (reports.kpis.tree).
    services.attainment_many(list(targets.values()))
    with django_assert_num_queries(2):  # the history's marker, then every sum in one query
        reached = services.attainment_many(list(targets.values()))
    expect = {
        "rep": (Decimal("500000"), Decimal("0.5")),
        "team": (Decimal("600000"), Decimal("0.3")),  # rep + peer_rep
        "east": (Decimal("650000"), Decimal("0.5")),  # + the manager
        "company": (Decimal("1050000"), Decimal("0.25")),  # + the outsider
        "rep_q2": (Decimal("1499000"), Decimal("0.5")),  # May + June 1
    }
    for key, (won_amount, ratio) in expect.items():
        assert reached[targets[key].pk].won == won_amount, key
        assert reached[targets[key].pk].ratio == ratio, key
    assert reached[targets["zero"].pk].ratio is None
    assert services.attainment(targets["rep"]).percent == Decimal("50.0")
    assert services.won_revenue(start=MAY, end=date(2026, 6, 1), team=org.north) == Decimal(
        "400000"
    )


# ------------------------------------------------------------ who sets what
SETTABLE_PEOPLE = {
    "director": {
        "manager",
        "am",
        "rep",
        "peer_rep",
        "support",
        "peer_manager",
        "peer_am",
        "outsider",
        "director",
    },
    "manager": {"am", "rep", "peer_rep", "support"},
    "peer_manager": {"peer_am", "outsider"},
}
SETTABLE_TEAMS = {
    "director": {"company", "east", "east_team", "north", "north_team"},
    "manager": {"east_team"},
    "peer_manager": {"north_team"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_subtree_rule(org, persona):
    by = getattr(org, persona)
    people = {
        name for name, user in org.all().items() if services.may_set(by, user=user, team=None)
    }
    teams = {
        name
        for name in ("company", "east", "east_team", "north", "north_team")
        if services.may_set(by, user=None, team=getattr(org, name))
    }
    assert people == SETTABLE_PEOPLE.get(persona, set())
    assert teams == SETTABLE_TEAMS.get(persona, set())
    assert services.can_set_company_target(by) == (persona == "director")


def test_service_refusals(org):
    with pytest.raises(PermissionDenied):
        services.target_create(by=org.am, user=org.rep, period="month", period_start=MAY)
    with pytest.raises(ValidationError) as exc:
        services.target_create(by=org.manager, user=org.outsider, period="month", period_start=MAY)
    assert "user" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.target_create(by=org.manager, user=org.manager, period="month", period_start=MAY)
    assert "user" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.target_create(by=org.manager, period="month", period_start=MAY)
    assert exc.value.message_dict["team"] == ["Only the sales director sets the company's target."]
    with pytest.raises(ValidationError):
        services.target_create(
            by=org.manager, team=org.north_team, period="month", period_start=MAY
        )
    target = services.target_create(
        by=org.manager,
        user=org.rep,
        period="quarter",
        period_start=date(2026, 5, 17),
        revenue=Decimal("10"),
    )
    assert target.period_start == date(2026, 4, 1) and target.set_by == org.manager
    with pytest.raises(ValidationError) as exc:
        services.target_create(by=org.manager, user=org.rep, period="quarter", period_start=MAY)
    assert "period_start" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.target_update(by=org.manager, target=target, period="year")
    with pytest.raises(ValidationError):
        services.target_update(by=org.peer_manager, target=target, revenue=Decimal("1"))


# ---------------------------------------------------------------------- pages
@pytest.fixture
def targets(org):
    made = {"company": TargetFactory(period_start=MAY, revenue=Decimal("9000000"))}
    for name in ("east", "east_team", "north", "north_team"):
        made[name] = TargetFactory(
            team=getattr(org, name), period_start=MAY, revenue=Decimal("1000")
        )
    for name, user in org.all().items():
        made[name] = TargetFactory(user=user, period_start=MAY, revenue=Decimal("100"))
    return made


#: Which targets each persona sees: their people's and teams' and the company's.
SEES_TARGETS = {
    "director": {"company", "east", "east_team", "north", "north_team", *PERSONAS},
    "manager": {"company", "east", "east_team", "manager", "am", "rep", "peer_rep", "support"},
    "am": {"company", "east", "east_team", "am", "rep", "peer_rep"},
    "rep": {"company", "east", "east_team", "rep"},
    "peer_rep": {"company", "east", "east_team", "peer_rep"},
    "support": {"company", "east", "east_team", "manager", "am", "rep", "peer_rep", "support"},
    "peer_manager": {"company", "north", "north_team", "peer_manager", "peer_am", "outsider"},
    "peer_am": {"company", "north", "north_team", "peer_am", "outsider"},
    "outsider": {"company", "north", "north_team", "outsider"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_target_list_edit_and_export_per_persona(login, org, targets, persona):
    web = login(getattr(org, persona))
    html = web.get(reverse("pipeline:target-list") + "?page_size=100").content.decode()
    shown = {name for name, t in targets.items() if f'data-target="{t.pk}"' in html}
    assert shown == SEES_TARGETS[persona]
    csv = b"".join(
        web.get(reverse("pipeline:target-list") + "?export=csv").streaming_content
    ).decode("utf-8-sig")
    assert csv.count("\n") - 1 == len(SEES_TARGETS[persona])
    for name, target in targets.items():
        status = web.get(reverse("pipeline:target-edit", args=[target.pk])).status_code
        if name not in SEES_TARGETS[persona]:
            assert status == 404, name
        elif name in SETTABLE_PEOPLE.get(persona, set()) | SETTABLE_TEAMS.get(persona, set()):
            assert status == 200, name
        else:
            assert status == 403, name
    can_set = persona in SETTABLE_PEOPLE
    assert web.get(reverse("pipeline:target-create")).status_code == (200 if can_set else 403)


def test_a_manager_sets_a_reps_target_with_the_spec_defaults_offered(login, org):
    web = login(org.manager)
    html = web.get(reverse("pipeline:target-create") + f"?user={org.rep.pk}").content.decode()
    assert 'name="calls_per_day" value="20"' in html and 'name="visits_per_week" value="10"' in html
    assert "Sales rep: 20–30" in html and "Account manager: 5–8" in html
    partial = web.get(
        reverse("pipeline:target-create") + f"?user={org.am.pk}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert (
        'name="visits_per_week" value="5"' in partial
        and 'name="calls_per_day" value=' not in partial
    )
    assert f'value="{org.outsider.pk}"' not in html and f'value="{org.manager.pk}"' not in html
    response = web.post(
        reverse("pipeline:target-create"),
        {
            "scope": "user",
            "user": org.rep.pk,
            "period": "month",
            "period_start": "2026-05",
            "revenue": "800000",
            "calls_per_day": "25",
            "visits_per_week": "12",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get(user=org.rep)
    assert (target.revenue, target.calls_per_day, target.period_start) == (
        Decimal("800000"),
        25,
        MAY,
    )
    refused = web.post(
        reverse("pipeline:target-create"),
        {
            "scope": "user",
            "user": org.outsider.pk,
            "period": "month",
            "period_start": "2026-05",
            "revenue": "1",
        },
    )
    assert refused.status_code == 200 and not Target.objects.filter(user=org.outsider).exists()
    company = web.post(
        reverse("pipeline:target-create"),
        {"scope": "company", "period": "month", "period_start": "2026-05", "revenue": "1"},
    )
    assert company.status_code == 200 and not Target.objects.filter(user=None, team=None).exists()


def test_editing_and_deleting_a_target(login, org):
    target = TargetFactory(user=org.rep, period_start=MAY, revenue=Decimal("5"))
    web = login(org.am)
    assert web.get(reverse("pipeline:target-edit", args=[target.pk])).status_code == 403
    web = login(org.manager)
    response = web.post(
        reverse("pipeline:target-edit", args=[target.pk]),
        {"revenue": "700", "calls_per_day": "30", "visits_per_week": "", "demos_per_week": "4"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (
        target.revenue,
        target.calls_per_day,
        target.visits_per_week,
        target.demos_per_week,
    ) == (
        Decimal("700"),
        30,
        None,
        4,
    )
    assert web.post(reverse("pipeline:target-delete", args=[target.pk])).status_code == 302
    assert not Target.objects.exists()


def test_the_breakdown_shows_parent_against_the_sum_of_children(login, org, revenue):
    TargetFactory(period_start=MAY, revenue=Decimal("4000000"))
    TargetFactory(team=org.east, period_start=MAY, revenue=Decimal("1500000"))
    TargetFactory(team=org.north, period_start=MAY, revenue=Decimal("2000000"))
    TargetFactory(team=org.east_team, period_start=MAY, revenue=Decimal("1200000"))
    TargetFactory(
        user=org.rep,
        period_start=MAY,
        revenue=Decimal("700000"),
        calls_per_day=20,
        visits_per_week=10,
    )
    TargetFactory(user=org.peer_rep, period_start=MAY, revenue=Decimal("400000"))
    today = datetime(2026, 5, 20, 15, tzinfo=SHANGHAI)  # a Wednesday
    customer = ClientFactory(owner=org.rep)
    for hours in (1, 2, 3):
        ActivityFactory(client=customer, type="call", start_at=today - timedelta(hours=hours))
    ActivityFactory(client=customer, type="call", start_at=today - timedelta(days=1))
    ActivityFactory(client=customer, type="visit", start_at=today - timedelta(days=2))  # Monday
    ActivityFactory(client=customer, type="visit", start_at=today - timedelta(days=3))  # last week
    url = reverse("pipeline:target-breakdown") + "?period=month&start=2026-05"
    with time_machine.travel(today, tick=False):
        html = login(org.director).get(url).content.decode()
        assert 'data-testid="parent-target">¥4,000,000<' in html
        assert 'data-testid="parent-won">¥1,050,000<' in html
        assert 'data-testid="children-total">¥3,500,000<' in html
        assert 'data-testid="unallocated">¥500,000<' in html
        east = login(org.manager).get(url + f"&team={org.east.pk}").content.decode()
        assert 'data-testid="parent-target">¥1,500,000<' in east and "North" not in east
        assert 'data-testid="parent-won">¥650,000<' in east
        assert (
            'data-testid="children-total">¥1,200,000<' in east
        )  # East Team; manager, support: none
        team = login(org.manager).get(url + f"&team={org.east_team.pk}").content.decode()
        assert 'data-testid="children-total">¥1,100,000<' in team
        assert 'data-testid="unallocated">¥100,000<' in team
        rep_row = team.split(f'data-row="user-{org.rep.pk}"')[1].split("</tr>")[0]
        assert "3 / 20" in rep_row and "1 / 10" in rep_row
        assert login(org.outsider).get(url + f"&team={org.east.pk}").status_code == 404
        mine = login(org.rep).get(reverse("pipeline:target-list")).content.decode()
        assert 'data-testid="calls-today">3<' in mine and 'data-testid="visits-week">1<' in mine


# ------------------------------------------------------------------------ API
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_per_persona(org, targets, persona):
    client = APIClient()
    client.force_authenticate(getattr(org, persona))
    body = client.get("/api/v1/targets/?page_size=100").json()
    assert {r["id"] for r in body["results"]} == {targets[n].pk for n in SEES_TARGETS[persona]}
    for name, target in targets.items():
        response = client.patch(
            f"/api/v1/targets/{target.pk}/", {"revenue": "123.00"}, format="json"
        )
        if name not in SEES_TARGETS[persona]:
            assert response.status_code == 404, name
        elif name in SETTABLE_PEOPLE.get(persona, set()) | SETTABLE_TEAMS.get(persona, set()):
            assert response.status_code == 200, name
        else:
            assert response.status_code == 403, name
    created = client.post(
        "/api/v1/targets/",
        {"user": org.rep.pk, "period": "year", "period_start": "2026-03-01", "revenue": "5"},
        format="json",
    )
    if persona in ("director", "manager"):
        assert created.status_code == 201 and created.json()["period_start"] == "2026-01-01"
    elif persona in SETTABLE_PEOPLE:
        assert created.status_code == 400  # the rep is not theirs (nor visible to them)
    else:
        assert created.status_code == 403


def test_api_reports_attainment_and_refuses_scope_changes(org, revenue):
    target = TargetFactory(user=org.rep, period_start=MAY, revenue=Decimal("1000000"))
    client = APIClient()
    client.force_authenticate(org.manager)
    row = client.get("/api/v1/targets/").json()["results"][0]
    assert row["won_revenue"] == "500000.00" and row["attainment"] == "0.5000"
    assert client.get(f"/api/v1/targets/{target.pk}/").json()["won_revenue"] == "500000.00"
    moved = client.patch(f"/api/v1/targets/{target.pk}/", {"user": org.am.pk}, format="json")
    assert moved.status_code == 400
    same = client.put(
        f"/api/v1/targets/{target.pk}/",
        {"user": org.rep.pk, "period": "month", "period_start": "2026-05-01", "revenue": "9"},
        format="json",
    )
    assert same.status_code == 200 and same.json()["revenue"] == "9.00"
    assert client.delete(f"/api/v1/targets/{target.pk}/").status_code == 204
    dup = client.post(
        "/api/v1/targets/",
        {"team": org.east_team.pk, "period": "month", "period_start": "2026-05-01"},
        format="json",
    )
    assert dup.status_code == 201
    again = client.post(
        "/api/v1/targets/",
        {"team": org.east_team.pk, "period": "month", "period_start": "2026-05-09"},
        format="json",
    )
    assert again.status_code == 400 and "period_start" in again.json()
