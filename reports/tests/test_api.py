"""``/api/v1/reports/…``: scope and period parameters, visibility, drill-down, exports,
the OpenAPI schema, and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import User
from reports import rollups
from reports.kpis import Period
from reports.kpis.registry import KPIS
from reports.tests import factories as f
from reports.tests.factories import at

LAST_MONTH = Period.containing("month").previous()
DAY = LAST_MONTH.start + timedelta(days=9)


@pytest.fixture
def api():
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user)
        return client

    return as_user


def _work(org, people, *, repeat: int = 1) -> None:
    """Records of every kind the reports count, ``repeat`` times per person."""
    for person in people:
        for n in range(repeat):
            client = f.client(person, account_manager=person, cadence="weekly")
            f.activity(person, client_=client, type="visit", when=at(DAY + timedelta(days=n % 5)))
            f.activity(person, client_=client, when=at(DAY))
            won = f.deal(
                person,
                client_=client,
                created=at(DAY - timedelta(days=30)),
                path=[("negotiation", at(DAY - timedelta(days=20))), ("won", at(DAY))],
            )
            f.deal(
                person,
                client_=client,
                created=at(DAY),
                path=[("proposal", at(DAY))],
                expected_close=DAY + timedelta(days=40),
            )
            f.contract(
                person,
                deal_=won,
                start=DAY,
                end=DAY + timedelta(days=2),
                signed_on=DAY,
                status="renewed",
            )
            f.complaint(person, client_=client, received=at(DAY))
            f.survey_response(client, submitted=at(DAY), nps=10 - n % 4, csat="4")
            f.lead(person, created=at(DAY), converted=at(DAY))


def _query(**params) -> str:
    base = {"period": "month", "date": DAY.isoformat()}
    base.update({k: v for k, v in params.items() if v is not None})
    return "&".join(f"{k}={v}" for k, v in base.items())


ENDPOINTS = [name for name in KPIS]
RECORDS = [name for name, kpi in KPIS.items() if kpi.records is not None]


def test_every_kpi_answers_with_scope_period_and_result(past_org, api):
    org = past_org
    _work(org, [org.rep, org.outsider])
    for name in ENDPOINTS:
        response = api(org.director).get(f"/api/v1/reports/{name}/?{_query()}")
        assert response.status_code == 200, (name, response.content)
        body = response.json()
        assert body["scope"] == {"kind": "company", "id": None, "label": "Company"}
        assert body["period"]["start"] == LAST_MONTH.start.isoformat()
        assert body["period"]["end"] == LAST_MONTH.last.isoformat()
        assert body["result"], name
    won = api(org.director).get(f"/api/v1/reports/won-revenue/?{_query()}").json()["result"]
    assert (won["amount"], won["deals"]) == ("200000.00", 2)
    rate = (
        api(org.manager)
        .get(f"/api/v1/reports/win-rate/?{_query(scope='team', id=org.east.pk)}")
        .json()
    )
    assert rate["scope"]["label"] == "East"
    assert (rate["result"]["won"], rate["result"]["rate"]) == (1, "1.0000")
    mine = api(org.rep).get(f"/api/v1/reports/activities/?{_query()}").json()
    # a rep with nobody below starts on themselves
    assert mine["scope"]["kind"] == "person" and mine["result"]["visits"] == 1


@pytest.mark.parametrize(
    ("viewer", "scope", "target", "status"),
    [
        ("rep", "person", "peer_rep", 404),
        ("rep", "line", "am", 404),
        ("rep", "team", "east_team", 404),
        ("outsider", "team", "east", 404),
        ("outsider", "person", "rep", 404),
        ("peer_manager", "line", "manager", 404),
        ("manager", "team", "north", 404),
        ("manager", "company", None, 403),
        ("support", "team", "north_team", 404),
        ("rep", "person", "rep", 200),
        ("manager", "team", "east", 200),
        ("support", "team", "east", 200),
        ("director", "team", "north", 200),
    ],
)
def test_who_may_ask_for_which_scope(past_org, api, viewer, scope, target, status):
    org = past_org
    pk = getattr(org, target).pk if target else None
    for name in ("summary", "won-revenue", "funnel", "breakdown"):
        response = api(getattr(org, viewer)).get(
            f"/api/v1/reports/{name}/?{_query(scope=scope, id=pk)}"
        )
        assert response.status_code == status, (name, response.content)
    records = api(getattr(org, viewer)).get(
        f"/api/v1/reports/win-rate/records/?{_query(scope=scope, id=pk)}"
    )
    assert records.status_code == status


def test_nobody_signed_out_gets_figures(past_org):
    response = APIClient().get("/api/v1/reports/won-revenue/")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"scope": "team"}, "id"),
        ({"period": "custom", "start": "2026-01-01"}, "start"),
        ({"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"period": "fortnight"}, "period"),
        ({"date": "31/01/2026"}, "date"),
        ({"source": "magic"}, "source"),
        ({"export": "pdf"}, "export"),
    ],
)
def test_bad_parameters_answer_400(past_org, api, params, field):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api(past_org.director).get(f"/api/v1/reports/win-rate/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_drill_down_lists_only_what_the_caller_sees(past_org, api):
    org = past_org
    _work(org, [org.rep, org.peer_rep, org.outsider])
    east = api(org.manager).get(
        f"/api/v1/reports/win-rate/records/?{_query(scope='team', id=org.east.pk, part='won')}"
    )
    assert east.status_code == 200
    rows = east.json()["results"]
    assert {r["owner"] for r in rows} == {org.rep.pk, org.peer_rep.pk}
    assert all(r["model"] == "deal" and r["url"].startswith("/pipeline/deals/") for r in rows)
    mine = api(org.rep).get(f"/api/v1/reports/activities/records/?{_query(part='visit')}")
    assert [r["owner"] for r in mine.json()["results"]] == [org.rep.pk]
    bad = api(org.rep).get(f"/api/v1/reports/win-rate/records/?{_query(part='maybe')}")
    assert bad.status_code == 400
    no_stage = api(org.director).get(f"/api/v1/reports/stage-conversion/records/?{_query()}")
    assert no_stage.status_code == 400
    stage = f.stage("proposal").pk
    entered = api(org.director).get(
        f"/api/v1/reports/stage-conversion/records/?{_query(stage=stage)}"
    )
    assert entered.json()["count"] == 3


def test_exports_download_the_report_table(past_org, api):
    org = past_org
    _work(org, [org.rep, org.outsider])
    response = api(org.manager).get(
        f"/api/v1/reports/funnel/?{_query(scope='team', id=org.east.pk, export='csv')}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="funnel_team' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Stage", "Open deals"]
    assert rows[3][:2] == ["Proposal / quote", "1"]

    records = api(org.director).get(
        f"/api/v1/reports/win-rate/records/?{_query(part='won', export='xlsx')}"
    )
    assert records.status_code == 200
    sheet = load_workbook(io.BytesIO(records.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("Type", "Id", "Record")
    assert len(values) == 3 and {v[0] for v in values[1:]} == {"deal"}

    breakdown = api(org.director).get(
        f"/api/v1/reports/breakdown/?{_query(by='team', export='csv')}"
    )
    text = b"".join(breakdown.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "Group" and {r[0] for r in table[1:]} == {"East", "North"}


def test_breakdown_and_scopes(past_org, api):
    org = past_org
    _work(org, [org.rep, org.peer_rep, org.outsider])
    rollups.rebuild_period(LAST_MONTH)
    people = (
        api(org.manager)
        .get(f"/api/v1/reports/breakdown/?{_query(by='person', scope='line', id=org.manager.pk)}")
        .json()["result"]
    )
    assert {r["label"] for r in people["rows"]} == {str(org.rep), str(org.peer_rep)}
    assert all(r["totals"]["source"] == "rollup" for r in people["rows"])
    weeks = api(org.director).get(f"/api/v1/reports/breakdown/?{_query(by='week')}").json()
    assert sum(r["totals"]["deals_won"] for r in weeks["result"]["rows"]) == 3
    scopes = api(org.am).get("/api/v1/reports/scopes/").json()["scopes"]
    assert {(s["kind"], s["id"]) for s in scopes} == {
        ("team", org.east_team.pk),
        ("line", org.am.pk),
        ("person", org.am.pk),
        ("person", org.rep.pk),
        ("person", org.peer_rep.pk),
    }


def test_the_reports_are_in_the_openapi_schema(past_org, api):
    response = api(past_org.director).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    text = response.content.decode()
    for name in ENDPOINTS:
        assert f"/api/v1/reports/{name}/" in text
    for name in RECORDS:
        assert f"/api/v1/reports/{name}/records/" in text
    assert "WinRateReport" in text and "reports_win_rate_records" in text
    if schema:
        params = {
            p["name"] for p in schema["paths"]["/api/v1/reports/win-rate/"]["get"]["parameters"]
        }
        assert {"scope", "id", "period", "date", "start", "end", "export"} <= params


def _count(client, user, url: str) -> int:
    # A fresh user object per request, as in a real one (visibility is cached on it).
    client.force_authenticate(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.content[:300])
    return len(ctx.captured_queries)


def _urls(org) -> list[str]:
    stage = f.stage("proposal").pk
    urls = [f"/api/v1/reports/{name}/?{_query(scope='team', id=org.east.pk)}" for name in ENDPOINTS]
    for name in RECORDS:
        extra = {"stage": stage} if name == "stage-conversion" else {}
        urls.append(
            f"/api/v1/reports/{name}/records/?{_query(scope='team', id=org.east.pk, **extra)}"
        )
    urls += [
        f"/api/v1/reports/breakdown/?{_query(scope='team', id=org.east.pk, by='person')}",
        f"/api/v1/reports/breakdown/?{_query(scope='team', id=org.east.pk, by='team')}",
        f"/api/v1/reports/won-revenue/?{_query(scope='team', id=org.east.pk, export='xlsx')}",
        f"/api/v1/reports/win-rate/records/?{_query(scope='team', id=org.east.pk, export='csv')}",
        "/api/v1/reports/scopes/",
    ]
    return urls


def test_query_counts_do_not_grow_with_the_data(past_org, api):
    org = past_org
    client = api(org.manager)
    urls = _urls(org)
    _work(org, [org.rep, org.outsider])
    rollups.rebuild_period(LAST_MONTH)
    for url in urls:  # warm the caches (content types, pipeline stages)
        _count(client, org.manager, url)
    small = {url: _count(client, org.manager, url) for url in urls}
    _work(org, [org.rep, org.peer_rep, org.am, org.outsider, org.peer_am], repeat=4)
    rollups.rebuild_period(LAST_MONTH)
    large = {url: _count(client, org.manager, url) for url in urls}
    assert large == small
    # at most 9: a records page sorts the ids, then reads its rows with their columns
    assert max(small.values()) <= 9, small
