"""The sales manager's dashboard: its numbers are the KPI definitions', it stays in
the manager's part of the organisation, its tables download, and it costs the
same few queries with little or much data."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from clients.models import Client
from pipeline.models import Deal, Quote, QuoteApproval
from reports import kpis
from reports.dashboards.manager_data import LIST_ROWS
from reports.dashboards.widgets import money, pct
from reports.kpis import Period, Scope
from reports.models import SkillAssessment
from reports.tests import factories as f
from reports.tests.factories import at

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
MONTH = Period.containing("month", TODAY)
URL = reverse("reports:home", args=["manager"])
#: pinned: the framework's 9 (session, user, tree check, led teams, visibility,
#: picker's teams and people, 2 permission reads) + breakdown, the visibility's
#: key-account ids, people/targets/skills/lists/stages, funnel, stage conversion, cadence
MAX_QUERIES = 15


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def _work(org, n: int = 1, first: int = 0) -> None:
    """A month of the East team's work (``n`` times over) and some of North's."""
    day = TODAY - timedelta(days=3)
    for i in range(first, first + n):
        for person in (org.rep, org.peer_rep, org.am):
            f.deal(
                person,
                created=at(day - timedelta(days=10)),
                path=[("needs_analysis", at(day - timedelta(days=8))), ("won", at(day))],
                amount="120000",
            )
            f.deal(
                person,
                created=at(day - timedelta(days=10)),
                path=[("lost", at(day))],
            )
            f.deal(
                person,
                created=at(day - timedelta(days=5)),
                path=[("needs_analysis", at(day - timedelta(days=4)))],
            )
            f.activity(person, when=at(day, 9), type="call")
            f.activity(person, when=at(day, 11), type="visit")
            f.lead(person, created=at(day), converted=at(day, 12) if i % 2 == 0 else None)
        # a stale deal and an overdue complaint in each region
        stale = f.deal(org.rep, created=at(TODAY - timedelta(days=40)))
        Deal.objects.filter(pk=stale.pk).update(title=f"Stale East {i}")
        north_stale = f.deal(org.outsider, created=at(TODAY - timedelta(days=40)))
        Deal.objects.filter(pk=north_stale.pk).update(title=f"Stale North {i}")
        c = f.complaint(org.rep, received=at(TODAY - timedelta(days=3)))
        c.subject = f"Late East {i}"
        c.save()
        c = f.complaint(org.outsider, received=at(TODAY - timedelta(days=3)))
        c.subject = f"Late North {i}"
        c.save()
        f.deal(org.outsider, created=at(day), path=[("won", at(day))], amount="999000")
        Client.objects.create(
            name=f"Cadence {i}", owner=org.rep, account_manager=org.am, cadence="monthly"
        )
        quote_deal = f.deal(org.rep, created=at(day))
        quote = Quote.objects.create(deal=quote_deal, number=f"Q-EAST-{i}")
        QuoteApproval.objects.create(
            quote=quote, requested_by=org.rep, approver=org.manager, discount_percent="18"
        )
    if first:
        return
    f.target(
        period="month",
        start=MONTH.start,
        user=org.rep,
        revenue="200000",
        calls_per_day=4,
        visits_per_week=2,
    )
    f.target(period="quarter", start=date(2026, 10, 1), user=org.peer_rep, calls_per_day=3)
    f.target(period="month", start=MONTH.start, team=org.east_team, revenue="500000")
    SkillAssessment.objects.create(
        person=org.rep,
        assessed_on=TODAY - timedelta(days=30),
        leadership=60,
        communication=92,
        negotiation=75,
        analysis=80,
    )


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _tiles(response) -> dict:
    return {t.key: t for t in response.context["dashboard"].tiles}


def test_the_numbers_are_the_kpi_definitions(past_org, login, now):
    org = past_org
    _work(org)
    f.target(period="month", start=MONTH.start, revenue="720000", team=org.east)
    response = login(org.manager).get(URL)
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    scope = Scope.team(org.east)
    assert response.context["params"].scope == scope  # the region they lead by default
    tiles = _tiles(response)

    totals = kpis.totals(scope, MONTH)
    assert tiles["won-revenue"].value == money(kpis.won_revenue(scope, MONTH).amount)
    assert totals.won_amount == Decimal("360000")
    assert tiles["win-rate"].value == pct(kpis.win_rate(scope, MONTH).percent)
    activity = kpis.activity_vs_targets(scope, MONTH)
    assert tiles["calls"].value == str(activity.calls)
    assert str(int(activity.expected_calls)) in tiles["calls"].detail
    assert str(int(activity.expected_visits)) in tiles["visits"].detail
    cadence = kpis.cadence_compliance(scope, as_of=TODAY)
    assert tiles["cadence"].value == pct(cadence.percent)
    assert tiles["stale-deals"].value == "1"
    assert tiles["overdue-complaints"].value == "1"
    assert tiles["approvals"].value == "1"
    # the region's target: 360,000 won of 720,000
    assert tiles["attainment"].value == pct(kpis.target_attainment(scope, MONTH).percent) == "50.0%"

    # the manager's line (picked) has no target of its own, and the tile says so
    line = _tiles(login(org.manager).get(URL, {"scope": Scope.line(org.manager).key}))
    assert line["attainment"].value == "—" and "pick a team" in str(line["attainment"].detail)
    assert line["won-revenue"].value == tiles["won-revenue"].value  # the same people

    # the leaderboard: one row per person of the region, each number the person's KPI
    board = dashboard.tables()["leaderboard"]
    by_name = {row[0].text: row for row in board.rows}
    assert set(by_name) == {str(p) for p in (org.manager, org.am, org.rep, org.peer_rep)} | {
        str(org.support)
    }
    rep_row = by_name[str(org.rep)]
    person = Scope.person(org.rep)
    assert rep_row[1].text == money(kpis.won_revenue(person, MONTH).amount)
    assert f"scope=person&id={org.rep.pk}" in rep_row[1].url
    assert rep_row[3].text == pct(kpis.target_attainment(person, MONTH).percent)
    rep_activity = kpis.activity_vs_targets(person, MONTH)
    assert rep_row[4].text == f"{rep_activity.calls} / {int(rep_activity.expected_calls)}"
    assert rep_row[5].text == f"{rep_activity.visits} / {int(rep_activity.expected_visits)}"
    assert rep_row[7].text.startswith(pct(kpis.win_rate(person, MONTH).percent))
    peer = kpis.activity_vs_targets(Scope.person(org.peer_rep), MONTH)  # a quarter's target
    assert by_name[str(org.peer_rep)][4].text == f"{peer.calls} / {int(peer.expected_calls)}"

    # the funnel, with the bottleneck highlighted and said
    chart = next(c for c in dashboard.charts() if c.key == "funnel")
    funnel = kpis.funnel(scope)
    assert chart.datasets[0]["data"] == [s.deals for s in funnel.stages]
    bottleneck = kpis.stage_conversion(scope, MONTH).bottleneck
    assert bottleneck is not None
    assert chart.highlight == [s.stage_id for s in funnel.stages].index(bottleneck.stage_id)
    assert bottleneck.name in chart.note
    html = response.content.decode()
    assert 'data-testid="section-skills"' in html
    assert "Stale East 0" in html and "Late East 0" in html and "Q-EAST-0" in html


def test_a_person_s_lists_are_cut_but_counted_in_full(past_org, login, now):
    """Each person's stale deals and overdue complaints arrive as their first
    ``LIST_ROWS`` rows with the length of the whole list: the tiles count them all."""
    org = past_org
    _work(org, n=LIST_ROWS + 2)
    response = login(org.manager).get(URL)
    tiles = _tiles(response)
    assert tiles["stale-deals"].value == str(LIST_ROWS + 2)
    assert tiles["overdue-complaints"].value == str(LIST_ROWS + 2)
    stale = response.context["dashboard"].tables()["stale-deals"]
    titles = [row[0].text for row in stale.rows]
    assert len(titles) == LIST_ROWS
    assert all(title.startswith("Stale East") for title in titles)


def test_a_team_scope_measures_the_team_s_target(past_org, login, now):
    org = past_org
    _work(org)
    response = login(org.manager).get(URL, {"scope": f"team:{org.east_team.pk}"})
    assert response.status_code == 200
    attainment = kpis.target_attainment(Scope.team(org.east_team), MONTH)
    assert attainment.target == Decimal("500000")
    assert _tiles(response)["attainment"].value == pct(attainment.percent)


def test_a_person_scope_shows_that_person(past_org, login, now):
    org = past_org
    _work(org)
    response = login(org.manager).get(URL, {"scope": "person", "id": org.rep.pk})
    tiles = _tiles(response)
    person = Scope.person(org.rep)
    assert tiles["attainment"].value == pct(kpis.target_attainment(person, MONTH).percent)
    assert tiles["won-revenue"].value == money(kpis.won_revenue(person, MONTH).amount)
    rows = response.context["dashboard"].tables()["leaderboard"].rows
    assert [r[0].text for r in rows] == [str(org.rep)]


def test_the_scope_picker_offers_the_manager_s_part_only(past_org, login, now):
    org = past_org
    client = login(org.manager)
    response = client.get(URL)
    scopes = {(s.kind, s.id) for s in response.context["scopes"]}
    assert ("person", org.rep.pk) in scopes and ("team", org.east_team.pk) in scopes
    assert ("person", org.outsider.pk) not in scopes and ("team", org.north.pk) not in scopes
    assert ("company", None) not in scopes
    assert client.get(URL, {"scope": "person", "id": org.outsider.pk}).status_code == 404
    assert client.get(URL, {"scope": f"team:{org.north_team.pk}"}).status_code == 404
    assert client.get(URL, {"scope": "company"}).status_code == 403


def test_nothing_from_another_region_appears(past_org, login, now):
    org = past_org
    _work(org, 2)
    client = login(org.manager)
    html = client.get(URL).content.decode()
    assert "Stale North" not in html and "Late North" not in html
    assert str(org.outsider) not in html
    for table in ("stale-deals", "overdue-complaints", "leaderboard"):
        body = _body(client.get(URL, {"export": "csv", "table": table})).decode("utf-8-sig")
        assert "North" not in body and str(org.outsider) not in body
    # and the peer manager sees North's, not East's
    html = login(org.peer_manager).get(URL).content.decode()
    assert "Stale North 0" in html and "Stale East" not in html and "Q-EAST" not in html


def test_the_tables_download_as_csv_and_xlsx(past_org, login, now):
    org = past_org
    _work(org)
    client = login(org.manager)
    response = client.get(URL, {"export": "csv", "table": "leaderboard"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))
    assert rows[0][0] == "Person" and len(rows) == 6
    assert [str(org.rep), money(Decimal("120000"))] in [r[:2] for r in rows]
    response = client.get(URL, {"export": "xlsx", "table": "stale-deals"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(_body(response))).active
    values = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[0] == "Stale East 0" and values[2] == str(org.rep)
    assert client.get(URL, {"export": "csv", "table": "nope"}).status_code == 404


def _count(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_few_queries_with_more_data(
    past_org, login, now, django_assert_max_num_queries
):
    org = past_org
    client = login(org.manager)
    _work(org, 1)
    client.get(URL)  # the organisation's history is rebuilt once
    small = _count(client)
    _work(org, 6, first=1)
    for i in range(4):  # more people, with targets and skills
        from accounts.tests.factories import UserFactory

        extra = UserFactory(username=f"extra{i}", role="rep", team=org.east_team, reports_to=org.am)
        f.target(period="month", start=MONTH.start, user=extra, revenue="1000", calls_per_day=2)
        SkillAssessment.objects.create(
            person=extra,
            assessed_on=TODAY,
            leadership=50,
            communication=50,
            negotiation=50,
            analysis=50,
        )
    client.get(URL)
    large = _count(client)
    assert small == large
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(URL)
    for picked in (f"team:{org.east.pk}", f"team:{org.east_team.pk}", f"person:{org.rep.pk}"):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert client.get(URL, {"scope": picked}).status_code == 200
