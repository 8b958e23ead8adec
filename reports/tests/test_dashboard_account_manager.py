"""The account manager's dashboard: its numbers are the KPI definitions, its lists
stay inside the viewer's part of the organisation, its tables download, and the
whole page costs at most 15 SQL queries however much data there is.

The story (dates relative to today, the organisation hired 500 days ago):
``am`` manages accounts owned by their rep; one is visited on time, one never
was (overdue), one is due this week. Contracts end in 20, 75 and 120 days;
a complaint waits past its deadline; survey answers came in this month and
two months ago; a won deal this month counts against ``am``'s target. The
North region (``outsider``) has the same kinds of records, which must never show.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from clients.models import Client
from reports import kpis
from reports.dashboards import account_manager_data
from reports.dashboards.account_manager import figures
from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import Chart, Section, Table, Tile, pct
from reports.kpis import Period, Scope
from reports.tests import factories as f
from tests.personas import Org

pytestmark = pytest.mark.django_db

URL = "/dashboard/account_manager/"
MAX_QUERIES = 15


@dataclass
class Story:
    org: Org
    on_time: Client
    never: Client
    due_soon: Client
    buyer: Client
    busy: Client
    north: Client


def _tiles(response) -> dict[str, Tile]:
    return {t.key: t for t in response.context["dashboard"].tiles}


def _widgets(response) -> dict[str, object]:
    return {w.key: w for s in response.context["dashboard"].sections for w in s.widgets}


def _sections(response) -> dict[str, Section]:
    return {s.key: s for s in response.context["dashboard"].sections}


def _cells(table: Table) -> list[list[str]]:
    return [[str(c) for c in row] for row in table.rows]


def add_records(org: Org, today: date, n: int = 1, tag: str = "") -> Story:
    """The records of the story; ``n`` > 1 adds more of each kind (same shape)."""
    am, rep, outsider = org.am, org.rep, org.outsider
    sunday = today + timedelta(days=6 - today.weekday())
    first: dict[str, Client] = {}
    for i in range(n):
        on_time = f.client(rep, account_manager=am, cadence="monthly", status="active")
        f.activity(rep, when=f.at(today - timedelta(days=3)), type="visit", client_=on_time)
        Client.objects.filter(pk=on_time.pk).update(next_visit_due=today + timedelta(days=27))
        never = f.client(rep, account_manager=am, cadence="weekly", is_key_account=True)
        due_soon = f.client(am, cadence="weekly")
        f.activity(am, when=f.at(today - timedelta(days=2)), type="visit", client_=due_soon)
        Client.objects.filter(pk=due_soon.pk).update(next_visit_due=sunday)
        # bought 40 days ago, nothing open: an up-sell candidate
        buyer = f.client(rep, account_manager=am, status="active", cadence="on_demand")
        Client.objects.filter(pk=buyer.pk).update(spend_12m=Decimal("800000") + i)
        bought = today - timedelta(days=40)
        f.deal(
            rep,
            client_=buyer,
            created=f.at(bought - timedelta(days=20)),
            path=[("won", f.at(bought))],
            amount="300000",
        )
        # bought too, but a deal is open: not a candidate
        busy = f.client(rep, account_manager=am, status="active", cadence="on_demand")
        f.deal(
            rep,
            client_=busy,
            created=f.at(bought - timedelta(days=20)),
            path=[("won", f.at(bought))],
        )
        f.deal(
            rep,
            client_=busy,
            created=f.at(today - timedelta(days=5)),
            path=[("proposal", f.at(today - timedelta(days=4)))],
            amount="200000",
        )
        f.deal(
            am,
            client_=on_time,
            created=f.at(today - timedelta(days=9)),
            path=[("negotiation", f.at(today - timedelta(days=8)))],
            amount="400000",
        )
        # won this month (attainment)
        f.deal(
            am,
            client_=on_time,
            created=f.at(today - timedelta(days=30)),
            path=[("won", f.at(today, 0, 5))],
            amount="250000",
        )
        # renewals
        f.contract(
            am,
            client_=on_time,
            start=today - timedelta(days=300),
            end=today + timedelta(days=20),
            amount="120000",
        )
        f.contract(
            am,
            client_=buyer,
            start=today - timedelta(days=300),
            end=today + timedelta(days=75),
            amount="90000",
        )
        f.contract(
            am, client_=buyer, start=today - timedelta(days=200), end=today + timedelta(days=120)
        )
        f.contract(
            am,
            client_=buyer,
            start=today - timedelta(days=400),
            end=today - timedelta(days=5),
            status="expired",
        )
        # complaints: one past its deadline, one answered and resolved
        f.complaint(am, client_=never, received=f.at(today - timedelta(days=2), 9))
        resolved = f.complaint(
            am,
            client_=on_time,
            received=f.at(today - timedelta(days=3)),
            responded_after=timedelta(hours=2),
        )
        resolved.status = "resolved"
        resolved.save()
        # survey answers: this month and two months ago
        for score in (10, 9, 3):
            f.survey_response(on_time, submitted=f.at(today, 0, 3), nps=score)
        f.survey_response(buyer, submitted=f.at(today - timedelta(days=62)), nps=6)
        first = first or {
            "on_time": on_time,
            "never": never,
            "due_soon": due_soon,
            "buyer": buyer,
            "busy": busy,
        }

        # --- the North region: the same kinds of records, never shown to am
        north = f.client(outsider, cadence="weekly", status="active")
        Client.objects.filter(pk=north.pk).update(name=f"North {tag}{i}")
        north.refresh_from_db()
        f.deal(
            outsider,
            client_=north,
            created=f.at(bought - timedelta(days=20)),
            path=[("won", f.at(bought))],
        )
        f.deal(
            outsider,
            client_=north,
            created=f.at(today - timedelta(days=3)),
            path=[("proposal", f.at(today - timedelta(days=2)))],
        )
        f.contract(
            outsider,
            client_=north,
            start=today - timedelta(days=300),
            end=today + timedelta(days=10),
        )
        f.complaint(outsider, client_=north, received=f.at(today - timedelta(days=2), 9))
        f.survey_response(north, submitted=f.at(today, 0, 3), nps=0)
        first.setdefault("north", north)
    return Story(org, **first)


@pytest.fixture
def story(past_org) -> Story:
    return add_records(past_org, timezone.localdate())


# ------------------------------------------------------------------- the page
def test_the_account_manager_opens_their_dashboard(story, login):
    response = login(story.org.am).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("attainment", "cadence", "visits-overdue", "renewals", "complaints", "nps"):
        assert f'data-testid="tile-{key}"' in html
    for key in ("visits", "renewals", "complaints", "nps", "upsell", "pipeline"):
        assert f'data-testid="section-{key}"' in html
    assert response.context["params"].scope == Scope.team(story.org.east_team)  # the team they lead


def test_another_role_lands_on_their_own_dashboard(story, login):
    response = login(story.org.rep).get(URL)
    assert response.status_code == 302
    assert response["Location"].endswith("/dashboard/rep/")


# -------------------------------------------------------- numbers = the KPIs
def test_tiles_and_charts_equal_the_kpi_definitions(story, login):
    org = story.org
    today = timezone.localdate()
    period = Period.containing("month", today)
    f.target(period="month", start=period.start, revenue="500000", user=org.am)
    client = login(org.am)
    for scope in (Scope.line(org.am), Scope.person(org.am)):
        response = client.get(URL, {"scope": scope.key, "period": "month"})
        assert response.status_code == 200
        tiles = _tiles(response)
        won = kpis.won_revenue(scope, period)
        attainment = kpis.target_attainment(scope, period)
        assert attainment.won == won.amount
        assert tiles["attainment"].value == pct(attainment.percent)
        cadence = kpis.cadence_compliance(scope)
        assert tiles["cadence"].value == pct(cadence.percent)
        assert tiles["visits-overdue"].value == str(cadence.overdue)
        nps = kpis.nps(scope, period)
        assert tiles["nps"].value == ("—" if nps.score is None else f"{nps.score:+.0f}")
        widgets = _widgets(response)
        parts = widgets["nps-parts"]
        assert isinstance(parts, Chart)
        assert parts.datasets[0]["data"] == [nps.promoters, nps.passives, nps.detractors]
        funnel = kpis.funnel(scope)
        chart = widgets["funnel"]
        assert [float(v) for v in chart.data["datasets"][0]["data"]] == [
            float(s.amount) for s in funnel.stages
        ]
        assert [float(v) for v in chart.data["datasets"][1]["data"]] == [
            float(s.weighted_amount) for s in funnel.stages
        ]
    # the person scope has the target: 250,000 won of 500,000
    assert tiles["attainment"].value == "50.0%"
    # line scope: am's and the rep's answers this month (10, 9, 3): NPS (2 - 1) / 3
    line = client.get(URL)
    assert _tiles(line)["nps"].value == "+33"
    assert _tiles(line)["cadence"].value == pct(kpis.cadence_compliance(Scope.line(org.am)).percent)


def test_the_nps_trend_is_the_monthly_breakdown(story, login):
    org = story.org
    response = login(org.am).get(URL)
    chart = _widgets(response)["nps-trend"]
    params = response.context["params"]
    months = Period.custom(date.fromisoformat(f"{chart.labels[0]}-01"), params.period.last)
    by_month = kpis.breakdown(Scope.line(org.am), months, by="month")
    expected = []
    for label, value in zip(chart.labels, chart.datasets[0]["data"], strict=True):
        month = date.fromisoformat(f"{label}-01")
        t = by_month.get(month)
        expected.append(None if t is None else kpis.nps_from(t).score)
        assert value == expected[-1]
    assert len(chart.labels) == 12
    assert [v for v in expected if v is not None] == [Decimal("33.3"), Decimal("-100.0")][::-1]


def test_period_totals_read_off_the_breakdown_equal_totals_for_any_period(story, login):
    org = story.org
    today = timezone.localdate()
    client = login(org.am)
    for period in (
        Period.containing("week", today),  # not whole months: asked for itself
        Period.containing("month", today),  # whole months: the trend's, summed
        Period.containing("quarter", today),
        Period.containing("year", today),
        Period.containing("month", today - timedelta(days=400)),  # a past month
        Period.custom(today - timedelta(days=70), today),
    ):
        params = DashboardParams(org.am, Scope.line(org.am), period, today)
        totals, _trend = figures(params)
        expected = kpis.totals(Scope.line(org.am), period, source=kpis.Source.LIVE)
        assert totals.as_dict() | {"source": ""} == expected.as_dict() | {"source": ""}
    custom = {"period": "custom", "start": "2025-01-01", "end": "2025-03-31"}
    assert client.get(URL, custom).status_code == 200


# ---------------------------------------------------------------- the lists
def test_lists_show_the_scopes_accounts_and_nothing_from_another_region(story, login):
    org = story.org
    response = login(org.am).get(URL)
    widgets = _widgets(response)
    visits = _cells(widgets["visits"])
    names = [row[0] for row in visits]
    assert names == [story.never.name, story.due_soon.name]  # overdue first, then this week
    assert visits[0][-1] == "Overdue" and visits[1][-1] == "Due this week"
    renewals = _cells(widgets["renewals"])
    assert [row[1] for row in renewals] == [story.on_time.name, story.buyer.name]
    complaints = _cells(widgets["complaints"])
    assert [row[1] for row in complaints] == [story.never.name]
    assert complaints[0][-1] == "Overdue"
    upsell = _cells(widgets["upsell"])
    assert [row[0] for row in upsell] == [story.buyer.name]
    html = response.content.decode()
    assert "North" not in html
    tiles = _tiles(response)
    assert tiles["renewals"].value == "2"
    assert tiles["complaints"].value == "1"
    # links open the records
    assert f"/clients/{story.never.pk}/" in html
    assert "/pipeline/contracts/" in html


def test_each_list_starts_from_what_the_viewer_may_see(story):
    org = story.org
    today = timezone.localdate()
    # the North manager asking for their own line sees North's records only
    month = Period.containing("month", today)
    params = DashboardParams(org.peer_manager, Scope.line(org.peer_manager), month, today)
    lists = account_manager_data.fetch(params)
    assert [c["name"] for c in lists.visits] == [story.north.name]
    assert lists.upsell == []  # it has a deal open
    assert [c["client"] for c in lists.renewals] == [story.north.name]
    assert [c["client"] for c in lists.complaints] == [story.north.name]
    assert lists.cadence == kpis.cadence_compliance(Scope.line(org.peer_manager))
    # a scope the viewer may not see yields nothing even if asked for directly
    stranger = DashboardParams(org.outsider, Scope.line(org.am), params.period, today)
    lists = account_manager_data.fetch(stranger)
    assert not (lists.visits or lists.renewals or lists.complaints or lists.upsell)


def test_the_tiles_drill_down_to_the_right_records(story, login):
    org = story.org
    client = login(org.am)
    tiles = _tiles(client.get(URL))
    overdue = client.get(tiles["visits-overdue"].url)
    assert overdue.status_code == 200
    listed = {row["label"] for row in overdue.context["rows"]}
    assert story.never.name in listed
    assert story.on_time.name not in listed
    nps = client.get(tiles["nps"].url)
    assert nps.status_code == 200 and len(nps.context["rows"]) == 3
    complaints = client.get(tiles["complaints"].url)
    assert complaints.status_code == 200
    assert story.never.name in complaints.content.decode()
    assert "North" not in complaints.content.decode()
    renewals = client.get(tiles["renewals"].url)
    assert renewals.status_code == 200
    listed = [c.client.name for c in renewals.context["page"].object_list]
    assert listed == [story.on_time.name, story.buyer.name]
    cadence_page = client.get(_sections(client.get(URL))["visits"].link.url)
    assert cadence_page.status_code == 200
    assert cadence_page.context["counts"]["never"] == 1  # never visited: its own tab there


# ------------------------------------------------------------------- scopes
def test_the_scope_picker_offers_only_the_viewers_subtree(story, login):
    org = story.org
    response = login(org.am).get(URL)
    offered = {(s.kind, s.id) for s in response.context["scopes"]}
    people = {pk for kind, pk in offered if kind in ("person", "line")}
    assert people == {org.am.pk, org.rep.pk, org.peer_rep.pk}
    assert {pk for kind, pk in offered if kind == "team"} == {org.east_team.pk}
    assert ("company", None) not in offered


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ("person:{outsider}", 404),
        ("line:{peer_am}", 404),
        ("team:{north_team}", 404),
        ("line:{manager}", 404),
        ("company", 403),
        ("person:{rep}", 200),
        ("team:{east_team}", 200),
    ],
)
def test_a_scope_outside_the_subtree_is_refused(story, login, scope, status):
    org = story.org
    ids = {
        "outsider": org.outsider.pk,
        "peer_am": org.peer_am.pk,
        "north_team": org.north_team.pk,
        "manager": org.manager.pk,
        "rep": org.rep.pk,
        "east_team": org.east_team.pk,
    }
    response = login(org.am).get(URL, {"scope": scope.format(**ids)})
    assert response.status_code == status


def test_the_rep_scope_shows_the_reps_accounts_only(story, login):
    org = story.org
    response = login(org.am).get(URL, {"scope": f"person:{org.rep.pk}"})
    widgets = _widgets(response)
    assert [row[0] for row in _cells(widgets["visits"])] == []  # rep's are am's accounts
    assert [row[0] for row in _cells(widgets["upsell"])] == []
    assert _tiles(response)["nps"].value == "—"


# ------------------------------------------------------------------ exports
@pytest.mark.parametrize("table", ["visits", "renewals", "complaints", "upsell", "pipeline"])
def test_every_table_downloads_as_csv_and_xlsx(story, login, table):
    client = login(story.org.am)
    shown = _widgets(client.get(URL))[table]
    response = client.get(URL, {"export": "csv", "table": table})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [str(h) for h in shown.header]
    assert len(rows) == 1 + len(shown.rows)
    assert [r[0] for r in rows[1:]] == [str(r[0]) for r in shown.rows]
    response = client.get(URL, {"export": "xlsx", "table": table})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(body)).active
    assert [c.value for c in next(sheet.iter_rows())] == [str(h) for h in shown.header]
    assert sheet.max_row == 1 + len(shown.rows)


def test_an_unknown_table_is_not_found(story, login):
    response = login(story.org.am).get(URL, {"export": "csv", "table": "nope"})
    assert response.status_code == 404


# ------------------------------------------------------------- query count
def test_the_page_costs_at_most_15_queries_whatever_the_data(
    past_org, login, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    today = timezone.localdate()
    counts = []
    for n, tag in ((1, "a"), (6, "b")):
        add_records(past_org, today, n, tag)
        client = login(past_org.am)
        client.get(URL)  # the organisation's history is rebuilt once
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(URL)
    org = past_org
    for picked in (f"team:{org.east_team.pk}", f"line:{org.am.pk}", f"person:{org.rep.pk}"):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert client.get(URL, {"scope": picked}).status_code == 200
