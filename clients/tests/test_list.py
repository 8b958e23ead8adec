"""The client list: search, filters, sorting, pages, export and saved filters."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from openpyxl import load_workbook

from clients.models import Client, SavedFilter, Tag
from clients.tests.factories import ClientFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [c.name for c in response.context["page"].object_list]


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def catalogue(org):
    """Clients of rep's with something to find and filter by."""
    today = timezone.localdate()
    vip = TagFactory(name="VIP")
    acme = ClientFactory(
        name="ACME Co., Ltd.",
        owner=org.rep,
        status="active",
        source="trade_show",
        industry="Chemicals",
        segment="enterprise",
        phone="+86 21 5555 0001",
        is_key_account=True,
        spend_12m=Decimal("2500000"),
        next_visit_due=today - timedelta(days=3),
        account_manager=org.am,
        tags=[vip],
    )
    huawei = ClientFactory(
        name="上海华为技术有限公司",
        owner=org.rep,
        status="prospect",
        source="website",
        industry="Telecom",
        segment="mid_market",
        spend_12m=Decimal("120000"),
        next_visit_due=today + timedelta(days=10),
    )
    quiet = ClientFactory(
        name="Quiet Trading",
        owner=org.rep,
        status="dormant",
        source="referral",
        industry="Retail",
        email="hello@quiet.example.cn",
        spend_12m=Decimal("0"),
    )
    ContactFactory(client=quiet, name="Zhang San", phone="+86 139 1234 5678", email="zs@x.cn")
    return {"acme": acme, "huawei": huawei, "quiet": quiet, "vip": vip}


# -------------------------------------------------------------------------- search
@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("acme", {"ACME Co., Ltd."}),  # case-insensitive
        ("Acme Company Limited", {"ACME Co., Ltd."}),  # normalised name: legal form ignored
        ("华为", {"上海华为技术有限公司"}),
        ("zhang", {"Quiet Trading"}),  # a contact's name
        ("13912345678", {"Quiet Trading"}),  # a contact's phone, typed without the country code
        ("021-5555-0001", {"ACME Co., Ltd."}),  # the client's phone, typed differently
        ("HELLO@QUIET", {"Quiet Trading"}),  # e-mail
        ("zs@x.cn", {"Quiet Trading"}),  # a contact's e-mail
        ("nothing like it", set()),
    ],
)
def test_search(login, org, catalogue, term, expected):
    response = login(org.rep).get("/clients/", {"search": term})
    assert set(_names(response)) == expected


def test_search_by_registration_number(login, org, catalogue):
    number = catalogue["huawei"].registration_number
    response = login(org.rep).get("/clients/", {"search": number[-8:].lower()})
    assert _names(response) == ["上海华为技术有限公司"]


# ------------------------------------------------------------------------- filters
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "active"}, {"ACME Co., Ltd."}),
        ({"key_account": "true"}, {"ACME Co., Ltd."}),
        ({"key_account": "false"}, {"上海华为技术有限公司", "Quiet Trading"}),
        ({"source": "referral"}, {"Quiet Trading"}),
        ({"industry": "Telecom"}, {"上海华为技术有限公司"}),
        ({"segment": "enterprise"}, {"ACME Co., Ltd."}),
        ({"overdue": "true"}, {"ACME Co., Ltd."}),
        ({"overdue": "false"}, {"上海华为技术有限公司", "Quiet Trading"}),
        ({"status": "prospect", "segment": "enterprise"}, set()),
    ],
)
def test_filters(login, org, catalogue, params, expected):
    response = login(org.rep).get("/clients/", params)
    assert set(_names(response)) == expected


def test_owner_account_manager_and_tag_filters(login, org, catalogue, book):
    client = login(org.manager)
    by_owner = client.get("/clients/", {"owner": org.peer_rep.pk})
    assert set(_names(by_owner)) == {"Firm of peer_rep"}
    by_am = client.get("/clients/", {"account_manager": org.am.pk})
    assert set(_names(by_am)) == {"ACME Co., Ltd."}
    by_tag = client.get("/clients/", {"tag": catalogue["vip"].pk})
    assert set(_names(by_tag)) == {"ACME Co., Ltd."}
    # An owner the user cannot see is not a usable filter (and says so).
    ignored = client.get("/clients/", {"owner": org.outsider.pk})
    assert "Some filters were not understood" in ignored.content.decode()
    assert "Firm of outsider" not in ignored.content.decode()


def test_sorting_and_pages(login, org, catalogue):
    client = login(org.rep)
    by_spend = client.get("/clients/", {"sort": "-spend"})
    assert _names(by_spend) == ["ACME Co., Ltd.", "上海华为技术有限公司", "Quiet Trading"]
    by_due = client.get("/clients/", {"sort": "next_visit_due"})
    assert _names(by_due)[:2] == ["ACME Co., Ltd.", "上海华为技术有限公司"]
    for i in range(30):
        ClientFactory(name=f"Zeta {i:02d}", owner=org.rep)
    page2 = client.get("/clients/", {"page": 2})
    assert len(_names(page2)) == 33 - 25 and page2.context["page"].paginator.count == 33


def test_htmx_filtering_returns_only_the_results(login, org, catalogue):
    response = login(org.rep).get(
        "/clients/",
        {"status": "active"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="client-results",
    )
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="client-table"' in html
    assert "ACME Co., Ltd." in html and "Quiet Trading" not in html
    # The export links carry the same filters.
    assert "export=csv" in html and "status=active" in html


# -------------------------------------------------------------------------- export
def test_csv_export_is_exactly_the_filtered_sorted_set(login, org, catalogue):
    for i in range(30):  # more than one page: the export is not just the page
        ClientFactory(name=f"Zeta {i:02d}", owner=org.rep, status="prospect")
    response = login(org.rep).get(
        "/clients/", {"status": "prospect", "sort": "-name", "export": "csv", "page": 2}
    )
    rows = _csv_rows(response)
    assert rows[0][:3] == ["Id", "Name", "Registration number"]
    names = [r[1] for r in rows[1:]]
    expected = sorted([f"Zeta {i:02d}" for i in range(30)] + ["上海华为技术有限公司"], reverse=True)
    assert names == expected


def test_export_neutralises_formulas_and_has_primary_contacts(login, org):
    client = ClientFactory(name="=cmd|' /c calc'!A1", owner=org.rep, industry="@SUM(1+1)")
    ContactFactory(
        client=client, name="Boss", is_primary=True, phone="+86 138 0000 0000", email="b@x.cn"
    )
    ContactFactory(client=client, name="Not the primary one")
    page = login(org.rep)
    rows = _csv_rows(page.get("/clients/", {"export": "csv"}))
    row = rows[1]
    assert row[1] == "'=cmd|' /c calc'!A1" and row[5] == "'@SUM(1+1)"
    assert row[-3:] == ["Boss", "'+86 138 0000 0000", "b@x.cn"]
    assert len(rows) == 2  # one row per client, whatever its number of contacts
    response = page.get("/clients/", {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[1][1] == "'=cmd|' /c calc'!A1"
    assert values[1][-3] == "Boss"


def test_export_needs_the_export_permission(login, org, catalogue):
    perm = Permission.objects.get(codename="export_client")
    Group.objects.get(name="rep").permissions.remove(perm)
    client = login(org.rep)
    assert client.get("/clients/", {"export": "csv"}).status_code == 403
    assert 'data-testid="export-csv"' not in client.get("/clients/").content.decode()


# -------------------------------------------------------------------- saved filters
def test_saved_filters_are_per_user(login, org, catalogue):
    client = login(org.rep)
    page = client.get("/clients/", {"status": "active", "page": 1, "search": ""})
    assert page.context["current_query"] == "status=active"
    response = client.post(
        "/clients/filters/save/", {"name": "Active ones", "query": "status=active&page=3"}
    )
    assert response.status_code == 302 and response["Location"] == "/clients/?status=active"
    saved = SavedFilter.objects.get(user=org.rep, page="clients")
    assert saved.query == "status=active"
    html = client.get("/clients/").content.decode()
    assert "Active ones" in html and 'href="/clients/?status=active"' in html
    # Saving under the same name updates it.
    client.post("/clients/filters/save/", {"name": "Active ones", "query": "status=dormant"})
    saved.refresh_from_db()
    assert saved.query == "status=dormant"
    # Somebody else neither sees nor deletes it.
    client.get("/clients/")  # shows (and so consumes) the "updated" message
    other = login(org.peer_rep)
    assert 'data-testid="saved-filter"' not in other.get("/clients/").content.decode()
    assert other.post(f"/clients/filters/{saved.pk}/delete/").status_code == 404
    mine = login(org.rep)
    assert mine.post(f"/clients/filters/{saved.pk}/delete/").status_code == 302
    assert not SavedFilter.objects.exists()


# -------------------------------------------------------------------- client picker
def test_the_client_picker_only_offers_visible_clients(login, org, book):
    html = login(org.rep).get("/clients/lookup/", {"q": "Firm"}).content.decode()
    assert "Firm of rep" in html
    assert "Firm of peer_rep" not in html and "Firm of outsider" not in html
    html = (
        login(org.manager)
        .get(
            "/clients/lookup/",
            {"q": "Firm of peer", "referred_by": book.clients["rep"].pk},
        )
        .content.decode()
    )
    assert f'<option value="{book.clients["rep"].pk}" selected>' in html
    assert "Firm of peer_rep" in html


# ---------------------------------------------- key accounts without a dedicated AM
def test_key_accounts_without_account_manager(login, org, book):
    for label in ("rep", "am", "outsider"):
        Client.objects.filter(pk=book.clients[label].pk).update(
            is_key_account=True, spend_12m=Decimal("1500000")
        )
    Client.objects.filter(pk=book.clients["am"].pk).update(account_manager=org.am)
    manager = login(org.manager)
    response = manager.get("/clients/key-accounts-without-am/")
    assert _names(response) == ["Firm of rep"]
    assert login(org.rep).get("/clients/key-accounts-without-am/").status_code == 403
    assert login(org.support).get("/clients/key-accounts-without-am/").status_code == 403
    director = login(org.director).get("/clients/key-accounts-without-am/")
    assert set(_names(director)) == {"Firm of rep", "Firm of outsider"}
    manager = login(org.manager)
    csv_rows = _csv_rows(manager.get("/clients/key-accounts-without-am/", {"export": "csv"}))
    assert [r[1] for r in csv_rows[1:]] == ["Firm of rep"]
    client = book.clients["rep"]
    client.refresh_from_db()
    response = manager.post(
        f"/clients/{client.pk}/account-manager/",
        {
            "account_manager": org.am.pk,
            "version": client.version,
            "next": "/clients/key-accounts-without-am/",
        },
    )
    assert response["Location"] == "/clients/key-accounts-without-am/"
    client.refresh_from_db()
    assert client.account_manager == org.am
    assert _names(manager.get("/clients/key-accounts-without-am/")) == []


# ------------------------------------------------------------------- query counts
def _make_clients(owner, count: int) -> None:
    tag = TagFactory(name="bulk")
    clients = Client.objects.bulk_create(
        Client(
            name=f"Bulk {i:04d}",
            name_normalized=f"bulk{i:04d}",
            owner=owner,
            account_manager=None,
            industry="Bulk",
        )
        for i in range(count)
    )
    Client.tags.through.objects.bulk_create(
        Client.tags.through(client_id=c.pk, tag_id=tag.pk) for c in clients
    )


#: Queries of the client list page, whatever the number of clients:
#: user (session and permissions come from the cache), visibility scope, grant ids,
#: capped count, the page, its tags, the people for the owner/AM filters,
#: saved filters, industries, tags.
LIST_QUERIES = 10


@pytest.mark.parametrize("size", [10, 500])
def test_list_query_count_is_constant(login, org, size, django_assert_num_queries):
    _make_clients(org.rep, size)
    client = login(org.manager)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/clients/", {"sort": "-spend"})
    assert len(response.context["page"].object_list) == min(size, 25)
    tag = Tag.objects.get(name="bulk")
    # + the contact match of the search, + checking the chosen tag exists
    with django_assert_num_queries(LIST_QUERIES + 2):
        client.get("/clients/", {"search": "bulk 00", "tag": tag.pk, "overdue": "false"})


def test_the_list_speaks_chinese(login, org, catalogue):
    client = login(org.rep)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/clients/"})
    html = client.get("/clients/").content.decode()
    assert "添加客户" in html and "名称" in html and "下次拜访日期" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/clients/"})
