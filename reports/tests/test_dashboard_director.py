"""The director's dashboard: the numbers equal the KPI definitions, each opens its
records, the scope picker narrows them, tables download, and the page costs the
same few queries however much data there is."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from reports import kpis
from reports.dashboards.widgets import money, pct, ratio_detail
from reports.kpis import Period, Scope
from reports.models import Risk
from reports.tests import factories as f

#: A Friday in late November (Asia/Shanghai): the month, quarter and year are well under way.
NOW = timezone.make_aware(datetime(2026, 11, 20, 15, 0))
TODAY = date(2026, 11, 20)
MAX_QUERIES = 15


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def results(past_org, frozen):
    """East wins 300k this month and 100k in March, loses one; North wins 50k this month."""
    org = past_org
    east_client = f.client(org.rep, account_manager=org.am, is_key_account=True)
    east_client.spend_12m = Decimal("400000")
    east_client.rfm_segment = "champions"
    east_client.save(update_fields=["spend_12m", "rfm_segment"])
    f.deal(
        org.rep,
        client_=east_client,
        created=f.at(date(2026, 10, 2)),
        path=[("negotiation", f.at(date(2026, 10, 20))), ("won", f.at(date(2026, 11, 3)))],
        amount="300000",
    )
    f.deal(
        org.rep,
        created=f.at(date(2026, 3, 2)),
        path=[("won", f.at(date(2026, 3, 10)))],
        amount="100000",
    )
    f.deal(
        org.peer_rep,
        created=f.at(date(2026, 11, 2)),
        path=[("lost", f.at(date(2026, 11, 5)))],
        amount="80000",
    )
    f.deal(
        org.outsider,
        created=f.at(date(2026, 11, 2)),
        path=[("won", f.at(date(2026, 11, 6)))],
        amount="50000",
    )
    big = f.deal(
        org.rep,
        created=f.at(date(2026, 11, 10)),
        path=[("proposal", f.at(date(2026, 11, 11)))],
        amount="900000",
        expected_close=date(2026, 12, 15),
    )
    north_open = f.deal(
        org.outsider,
        created=f.at(date(2026, 11, 10)),
        amount="700000",
        expected_close=date(2027, 1, 15),
    )
    f.target(period="month", start=date(2026, 11, 1), revenue="500000")
    f.target(period="year", start=date(2026, 1, 1), revenue="6000000")
    f.target(period="month", start=date(2026, 11, 1), revenue="400000", team=org.east)
    Risk.objects.create(
        title="Price war in the north",
        category="market",
        likelihood=4,
        impact=5,
        response="mitigate",
        owner=org.peer_manager,
        created_by=org.peer_manager,
        review_date=TODAY + timedelta(days=30),
    )
    return org, big, north_open


def _page(client, query: str = ""):
    response = client.get(f"/dashboard/director/{query}")
    assert response.status_code == 200
    return response


def test_the_headline_numbers_are_the_kpi_definitions(login, results):
    org, _big, _north = results
    html = _page(login(org.director)).content.decode()
    month = Period.containing("month", TODAY)
    won = kpis.won_revenue(Scope.company(), month)
    assert won.amount == Decimal("350000")
    # the month tile: 350,000 won of a 500,000 target, 70%
    assert "¥350,000" in html
    assert "70.0% of ¥500,000 target" in html
    # the year to date: 450,000 of 6,000,000 (7.5%)
    assert "¥450,000" in html and "7.5% of ¥6,000,000 target" in html
    rate = kpis.win_rate(Scope.company(), month)
    assert (rate.won, rate.lost) == (2, 1)
    assert "66.7%" in html and "2 won, 1 lost" in html


def test_regions_split_the_company_with_their_targets(login, results):
    org, _big, _north = results
    response = _page(login(org.director))
    table = response.context["dashboard"].tables()["regions"]
    rows = {str(r[0]): r for r in table.rows}
    assert str(rows["East"][1]) == "¥300,000"
    assert rows["East"][2] == "¥400,000" and rows["East"][3] == "75.0%"
    assert str(rows["North"][1]) == "¥50,000"
    assert rows["North"][2] is None  # no target set for the north this month


def test_each_number_opens_the_records_behind_it(login, results):
    org, _big, _north = results
    client = login(org.director)
    dashboard = _page(client).context["dashboard"]
    tile = next(t for t in dashboard.tiles if t.key == "month")
    records = client.get(tile.url)
    assert records.status_code == 200
    titles = {r["label"] for r in records.context["rows"]}
    assert len(titles) == 2  # the two deals won in November, nothing else
    assert records.context["page"].paginator.count == 2

    funnel = next(c for c in dashboard.charts() if c.key == "funnel")
    proposal = funnel.labels.index("Proposal / quote")
    listed = client.get(funnel.urls[proposal]).context["rows"]
    assert [r["label"] for r in listed] == [results[1].title]


def test_records_read_newest_first_by_the_date_they_show(login, results):
    """The year's won deals by close date (Nov 6, Nov 3, Mar 10), not by when they
    were entered (the March deal was entered after the November one); amounts grouped."""
    org, _big, _north = results
    response = login(org.director).get("/dashboard/records/won-revenue/?period=year")
    rows = response.context["rows"]
    assert [(str(r["date"]), r["amount"]) for r in rows] == [
        ("2026-11-06", Decimal("50000.00")),
        ("2026-11-03", Decimal("300000.00")),
        ("2026-03-10", Decimal("100000.00")),
    ]
    assert "300,000.00 CNY" in response.content.decode()


def test_the_forecast_adds_the_weighted_pipeline_by_month(login, results):
    org, big, north = results
    response = _page(login(org.director))
    dashboard = response.context["dashboard"]
    # the section's own tile: the weighted pipeline of the months drawn, with its records
    total = next(w for w in dashboard.sections if w.key == "forecast").widgets[0]
    html = response.content.decode()
    assert f'data-testid="tile-forecast-total-value">{total.value}<' in html
    forecast = next(c for c in dashboard.charts() if c.key == "forecast")
    weighted = dict(zip(forecast.labels, forecast.datasets[0]["data"], strict=True))
    assert weighted["2026-12"] == big.amount * big.probability / 100
    assert weighted["2027-01"] == north.amount * north.probability / 100
    assert total.value == money(sum(weighted.values()))  # the bars, added up
    # run rate: 450,000 won in the 324 days so far, times December's 31 days
    projection = dict(zip(forecast.labels, forecast.datasets[1]["data"], strict=True))
    assert projection["2026-12"] == (Decimal("450000") / 324 * 31).quantize(Decimal("1"))


def test_the_scope_picker_narrows_every_number_to_a_region(login, results):
    org, _big, north = results
    client = login(org.director)
    response = _page(client, f"?scope=team:{org.north.pk}")
    html = response.content.decode()
    assert "¥50,000" in html
    assert "¥300,000" not in html
    top = response.context["dashboard"].tables()["top-deals"]
    assert [str(r[0]) for r in top.rows] == [north.title]
    # the same through the links' form (scope=team&id=…)
    assert _page(client, f"?scope=team&id={org.north.pk}").context["params"].scope.id == (
        org.north.pk
    )


def test_tables_download_as_csv_and_xlsx(login, results):
    org, big, north = results
    client = login(org.director)
    response = client.get("/dashboard/director/?table=top-deals&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Deal"
    assert [r[0] for r in rows[1:]] == [big.title, north.title]
    response = client.get("/dashboard/director/?table=regions&export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert {sheet.cell(row=r, column=1).value for r in (2, 3)} == {"East", "North"}
    assert client.get("/dashboard/director/?table=nope&export=csv").status_code == 404


def test_key_accounts_list_with_their_manager_and_segment(login, results):
    org = results[0]
    table = _page(login(org.director)).context["dashboard"].tables()["key-accounts"]
    assert [[str(c) for c in row] for row in table.rows] == [
        [table.rows[0][0].text, str(org.am), "¥400,000", "Champions"]
    ]
    assert table.title == "Key accounts (1), by spend in the last 12 months"


def test_risks_show_on_the_heat_map(login, results):
    org, _big, _north = results
    table = _page(login(org.director)).context["dashboard"].tables()["risks"]
    impact5 = next(r for r in table.rows if r[0] == "Impact 5")
    assert str(impact5[4]) == "1"  # likelihood 4
    assert "likelihood=4&impact=5" in impact5[4].url


@pytest.mark.parametrize("persona", ["manager", "rep", "outsider"])
def test_only_the_director_opens_the_directors_dashboard(login, results, persona):
    org = results[0]
    user = getattr(org, persona)
    response = login(user).get("/dashboard/director/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/{user.role}/"


def test_a_scope_outside_the_line_is_unknown_and_the_company_forbidden(login, results):
    org = results[0]
    client = login(org.manager)
    assert client.get(f"/dashboard/manager/?scope=team:{org.north.pk}").status_code == 404
    assert client.get(f"/dashboard/manager/?scope=person:{org.outsider.pk}").status_code == 404
    assert client.get("/dashboard/manager/?scope=company").status_code == 403
    records = client.get(f"/dashboard/records/won-revenue/?scope=person&id={org.outsider.pk}")
    assert records.status_code == 404
    # the manager's own drill-down lists only the east's deals
    rows = client.get("/dashboard/records/won-revenue/").context["rows"]
    assert {r["owner_name"] for r in rows} == {str(org.rep)}


def test_bad_parameters_fall_back_with_a_message(login, results):
    org = results[0]
    response = _page(login(org.director), "?period=custom&start=2026-11-20&end=2026-11-01")
    assert response.context["params"].period == Period.containing("month", TODAY)
    assert "The period ends before it starts." in response.content.decode()


def _more_data(org, n: int) -> None:
    for i in range(n):
        owner = (org.rep, org.peer_rep, org.outsider)[i % 3]
        c = f.client(owner, account_manager=org.am, is_key_account=True)
        f.deal(
            owner,
            client_=c,
            created=f.at(date(2026, 9, 1)),
            path=[("won", f.at(date(2026, 9 + i % 3, 5)))],
            amount="1000",
        )
        f.deal(owner, client_=c, created=f.at(date(2026, 11, 1)), expected_close=date(2027, 2, 1))
        f.activity(owner, when=f.at(date(2026, 11, 2)), client_=c)
        Risk.objects.create(
            title=f"Risk {i}",
            category="market",
            likelihood=1 + i % 5,
            impact=1 + i % 4,
            response="accept",
            owner=org.manager,
            created_by=org.manager,
            review_date=TODAY,
        )


def test_the_page_costs_the_same_few_queries_however_much_data(
    login, results, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    org = results[0]
    client = login(org.director)
    counts = []
    for n in (1, 12):
        _more_data(org, n)
        _page(client)  # per-process caches (content types, stages)
        with CaptureQueriesContext(connection) as ctx:
            _page(client)
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(MAX_QUERIES):
        _page(client)
    with django_assert_max_num_queries(MAX_QUERIES):
        _page(client, f"?scope=team:{org.east.pk}&period=quarter")
    # As every night leaves it: past days rolled up, today read live — the same
    # figures, still within the budget
    from reports import rollups

    before = [(t.key, t.value, t.detail) for t in _page(client).context["dashboard"].tiles]
    rollups.rebuild_period(Period.between(date(2026, 1, 1), TODAY))
    for query in ("", f"?scope=team:{org.east.pk}", f"?scope=line:{org.manager.pk}"):
        _page(client, query)
        with django_assert_max_num_queries(MAX_QUERIES):
            _page(client, query)
    after = [(t.key, t.value, t.detail) for t in _page(client).context["dashboard"].tiles]
    assert after == before


@pytest.mark.parametrize(
    ("query", "period"),
    [
        # 15 March – 20 April: the March and April month buckets would add the
        # 10 March win; November 4–20 would count the 3 November win
        (
            "?period=custom&start=2026-03-15&end=2026-04-20",
            Period.custom(date(2026, 3, 15), date(2026, 4, 20)),
        ),
        (
            "?period=custom&start=2026-11-04&end=2026-11-20",
            Period.custom(date(2026, 11, 4), date(2026, 11, 20)),
        ),
        ("?period=day&date=2026-11-05", Period.containing("day", date(2026, 11, 5))),
    ],
)
def test_a_period_of_part_months_reads_its_own_days(login, results, query, period):
    org = results[0]
    response = _page(login(org.director), query)
    assert response.context["params"].period == period
    tiles = {t.key: t for t in response.context["dashboard"].tiles}
    totals = kpis.totals(Scope.company(), period, today=TODAY)
    month = kpis.totals(Scope.company(), Period.containing("month", period.start), today=TODAY)
    win = kpis.win_rate_from(totals)
    assert kpis.win_rate_from(month).won != win.won  # the month's figure would be wrong
    assert tiles["win-rate"].value == pct(win.percent)
    assert tiles["win-rate"].detail == f"{win.won} won, {win.lost} lost"
    sla = kpis.complaint_sla_from(totals)
    assert tiles["sla"].detail == ratio_detail(sla.in_sla, sla.received)
    cycle = kpis.negotiation_cycle_from(totals)
    assert tiles["cycle"].detail == f"{cycle.contracts} contracts signed"
