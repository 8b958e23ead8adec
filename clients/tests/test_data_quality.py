"""The data-quality page: incomplete records and duplicate candidates, per persona."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clients.models import Client
from clients.quality import DuplicateGroups, duplicate_counts, incomplete_counts
from clients.tests.data_factories import ClientFactory, ContactFactory, uscc

pytestmark = pytest.mark.django_db


URL = reverse("clients:quality")


@pytest.fixture
def data(org):
    """East clients (rep's, peer_rep's) and North ones (outsider's) with the same problems."""
    east_a = ClientFactory(name="Huadong Logistics Co., Ltd.", owner=org.rep, phone="138-0013-8000")
    east_b = ClientFactory(name="HUADONG LOGISTICS", owner=org.peer_rep, phone="+86 138 0013 8000")
    east_c = ClientFactory(name="Jiangnan Steel", owner=org.rep, registration_number=uscc(1))
    east_d = ClientFactory(name="Jiangnan Steel Works", owner=org.am, industry="", email="")
    ContactFactory(client=east_a, email="li@huadong.example")
    ContactFactory(client=east_c, email="li@huadong.example")  # same person, other record
    north_a = ClientFactory(name="Huadong Logistics", owner=org.outsider, phone="13800138000")
    north_b = ClientFactory(name="Beifang Foods", owner=org.outsider, phone="", email="")
    return {
        "east": [east_a, east_b, east_c, east_d],
        "north": [north_a, north_b],
    }


def _ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-client="(\d+)"', html)}


def test_counts_are_over_the_visible_clients(org, data):
    east = incomplete_counts(Client.objects.visible_to(org.support))
    assert east["contact"] == 2  # east_b, east_d
    assert east["industry"] == 1 and east["email"] == 1 and east["phone"] == 0
    assert east["any"] == 2
    everyone = incomplete_counts(Client.objects.visible_to(org.director))
    assert everyone["contact"] == 4 and everyone["phone"] == 1


def test_duplicate_groups_by_each_key(org, data):
    east_a, east_b, east_c, _east_d = data["east"]
    visible = Client.objects.visible_to(org.support)
    by_name = DuplicateGroups("name", visible)[0:10]
    assert [(g.key, g.ids) for g in by_name] == [("huadonglogistics", [east_a.pk, east_b.pk])]
    by_phone = DuplicateGroups("phone", visible)[0:10]
    assert [g.ids for g in by_phone] == [[east_a.pk, east_b.pk]]
    by_email = DuplicateGroups("email", visible)[0:10]
    assert [(g.key, g.ids) for g in by_email] == [("li@huadong.example", [east_a.pk, east_c.pk])]
    assert duplicate_counts(visible) == {
        "name": 1,
        "registration_number": 0,
        "phone": 1,
        "email": 1,
    }
    # The director sees the North record join the group.
    everyone = DuplicateGroups("name", Client.objects.visible_to(org.director))[0:10]
    assert len(everyone[0].clients) == 3


def test_groups_can_be_searched(org):
    ClientFactory(owner=org.rep, name="Alpha Trading Co., Ltd.")
    ClientFactory(owner=org.rep, name="ALPHA TRADING")
    ClientFactory(owner=org.rep, name="Beta Foods")
    ClientFactory(owner=org.rep, name="beta foods ltd")
    visible = Client.objects.visible_to(org.support)
    assert DuplicateGroups("name", visible).count() == 2
    found = DuplicateGroups("name", visible, "Alpha trading")[0:25]
    assert [g.key for g in found] == ["alphatrading"]
    assert DuplicateGroups("name", visible, "gamma").count() == 0
    assert DuplicateGroups("name", visible, "%").count() == 2  # no wildcard injection


@pytest.mark.parametrize("persona", ["support", "manager", "director"])
def test_page_shows_duplicates_and_incomplete_records(login, org, data, persona):
    client = login(getattr(org, persona))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    east_a, east_b = data["east"][:2]
    assert {east_a.pk, east_b.pk} <= _ids(html)
    assert f"ids={east_a.pk}&amp;ids={east_b.pk}" in html  # the merge link
    response = client.get(URL, {"show": "incomplete", "missing": "contact"})
    assert response.status_code == 200
    assert data["east"][3].pk in _ids(response.content.decode())


@pytest.mark.parametrize("persona", ["support", "manager"])
def test_nobody_outside_the_hierarchy_appears(login, org, data, persona):
    client = login(getattr(org, persona))
    north = {c.pk for c in data["north"]}
    for params in (
        {},
        {"kind": "phone"},
        {"kind": "email"},
        {"show": "incomplete"},
        {"show": "incomplete", "missing": "phone"},
    ):
        html = client.get(URL, params).content.decode()
        assert not north & _ids(html), params
        assert "Beifang" not in html
    export = b"".join(client.get(URL, {"export": "csv"}).streaming_content).decode()
    assert "Huadong Logistics Co., Ltd." in export
    assert str(data["north"][0].pk) not in re.findall(r"^[^,]*,(\d+),", export, re.M)


def test_peer_manager_sees_only_the_north(login, org, data):
    html = login(org.peer_manager).get(URL, {"show": "incomplete"}).content.decode()
    assert _ids(html) == {data["north"][0].pk, data["north"][1].pk}
    html = login(org.peer_manager).get(URL).content.decode()
    assert 'data-testid="no-duplicates"' in html


@pytest.mark.parametrize("persona", ["rep", "peer_rep", "am", "peer_am", "outsider"])
def test_reps_and_account_managers_cannot_open_it(login, org, persona):
    assert login(getattr(org, persona)).get(URL).status_code == 403


def _make_clients(org, n: int) -> None:
    for i in range(n):
        a = ClientFactory(name=f"Company {i}", owner=org.rep)
        ClientFactory(name=f"COMPANY {i} LTD", owner=org.peer_rep, industry="")
        ContactFactory(client=a)


@pytest.mark.parametrize("size", [3, 60])
def test_query_count_does_not_grow_with_the_data(login, org, size, django_assert_max_num_queries):
    _make_clients(org, size)
    client = login(org.support)
    # session, user, 2 × permissions, the support's region, scope, grants,
    # incomplete counts, 4 duplicate counts, the page's groups, their members
    # and their clients
    with django_assert_max_num_queries(15):
        response = client.get(URL)
    assert len(re.findall(r'data-testid="duplicate-group"', response.content.decode())) == min(
        size, 25
    )
    # the same seven, incomplete counts, 4 duplicate counts, the capped count
    # and the page of clients
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"show": "incomplete"})
    assert response.status_code == 200
