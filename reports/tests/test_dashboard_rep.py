"""The rep's dashboard: its numbers are the ``reports.kpis`` definitions, its lists
hold only the rep's own records, its scope picker offers only the rep's line,
its tables download, and the page costs the same few queries however much data
there is (at most 15)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from clients.models import Client
from pipeline.models import Lead
from reports import weekly
from reports.dashboards import rep
from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import count, pct
from reports.kpis import (
    Period,
    Scope,
    activity_vs_targets,
    funnel,
    target_attainment,
    totals,
    win_rate,
)
from reports.kpis.results import percent, ratio
from reports.models import WeeklyReport
from reports.tests import factories as f

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI)  # a Thursday
TODAY = NOW.date()
MONDAY = date(2026, 11, 23)
URL = "/dashboard/rep/"
#: the page's pinned query count: 8 for the page itself (session, user, tree check,
#: visibility, scope picker ×2, permissions ×2) + the day breakdown, two activity
#: targets, the revenue target, the open stages, the funnel, and the lists (one UNION)
MAX_QUERIES = 15


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _work(org, person, *, n: int = 1, tag: str = "") -> dict[str, object]:
    """A week of ``person``'s work, ``n`` times over; returns the records to look for."""
    customer = Client.objects.create(name=f"{person.username} customer {tag}".strip(), owner=person)
    planned = []
    for i in range(n):
        f.activity(person, when=f.at(TODAY, 9, i % 50), type="call", client_=customer)
        f.activity(person, when=f.at(TODAY, 10, i % 50), type="follow_up", client_=customer)
        f.activity(person, when=f.at(MONDAY, 11), type="call", client_=customer)
        f.activity(
            person, when=f.at(MONDAY + timedelta(days=1), 14), type="visit", client_=customer
        )
        planned.append(
            f.activity(
                person,
                when=f.at(TODAY, 17, i % 50),
                type="visit",
                status="planned",
                client_=customer,
            )
        )
        f.activity(person, when=f.at(TODAY - timedelta(days=1), 9), type="call", status="planned")
        f.lead(person, created=f.at(MONDAY, 9))
        f.lead(person, created=f.at(MONDAY, 10), converted=f.at(TODAY, 9))
        Lead.objects.create(name=f"Qualified {tag}{i}", owner=person, status="qualified")
        f.deal(
            person,
            created=f.at(MONDAY - timedelta(days=20)),
            path=[("won", f.at(MONDAY + timedelta(days=1)))],
            amount="30000",
        )
        f.deal(person, created=f.at(MONDAY - timedelta(days=20)), path=[("lost", f.at(TODAY, 8))])
        f.deal(person, created=f.at(MONDAY), path=[("proposal", f.at(TODAY, 8))], amount="5000")
    return {"customer": customer, "planned": planned}


def _targets(person) -> None:
    f.target(
        period="month",
        start=date(2026, 11, 1),
        user=person,
        revenue="200000",
        calls_per_day=20,
        visits_per_week=10,
        demos_per_week=2,
    )


def _params(person, scope: Scope, period: Period) -> DashboardParams:
    return DashboardParams(person, scope, period, TODAY, default_period="week")


def _tiles(dashboard) -> dict[str, object]:
    return {t.key: t for t in dashboard.tiles}


# ---------------------------------------------------------------------- figures
def test_the_page_renders_for_a_rep(past_org, login, at_now):
    org = past_org
    _targets(org.rep)
    _work(org, org.rep)
    response = login(org.rep).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("calls-today", "visits", "lead-conversion", "win-rate", "attainment"):
        assert f'data-testid="tile-{key}"' in html
    for key in ("plan", "deals", "leads", "activity"):
        assert f'data-testid="section-{key}"' in html
    assert 'id="chart-data-deals-by-stage"' in html
    assert "2026-W48" in html  # opens on this week
    assert "/pipeline/activities/quick/" in html


def test_the_numbers_are_the_kpi_definitions(past_org, at_now):
    org = past_org
    _targets(org.rep)
    _work(org, org.rep)
    _work(org, org.peer_rep, tag="peer")
    week = Period.containing("week", TODAY)
    month = Period.containing("month", TODAY)
    day = Period.containing("day", TODAY)
    line, person = Scope.line(org.rep), Scope.person(org.rep)
    dashboard = rep.build(_params(org.rep, line, week))
    tiles = _tiles(dashboard)

    calls_today = activity_vs_targets(person, day, today=TODAY)
    assert calls_today.calls == 2 and calls_today.expected_calls == Decimal("20.0")
    assert tiles["calls-today"].value == count(calls_today.calls)
    assert tiles["calls-today"].progress == percent(calls_today.attainment("calls"))
    visits = activity_vs_targets(line, week, today=TODAY)
    assert visits.visits == 1 and visits.expected_visits == Decimal("8.0")  # 4 workdays so far
    assert tiles["visits"].value == count(visits.visits)
    assert tiles["visits"].progress == percent(visits.attainment("visits"))

    t = totals(line, week)
    assert (t.leads_created, t.leads_converted) == (3, 1)  # new, converted, qualified
    assert tiles["lead-conversion"].value == pct(percent(ratio(1, 3))) == "33.3%"
    wins = win_rate(line, week)
    assert (wins.won, wins.lost) == (1, 1)
    assert tiles["win-rate"].value == pct(wins.percent)
    att = target_attainment(person, month)
    assert att.target == Decimal("200000") and att.won == Decimal("30000")
    assert tiles["attainment"].value == pct(att.percent) == "15.0%"
    assert tiles["weekly-report"].value == "Not started"

    deals = funnel(line, today=TODAY)
    chart = dashboard.charts()[0]
    assert chart.datasets[0]["data"] == [s.deals for s in deals.stages]
    proposal = next(s for s in deals.stages if s.code == "proposal")
    assert f"stage={proposal.stage_id}" in chart.urls[chart.labels.index(proposal.name)]

    tables = dashboard.tables()
    assert [row[1] for row in tables["leads"].rows] == [1, 0, 1]  # new, contacted, qualified
    assert len(tables["plan"].rows) == 1
    assert tables["activities"].rows[0][1] == totals(line, week).calls


def test_a_past_week_shows_the_weeks_calls_and_the_month_attainment(past_org, at_now):
    org = past_org
    _targets(org.rep)
    _work(org, org.rep)
    last_week = Period.containing("week", MONDAY - timedelta(days=1))
    dashboard = rep.build(_params(org.rep, Scope.line(org.rep), last_week))
    tiles = _tiles(dashboard)
    assert "calls-today" not in tiles
    assert tiles["calls"].value == "0"
    assert tiles["attainment"].value == "15.0%"  # November's
    month = rep.build(_params(org.rep, Scope.person(org.rep), Period.containing("month", TODAY)))
    assert _tiles(month)["attainment"].value == "15.0%"


def test_the_tiles_open_the_records_behind_them(past_org, login, at_now):
    org = past_org
    _targets(org.rep)
    _work(org, org.rep)
    _work(org, org.peer_rep, tag="peer")
    client = login(org.rep)
    dashboard = rep.build(_params(org.rep, Scope.line(org.rep), Period.containing("week", TODAY)))
    tiles = _tiles(dashboard)
    calls = client.get(tiles["calls-today"].url)
    assert calls.status_code == 200
    assert len(calls.context["rows"]) == 2
    assert {r["owner"] for r in calls.context["rows"]} == {org.rep.pk}
    wins = client.get(tiles["win-rate"].url)
    assert len(wins.context["rows"]) == 2
    stage_url = dashboard.charts()[0].urls[2]  # proposal
    deals = client.get(stage_url)
    assert [r["owner"] for r in deals.context["rows"]] == [org.rep.pk]


# ------------------------------------------------------------------- weekly report
def test_the_weekly_report_status(past_org, login, at_now):
    org = past_org
    params = _params(org.rep, Scope.line(org.rep), Period.containing("week", TODAY))
    tile = _tiles(rep.build(params))["weekly-report"]
    assert (tile.value, tile.tone) == ("Not started", "")
    assert tile.url == "/dashboard/weekly-report/?week=2026-W48"
    report = WeeklyReport.objects.create(owner=org.rep, week_start=MONDAY)
    tile = _tiles(rep.build(params))["weekly-report"]
    assert (tile.value, tile.tone) == ("Draft", "warning")
    weekly.report_submit(by=org.rep, report=report, expected_version=report.version)
    assert _tiles(rep.build(params))["weekly-report"].value == "Submitted"
    weekly.report_comment(by=org.am, report=report, body="Good week")
    tile = _tiles(rep.build(params))["weekly-report"]
    assert tile.value == "Commented" and "1 comment" in tile.detail
    html = login(org.rep).get(URL).content.decode()
    assert re.search(r'data-testid="tile-weekly-report-value">Commented<', html)
    # a past week with no report is overdue
    last = params.with_period(Period.containing("week", MONDAY - timedelta(days=3)))
    tile = _tiles(rep.build(last))["weekly-report"]
    assert (tile.value, tile.tone) == ("Not started", "danger")


# ---------------------------------------------------------------------- visibility
def test_the_scope_picker_offers_only_the_reps_line(past_org, login, at_now):
    org = past_org
    client = login(org.rep)
    response = client.get(URL)
    values = {s.key for s in response.context["scopes"]}
    assert values == {f"line:{org.rep.pk}", f"person:{org.rep.pk}"}
    assert client.get(f"{URL}?scope=person:{org.rep.pk}").status_code == 200
    assert client.get(f"{URL}?scope=person:{org.peer_rep.pk}").status_code == 404
    assert client.get(f"{URL}?scope=line:{org.am.pk}").status_code == 404
    assert client.get(f"{URL}?scope=person:{org.outsider.pk}").status_code == 404
    assert client.get(f"{URL}?scope=team&id={org.east_team.pk}").status_code == 404
    assert client.get(f"{URL}?scope=company").status_code == 403


def test_nothing_of_anyone_else_is_listed(past_org, login, at_now):
    org = past_org
    mine = _work(org, org.rep, tag="mine")
    _work(org, org.peer_rep, tag="peer")
    _work(org, org.outsider, tag="north")
    response = login(org.rep).get(URL)
    html = response.content.decode()
    assert mine["customer"].name in html
    assert "peer_rep customer" not in html and "outsider customer" not in html
    assert "Qualified peer" not in html
    dashboard = response.context["dashboard"]
    plan = dashboard.tables()["plan"].rows
    assert [row[2].url for row in plan] == [
        f"/pipeline/activities/{a.pk}/" for a in mine["planned"]
    ]
    assert [row[1] for row in dashboard.tables()["leads"].rows] == [1, 0, 1]
    assert sum(dashboard.charts()[0].datasets[0]["data"]) == 1


# ------------------------------------------------------------------------- exports
@pytest.mark.parametrize("table", ["plan", "leads", "deals", "activities"])
def test_the_tables_download(past_org, login, at_now, table):
    org = past_org
    _work(org, org.rep)
    client = login(org.rep)
    response = client.get(f"{URL}?export=csv&table={table}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"rep_person{org.rep.pk}_20261123-20261129_{table}" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) >= 2
    xlsx = client.get(f"{URL}?export=xlsx&table={table}")
    assert xlsx.status_code == 200
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert [str(c) for c in sheet[0]] == [c or "None" for c in rows[0]]
    assert len(sheet) == len(rows)
    if table == "plan":
        assert rows[1][3] == f"{org.rep.username} customer"
        assert rows[1][1] == "Visit"


def test_an_unknown_table_does_not_download(past_org, login, at_now):
    assert login(past_org.rep).get(f"{URL}?export=csv&table=nope").status_code == 404


# ----------------------------------------------------------------------- queries
def _count(client, url: str) -> int:
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "query",
    ["", "?scope=person:{pk}", "?period=month", "?period=day", "?period=week&date=2026-11-16"],
)
def test_the_page_costs_the_same_few_queries_whatever_the_data(
    past_org, login, at_now, django_assert_max_num_queries, query
):
    org = past_org
    _targets(org.rep)
    client = login(org.rep)
    url = URL + query.format(pk=org.rep.pk)
    _work(org, org.rep, n=1, tag="a")
    WeeklyReport.objects.create(owner=org.rep, week_start=MONDAY)
    small = _count(client, url)
    _work(org, org.rep, n=12, tag="b")
    _work(org, org.peer_rep, n=3, tag="c")
    large = _count(client, url)
    assert small == large
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(url).status_code == 200
