"""The sales support dashboard: data quality, imports, events, survey campaigns.

The figures are the client app's own definitions (``clients.quality``,
``clients.surveys.campaign_counts``) over the clients the viewer sees, narrowed
to the scope's people; the page answers in at most 15 queries whatever the
amount of data.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clients import quality, surveys
from clients.models import Client, ClientImport, SurveyInvitation
from clients.tests import survey_helpers as sv
from clients.tests.data_factories import ClientFactory, ContactFactory, uscc
from pipeline.models import Event
from reports.dashboards import support_data
from reports.dashboards.params import DashboardParams
from reports.dashboards.support import build, quality_url
from reports.kpis import Period, Scope, default_scope

pytestmark = pytest.mark.django_db

URL = reverse("reports:home", args=["support"])
MAX_QUERIES = 15


def _import(by, name: str, *, status=ClientImport.Status.COMMITTED, **counts) -> ClientImport:
    return ClientImport.objects.create(
        created_by=by, original_name=name, file=f"imports/{name}", status=status, **counts
    )


def _event(org, name: str, in_days: int, **fields) -> Event:
    starts = timezone.localdate() + timedelta(days=in_days)
    fields.setdefault("owner", org.support)
    return Event.objects.create(name=name, kind=Event.Kind.FORUM, starts_on=starts, **fields)


@pytest.fixture
def data(org):
    """East records (rep's, peer_rep's, am's) and North ones (outsider's), same problems."""
    east_a = ClientFactory(name="Huadong Logistics Co., Ltd.", owner=org.rep, phone="138-0013-8000")
    east_b = ClientFactory(name="HUADONG LOGISTICS", owner=org.peer_rep, phone="+86 138 0013 8000")
    east_c = ClientFactory(name="Jiangnan Steel", owner=org.rep, registration_number=uscc(1))
    east_d = ClientFactory(name="Jiangnan Steel Works", owner=org.am, industry="", email="")
    a_contact = ContactFactory(client=east_a, email="li@huadong.example")
    c_contact = ContactFactory(client=east_c, email="li@huadong.example")
    north_a = ClientFactory(name="Huadong Logistics", owner=org.outsider, phone="13800138000")
    north_b = ClientFactory(name="Beifang Foods", owner=org.outsider, phone="", email="")
    north_contact = ContactFactory(client=north_a)

    east_import = _import(org.support, "east-clients.xlsx", row_count=10, created_count=7)
    failed = _import(
        org.rep, "rep-list.csv", status=ClientImport.Status.FAILED, row_count=5, error_count=5
    )
    north_import = _import(org.outsider, "north-secret.csv", row_count=3, created_count=3)

    soon = _event(org, "Shanghai Forum", 3, venue="Expo Centre", budget=Decimal("50000"))
    later = _event(org, "Hangzhou Seminar", 20, ends_on=timezone.localdate() + timedelta(days=21))
    _event(org, "Far Future Show", 45)
    _event(org, "Last Month Show", -40, ends_on=timezone.localdate() - timedelta(days=38))

    campaign = sv.campaign("nps", created_by=org.support)
    campaign.name = "East NPS"
    campaign.save()
    answered = sv.invitation(campaign, a_contact)
    SurveyInvitation.objects.filter(pk=answered.pk).update(answered_at=timezone.now())
    sv.invitation(campaign, c_contact)
    sv.invitation(campaign, north_contact)  # counted for the director only
    north_campaign = sv.campaign("nps", created_by=org.outsider)
    north_campaign.name = "North only"
    north_campaign.save()
    sv.invitation(north_campaign, north_contact)
    closed = sv.campaign("nps", created_by=org.support, status="closed")
    sv.invitation(closed, a_contact)
    return {
        "east": [east_a, east_b, east_c, east_d],
        "north": [north_a, north_b],
        "imports": {"east": east_import, "failed": failed, "north": north_import},
        "events": [soon, later],
        "campaign": campaign,
        "north_campaign": north_campaign,
    }


def _tile(html: str, key: str) -> str:
    found = re.search(rf'data-testid="tile-{key}-value"[^>]*>([^<]*)<', html)
    assert found, key
    return found.group(1).strip()


def _tile_href(html: str, key: str) -> str:
    found = re.search(rf'href="([^"]*)" data-testid="tile-{key}-value"', html)
    assert found, key
    return found.group(1).replace("&amp;", "&")


def _params(viewer, scope: Scope | None = None) -> DashboardParams:
    today = timezone.localdate()
    return DashboardParams(
        viewer, scope or default_scope(viewer), Period.containing("month", today), today
    )


# ------------------------------------------------------------------ the page
def test_the_page_renders_for_support(org, data, login):
    response = login(org.support).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("quality", "imports", "events", "surveys"):
        assert f'data-testid="section-{section}"' in html
    for chart in ("incomplete", "imports", "surveys"):
        assert f'id="chart-{chart}"' in html


def test_another_role_lands_on_its_own_dashboard(org, login):
    response = login(org.rep).get(URL)
    assert response.status_code == 302 and response["Location"].endswith("/dashboard/rep/")


def test_quality_tiles_equal_the_data_quality_definitions(org, data, login):
    html = login(org.support).get(URL).content.decode()
    visible = Client.objects.visible_to(org.support)
    missing = quality.incomplete_counts(visible)
    assert _tile(html, "incomplete") == str(missing["any"]) == "2"
    for key in quality.MISSING:
        assert _tile(html, f"missing-{key}") == str(missing[key])
        assert _tile_href(html, f"missing-{key}") == quality_url("incomplete", key)
    duplicates = quality.duplicate_counts(visible)
    assert duplicates == {"name": 1, "registration_number": 0, "phone": 1, "email": 1}
    assert _tile(html, "duplicates") == str(sum(duplicates.values()))


def test_the_tile_opens_the_page_with_the_same_records(org, data, login):
    client = login(org.support)
    html = client.get(URL).content.decode()
    page = client.get(_tile_href(html, "missing-contact")).content.decode()
    listed = {int(pk) for pk in re.findall(r'data-client="(\d+)"', page)}
    _east_a, east_b, _east_c, east_d = data["east"]
    assert listed == {east_b.pk, east_d.pk}
    assert _tile(html, "missing-contact") == str(len(listed))


def test_one_query_counts_like_the_data_quality_page(org, data):
    for viewer in (org.support, org.director, org.manager, org.peer_manager):
        visible = Client.objects.visible_to(viewer)
        counts = support_data.quality_counts(visible)
        assert counts.duplicates == quality.duplicate_counts(visible)
        assert counts.missing == quality.incomplete_counts(visible)
    director = support_data.quality_counts(Client.objects.visible_to(org.director)).duplicates
    assert director["name"] == 1 and director["phone"] == 1  # the North record joins the groups
    empty = support_data.quality_counts(Client.objects.none())
    assert set(empty.duplicates.values()) == {0} and empty.missing["any"] == 0


def test_a_person_scope_counts_that_persons_clients(org, data, login):
    html = login(org.support).get(URL, {"scope": f"person:{org.am.pk}"}).content.decode()
    mine = Client.objects.visible_to(org.support).filter(owner=org.am)
    missing = quality.incomplete_counts(mine)
    assert _tile(html, "incomplete") == str(missing["any"]) == "1"
    assert _tile(html, "duplicates") == "0"


def test_imports_in_scope_with_the_periods_figures(org, data, login):
    html = login(org.support).get(URL).content.decode()
    imports = data["imports"]
    detail = reverse("clients:import-detail", args=[imports["east"].pk])
    assert f'href="{detail}"' in html and "east-clients.xlsx" in html
    assert "rep-list.csv" in html
    assert "north-secret.csv" not in html
    assert _tile(html, "imports") == "2"
    history = support_data.import_history(org.support, default_scope(org.support), _month())
    assert (history.total, history.in_period, history.failed_in_period) == (2, 2, 1)
    assert (history.rows_created, history.rows_failed) == (7, 5)
    last_year = Period.containing("year", timezone.localdate() - timedelta(days=400))
    old = support_data.import_history(org.support, default_scope(org.support), last_year)
    assert (old.total, old.in_period, old.rows_created) == (2, 0, 0)


def _month() -> Period:
    return Period.containing("month", timezone.localdate())


def test_upcoming_events_are_the_next_30_days(org, data, login):
    html = login(org.support).get(URL).content.decode()
    assert "Shanghai Forum" in html and "Hangzhou Seminar" in html
    assert "Far Future Show" not in html and "Last Month Show" not in html
    assert _tile(html, "events") == "2"
    assert html.index("Shanghai Forum") < html.index("Hangzhou Seminar")
    events = support_data.upcoming_events(timezone.localdate())
    assert events.budget == Decimal("50000")


def test_campaign_counts_equal_the_campaign_page(org, data, login):
    html = login(org.support).get(URL).content.decode()
    campaign = data["campaign"]
    assert f'href="{reverse("clients:survey-campaign-detail", args=[campaign.pk])}"' in html
    assert "North only" not in html
    [status] = support_data.active_campaigns(org.support, default_scope(org.support))
    page_counts = surveys.campaign_counts(
        SurveyInvitation.objects.visible_to(org.support).filter(campaign=campaign),
        timezone.now(),
    )
    assert (
        (status.invited, status.sent, status.answered)
        == (
            page_counts["invited"],
            page_counts["sent"],
            page_counts["answered"],
        )
        == (2, 2, 1)
    )
    assert status.response_rate == Decimal("50.0")
    assert _tile(html, "survey-response") == "50.0%"
    director = support_data.active_campaigns(org.director, Scope.company())
    assert {s.campaign.name: s.invited for s in director} == {"East NPS": 3, "North only": 1}


def test_build_uses_the_viewers_visibility(org, data):
    dashboard = build(_params(org.peer_manager))
    tables = dashboard.tables()
    files = [str(row[1]) for row in tables["imports"].rows]
    assert files == ["north-secret.csv"]
    # East NPS invited a North client too: the peer manager sees it through that
    # invitation, and counts only it.
    campaigns = {str(row[0]): row[4] for row in tables["campaigns"].rows}
    assert campaigns == {"North only": 1, "East NPS": 1}


# ----------------------------------------------------------------- scopes
def test_the_scope_picker_offers_the_region_only(org, login):
    html = login(org.support).get(URL).content.decode()
    picker = re.search(r'data-testid="scope-picker".*?</select>', html, re.S).group(0)
    assert f"team:{org.east.pk}" in picker
    assert f"person:{org.rep.pk}" in picker
    assert f"team:{org.north.pk}" not in picker
    assert f"person:{org.outsider.pk}" not in picker
    assert '"company"' not in picker


def test_a_scope_outside_the_region_answers_404_and_the_company_403(org, login):
    client = login(org.support)
    assert client.get(URL, {"scope": f"person:{org.outsider.pk}"}).status_code == 404
    assert client.get(URL, {"scope": f"team:{org.north.pk}"}).status_code == 404
    assert client.get(URL, {"scope": "company"}).status_code == 403


# ----------------------------------------------------------------- exports
def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("table", ["quality", "imports", "events", "campaigns"])
def test_tables_download_as_csv(org, data, login, table):
    response = login(org.support).get(URL, {"export": "csv", "table": table})
    assert response.status_code == 200
    text = _body(response).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1
    assert "north-secret" not in text and "North only" not in text


def test_the_import_history_downloads_as_xlsx(org, data, login):
    response = login(org.support).get(URL, {"export": "xlsx", "table": "imports"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(_body(response))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Uploaded", "File", "By"]
    assert {row[1] for row in values[1:]} == {"east-clients.xlsx", "rep-list.csv"}


def test_an_unknown_table_answers_404(org, login):
    assert login(org.support).get(URL, {"export": "csv", "table": "nope"}).status_code == 404


# ----------------------------------------------------------------- queries
def _grow(org, n: int) -> None:
    """``n`` more of everything the page lists, in and out of the region."""
    for i in range(n):
        owner = org.rep if i % 2 else org.outsider
        client = ClientFactory(owner=owner, name=f"Grown {i}", industry="" if i % 3 else "x")
        contact = ContactFactory(client=client)
        ClientFactory(owner=owner, name=f"GROWN {i}")
        _import(org.support if i % 2 else org.outsider, f"grown-{i}.csv", created_count=i)
        _event(org, f"Grown event {i}", i % 25)
        campaign = sv.campaign("nps", created_by=org.support)
        sv.invitation(campaign, contact)


def _count(client, query: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, query)
    assert response.status_code == 200
    return len(ctx.captured_queries)


#: The page as support opens it (their region) and with a person, line or team picked:
#: user, the region, the visibility scope, the scope picker (led teams; teams and
#: people in one query, which also answers whether the pick is allowed), the
#: tree-history check — then the content: the viewer's client grants (``visible_to``),
#: the data-quality counts (one statement), imports, events, campaigns (one each).
SCOPES = {
    "default": ({}, MAX_QUERIES),
    "person": ({"scope": "person:{rep}"}, MAX_QUERIES),
    "line": ({"scope": "line:{support}"}, MAX_QUERIES),
    "team": ({"scope": "team:{east_team}"}, MAX_QUERIES),
}


@pytest.mark.parametrize("scope", list(SCOPES))
def test_the_page_costs_the_same_few_queries_at_any_size(
    org, login, django_assert_max_num_queries, scope
):
    client = login(org.support)
    query, most = SCOPES[scope]
    ids = {"rep": org.rep.pk, "support": org.support.pk, "east_team": org.east_team.pk}
    query = {k: v.format(**ids) for k, v in query.items()}
    _grow(org, 2)
    client.get(URL, query)  # the tree history is rebuilt once after the changes
    small = _count(client, query)
    _grow(org, 15)
    client.get(URL, query)
    large = _count(client, query)
    assert small == large
    with django_assert_max_num_queries(most):
        client.get(URL, query)


def test_the_directors_view_of_the_data_costs_the_same(org, data):
    """The builder alone (no request overhead) for the director's company scope."""
    params = _params(org.director, Scope.company())
    build(params)
    with CaptureQueriesContext(connection) as ctx:
        build(params)
    small = len(ctx.captured_queries)
    _grow(org, 10)
    with CaptureQueriesContext(connection) as ctx:
        build(params)
    assert len(ctx.captured_queries) == small <= 5
