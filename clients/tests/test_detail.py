"""A client's page: header facts, contacts, timeline, history and revert."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clients import services, timeline
from clients.models import Client
from clients.tests.factories import ClientFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_header_facts(login, org):
    referrer = ClientFactory(name="Old Friend Ltd", owner=org.rep)
    client = ClientFactory(
        name="Big Buyer",
        owner=org.rep,
        account_manager=org.am,
        status="active",
        source="referral",
        referred_by=referrer,
        cadence="weekly",
        next_visit_due=timezone.localdate() - timedelta(days=1),
        spend_12m=Decimal("1234567.89"),
        is_key_account=True,
        rfm_recency=5,
        rfm_frequency=4,
        rfm_monetary=5,
        rfm_segment="Champions",
        tags=[TagFactory(name="VIP")],
    )
    html = login(org.rep).get(f"/clients/{client.pk}/").content.decode()
    for fact in (
        "Big Buyer",
        "Active",
        "Referral",
        "Old Friend Ltd",
        "Weekly",
        'data-testid="overdue-badge"',
        "¥1,234,568",
        'data-testid="key-account-badge"',
        "R5 F4 M5",
        "Champions",
        "VIP",
        str(org.am),
    ):
        assert fact in html, fact


def test_a_visit_not_yet_due_has_no_overdue_badge(login, org):
    client = ClientFactory(owner=org.rep, next_visit_due=timezone.localdate())
    html = login(org.rep).get(f"/clients/{client.pk}/").content.decode()
    assert 'data-testid="overdue-badge"' not in html


def test_timeline_shows_this_apps_events(login, org):
    client = services.client_create(by=org.rep, name="Timeline Co", phone="021 5555 0000")
    services.contact_create(by=org.rep, client=client, name="Liu Yang", title="Buyer")
    services.client_update(
        by=org.rep, client=client, expected_version=client.version, status="active", city="Wuxi"
    )
    html = login(org.rep).get(f"/clients/{client.pk}/").content.decode()
    assert "Client created" in html
    assert "Contact added: Liu Yang" in html
    assert "Client changed" in html and "status, city" in html.replace("Status", "status")


def test_history_shows_who_changed_what(login, org):
    client = services.client_create(by=org.rep, name="History Co", industry="Retail")
    services.client_update(
        by=org.support,
        client=client,
        expected_version=client.version,
        industry="Wholesale",
        tags=[TagFactory(name="Wholesaler")],
    )
    response = login(org.manager).get(f"/clients/{client.pk}/history/")
    versions = response.context["versions"]
    assert [v.kind for v in versions] == ["changed", "created"]
    newest = versions[0]
    assert newest.record.history_user == org.support
    changes = {c.field: (c.old, c.new) for c in newest.changes}
    assert changes == {"industry": ("Retail", "Wholesale"), "tags": ("—", "Wholesaler")}
    html = response.content.decode()
    assert "Revert to this version" in html  # managers may revert
    rep_html = login(org.rep).get(f"/clients/{client.pk}/history/").content.decode()
    assert "Wholesale" in rep_html and "Revert to this version" not in rep_html


def test_a_manager_reverts_to_an_earlier_version(login, org):
    tag = TagFactory(name="Original")
    client = services.client_create(by=org.rep, name="Revert Co", industry="Retail", tags=[tag])
    first = client.history.order_by("-history_id").first()
    services.client_update(
        by=org.rep,
        client=client,
        expected_version=client.version,
        industry="Mining",
        name="Renamed Co",
        tags=[],
    )
    Client.objects.filter(pk=client.pk).update(spend_12m=Decimal("42"))  # derived: kept
    client.refresh_from_db()
    page = login(org.manager)
    confirm = page.get(f"/clients/{client.pk}/history/{first.history_id}/revert/")
    assert confirm.status_code == 200
    response = page.post(
        f"/clients/{client.pk}/history/{first.history_id}/revert/", {"version": client.version}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.name, client.industry) == ("Revert Co", "Retail")
    assert list(client.tags.all()) == [tag]
    assert client.spend_12m == Decimal("42")
    newest = client.history.order_by("-history_id").first()
    assert newest.history_user == org.manager
    assert newest.history_change_reason.startswith("Reverted to the version of")


def test_revert_needs_the_permission_and_a_fresh_version(login, org):
    client = services.client_create(by=org.rep, name="Guarded Co")
    first = client.history.get()
    services.client_update(
        by=org.rep, client=client, expected_version=client.version, name="Guarded Co 2"
    )
    url = f"/clients/{client.pk}/history/{first.history_id}/revert/"
    rep = login(org.rep)
    assert rep.get(url).status_code == 403
    assert rep.post(url, {"version": client.version}).status_code == 403
    assert login(org.outsider).get(url).status_code == 404
    manager = login(org.manager)
    stale = manager.post(url, {"version": client.version - 1})
    assert "Someone else changed this record" in stale.content.decode()
    client.refresh_from_db()
    assert client.name == "Guarded Co 2"


#: Queries of a client's page: user, visibility scope, grant ids, the client (with
#: owner, AM, referrer, region), the user's grants on it (the session and the
#: permission set come from the cache), tags, contacts, shares, people to share with, account
#: managers to assign, the timeline's visibility check (grants, client), the ids of
#: clients whose deals the user sees as account manager — plus one per registered
#: timeline provider (this app registers two: history and contacts).
DETAIL_QUERIES = 13


def _busy_client(org, contacts: int, edits: int) -> Client:
    client = services.client_create(by=org.rep, name="Busy Co", tags=[TagFactory(name="t")])
    for _ in range(contacts):
        ContactFactory(client=client)
    for i in range(edits):
        services.client_update(
            by=org.rep, client=client, expected_version=client.version, city=f"City {i}"
        )
    return client


@pytest.mark.parametrize(("contacts", "edits"), [(1, 1), (40, 60)])
def test_detail_query_count_is_constant(login, org, contacts, edits, django_assert_num_queries):
    client = _busy_client(org, contacts, edits)
    page = login(org.manager)
    expected = DETAIL_QUERIES + len(timeline._providers)
    with django_assert_num_queries(expected):
        response = page.get(f"/clients/{client.pk}/")
    assert len(response.context["contacts"]) == contacts


@pytest.mark.parametrize("edits", [1, 45])
def test_history_query_count_is_constant(login, org, edits, django_assert_max_num_queries):
    client = _busy_client(org, 0, edits)
    page = login(org.manager)
    # session, user, permissions (2), scope, grants, client, grants on it, history rows,
    # tag rows, tag names, people, referrers, regions
    with django_assert_max_num_queries(14):
        response = page.get(f"/clients/{client.pk}/history/")
    # created, tagged, then the edits
    assert len(response.context["versions"]) == min(edits + 2, 20)
