"""The clients and contacts API: filters, field rules, concurrency, actions, schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from clients.models import Client, Contact
from clients.tests.factories import ClientFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [r["name"] for r in response.json()["results"]]


# ------------------------------------------------------------------------ list
def test_filters_search_ordering_and_pages(api, org):
    today = timezone.localdate()
    vip = TagFactory(name="VIP")
    ClientFactory(
        name="Alpha",
        owner=org.rep,
        status="active",
        spend_12m=Decimal("5"),
        next_visit_due=today - timedelta(days=1),
        tags=[vip],
    )
    ClientFactory(name="Beta", owner=org.rep, status="prospect", spend_12m=Decimal("9"))
    gamma = ClientFactory(name="Gamma", owner=org.rep, status="active", is_key_account=True)
    ContactFactory(client=gamma, name="Sun Li")
    client = api(org.rep)
    assert _names(client.get("/api/v1/clients/", {"status": "active"})) == ["Alpha", "Gamma"]
    assert _names(client.get("/api/v1/clients/", {"overdue": "true"})) == ["Alpha"]
    assert _names(client.get("/api/v1/clients/", {"tag": vip.pk})) == ["Alpha"]
    assert _names(client.get("/api/v1/clients/", {"key_account": "true"})) == ["Gamma"]
    assert _names(client.get("/api/v1/clients/", {"search": "sun li"})) == ["Gamma"]
    assert _names(client.get("/api/v1/clients/", {"ordering": "-spend_12m"}))[:2] == [
        "Beta",
        "Alpha",
    ]
    page = client.get("/api/v1/clients/", {"page_size": 2}).json()
    assert page["count"] == 3 and page["count_is_capped"] is False and page["next"]
    assert len(page["results"]) == 2
    # A filter value the caller cannot see is refused, not silently ignored.
    assert client.get("/api/v1/clients/", {"owner": org.outsider.pk}).status_code == 400


def test_contacts_filter_by_visible_client(api, org, book):
    client = api(org.rep)
    mine = client.get("/api/v1/contacts/", {"client": book.clients["rep"].pk}).json()
    assert [c["name"] for c in mine["results"]] == ["rep contact"]
    other = client.get("/api/v1/contacts/", {"client": book.clients["outsider"].pk})
    assert other.status_code == 400


# ------------------------------------------------------------------ field rules
@pytest.mark.parametrize(
    "change",
    [
        {"owner": "support"},
        {"account_manager": "am"},
        {"spend_12m": "9999999.00"},
        {"is_key_account": True},
        {"rfm_recency": 5},
    ],
)
def test_support_cannot_patch_protected_fields_and_nothing_is_applied(api, org, book, change):
    client = book.clients["rep"]
    body = {
        k: (getattr(org, v).pk if k in ("owner", "account_manager") else v)
        for k, v in change.items()
    }
    body.update({"phone": "+86 21 6666 0000", "version": client.version})
    response = api(org.support).patch(f"/api/v1/clients/{client.pk}/", body, format="json")
    assert response.status_code == 400
    field = next(iter(change))
    assert "Your role may not change" in response.json()[field][0]
    fresh = Client.objects.get(pk=client.pk)
    assert fresh.phone == client.phone and fresh.version == client.version
    assert (fresh.owner_id, fresh.account_manager_id) == (org.rep.pk, None)
    assert fresh.spend_12m == Decimal("0") and not fresh.is_key_account


def test_support_edits_master_data_and_may_send_protected_fields_unchanged(api, org, book):
    client = book.clients["rep"]
    data = api(org.support).get(f"/api/v1/clients/{client.pk}/").json()
    data.update({"phone": "+86 21 6666 0001", "industry": "Textiles"})
    for read_only in ("rfm_score", "rfm_scored_at", "last_visit_at", "next_visit_due"):
        data.pop(read_only)
    response = api(org.support).put(f"/api/v1/clients/{client.pk}/", data, format="json")
    assert response.status_code == 200, response.json()
    client.refresh_from_db()
    assert (client.phone, client.industry, client.owner) == (
        "+86 21 6666 0001",
        "Textiles",
        org.rep,
    )


def test_owner_changes_need_the_ownership_permission(api, org, book):
    client = book.clients["rep"]
    refused = api(org.rep).patch(
        f"/api/v1/clients/{client.pk}/",
        {"owner": org.am.pk, "version": client.version},
        format="json",
    )
    assert refused.status_code == 400
    done = api(org.manager).patch(
        f"/api/v1/clients/{client.pk}/",
        {"owner": org.peer_rep.pk, "version": client.version},
        format="json",
    )
    assert done.status_code == 200 and done.json()["owner"] == org.peer_rep.pk


def test_creating_for_someone_else_needs_the_ownership_permission(api, org):
    refused = api(org.rep).post(
        "/api/v1/clients/", {"name": "For my boss", "owner": org.am.pk}, format="json"
    )
    assert refused.status_code == 400 and not Client.objects.exists()
    done = api(org.manager).post(
        "/api/v1/clients/", {"name": "For my rep", "owner": org.rep.pk}, format="json"
    )
    assert done.status_code == 201
    assert Client.objects.get().owner == org.rep


def test_validation_messages_match_the_pages(api, org, book):
    taken = book.clients["rep"]
    response = api(org.am).post(
        "/api/v1/clients/",
        {"name": "Dup", "registration_number": taken.registration_number, "phone": "xyz"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["registration_number"] == [
        f"“{taken.name}” already has this registration number (id {taken.pk})."
    ]
    assert "is not a phone number" in body["phone"][0]
    a = ClientFactory(name="A", owner=org.rep)
    b = ClientFactory(name="B", owner=org.rep, referred_by=a)
    loop = api(org.rep).patch(
        f"/api/v1/clients/{a.pk}/", {"referred_by": b.pk, "version": a.version}, format="json"
    )
    assert loop.status_code == 400 and "referral loop" in loop.json()["referred_by"][0]


# ------------------------------------------------------------------ concurrency
def test_a_stale_version_answers_409_and_changes_nothing(api, org, book):
    client = book.clients["rep"]
    first = api(org.rep).patch(
        f"/api/v1/clients/{client.pk}/", {"city": "Xi'an", "version": client.version}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] == client.version + 1
    second = api(org.am).patch(
        f"/api/v1/clients/{client.pk}/",
        {"city": "Chengdu", "version": client.version},
        format="json",
    )
    assert second.status_code == 409
    assert "Someone else changed this record" in second.json()["detail"]
    client.refresh_from_db()
    assert client.city == "Xi'an"
    missing = api(org.am).patch(f"/api/v1/clients/{client.pk}/", {"city": "X"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()


def test_contacts_have_one_primary_and_keep_their_client(api, org, book):
    first = book.contacts["rep"]
    client = api(org.rep)
    created = client.post(
        "/api/v1/contacts/",
        {"client": book.clients["rep"].pk, "name": "New primary", "is_primary": True},
        format="json",
    )
    assert created.status_code == 201
    first.refresh_from_db()
    assert not first.is_primary
    moved = client.patch(
        f"/api/v1/contacts/{first.pk}/",
        {"client": book.clients["peer_rep"].pk, "version": first.version, "title": "CTO"},
        format="json",
    )
    assert moved.status_code == 200
    first.refresh_from_db()
    assert first.client == book.clients["rep"] and first.title == "CTO"
    stale = client.patch(
        f"/api/v1/contacts/{first.pk}/", {"title": "CEO", "version": 1}, format="json"
    )
    assert stale.status_code == 409


# ---------------------------------------------------------------------- actions
def test_assign_account_manager_action(api, org, book):
    client = book.clients["rep"]
    url = f"/api/v1/clients/{client.pk}/assign-account-manager/"
    assert api(org.rep).post(url, {"account_manager": org.am.pk}, format="json").status_code == 403
    assert (
        api(org.peer_manager).post(url, {"account_manager": org.am.pk}, format="json").status_code
        == 404
    )
    not_am = api(org.manager).post(url, {"account_manager": org.rep.pk}, format="json")
    assert not_am.status_code == 400
    done = api(org.manager).post(
        url, {"account_manager": org.am.pk, "version": client.version}, format="json"
    )
    assert done.status_code == 200 and done.json()["account_manager"] == org.am.pk
    stale = api(org.manager).post(
        url, {"account_manager": None, "version": client.version}, format="json"
    )
    assert stale.status_code == 409
    client.refresh_from_db()
    assert client.account_manager == org.am


def test_shares_are_listed_to_those_who_may_share(api, org, book):
    client = book.clients["rep"]
    api(org.rep).post(
        f"/api/v1/clients/{client.pk}/share/", {"user": org.outsider.pk}, format="json"
    )
    shares = api(org.manager).get(f"/api/v1/clients/{client.pk}/shares/")
    assert shares.status_code == 200
    assert shares.json() == [
        {
            "user": org.outsider.pk,
            "username": "outsider",
            "name": org.outsider.get_full_name(),
            "level": "view",
        }
    ]
    assert api(org.support).get(f"/api/v1/clients/{client.pk}/shares/").status_code == 403
    # The outsider now sees the client, read-only.
    outsider = api(org.outsider)
    assert outsider.get(f"/api/v1/clients/{client.pk}/").status_code == 200
    refused = outsider.patch(
        f"/api/v1/clients/{client.pk}/", {"city": "X", "version": client.version}, format="json"
    )
    assert refused.status_code == 403


# ----------------------------------------------------------------------- schema
def test_the_schema_documents_the_endpoints_without_warnings(api, org):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = [
        msg
        for msg in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "client" in msg.lower() or "contact" in msg.lower()
    ]
    assert warnings == []
    paths = schema["paths"]
    for path in (
        "/api/v1/clients/",
        "/api/v1/clients/{id}/",
        "/api/v1/clients/{id}/share/",
        "/api/v1/clients/{id}/unshare/",
        "/api/v1/clients/{id}/shares/",
        "/api/v1/clients/{id}/assign-account-manager/",
        "/api/v1/contacts/",
        "/api/v1/contacts/{id}/",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/clients/"]["get"]["parameters"]}
    assert {"search", "status", "overdue", "tag", "owner", "ordering", "page"} <= params
    assert "409" in paths["/api/v1/clients/{id}/"]["patch"]["responses"]
    assert api(org.rep).get("/api/schema/").status_code == 200


# ------------------------------------------------------------------ query counts
#: API list (authentication forced; a real token adds one query): visibility
#: scope, grant ids, capped count, the page, its tags.
API_LIST_QUERIES = 5


@pytest.mark.parametrize("size", [10, 500])
def test_api_list_query_count_is_constant(api, org, size, django_assert_num_queries):
    tag = TagFactory(name="bulk")
    clients = Client.objects.bulk_create(
        Client(name=f"Bulk {i:04d}", name_normalized=f"bulk{i:04d}", owner=org.rep)
        for i in range(size)
    )
    Client.tags.through.objects.bulk_create(
        Client.tags.through(client_id=c.pk, tag_id=tag.pk) for c in clients
    )
    Contact.objects.bulk_create(Contact(client=c, name=f"P {c.pk}") for c in clients)
    client = api(org.manager)
    with django_assert_num_queries(API_LIST_QUERIES):
        response = client.get("/api/v1/clients/")
    assert len(response.json()["results"]) == min(size, 50)
    # contacts: scope, grant ids, capped count, the page
    with django_assert_num_queries(4):
        response = client.get("/api/v1/contacts/")
    assert len(response.json()["results"]) == min(size, 50)
