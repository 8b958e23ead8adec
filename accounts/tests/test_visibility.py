"""The visibility rule, on a small owned model (tests.owned_app)."""

import pytest
from django.contrib.auth.models import Group, Permission
from guardian.shortcuts import assign_perm, remove_perm

from accounts import services
from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from accounts.visibility import Relation, get_for_user
from tests.owned_app.models import Notebook, Page

pytestmark = pytest.mark.django_db


@pytest.fixture
def notebook_perms(db):
    """Everyone may view notebooks; all but support may change them."""
    for role in Role.values:
        codenames = (
            ["view_notebook"] if role == Role.SUPPORT else ["view_notebook", "change_notebook"]
        )
        Group.objects.get(name=role).permissions.add(
            *Permission.objects.filter(content_type__app_label="owned_app", codename__in=codenames)
        )


@pytest.fixture
def books(org, notebook_perms):
    return {
        "rep": Notebook.objects.create(title="rep", owner=org.rep),
        "peer_rep": Notebook.objects.create(title="peer_rep", owner=org.peer_rep),
        "am": Notebook.objects.create(title="am", owner=org.am),
        "reviewed_by_am": Notebook.objects.create(
            title="reviewed_by_am", owner=org.outsider, reviewer=org.am
        ),
        "outsider": Notebook.objects.create(title="outsider", owner=org.outsider),
        "peer_am": Notebook.objects.create(title="peer_am", owner=org.peer_am),
    }


EXPECTED = {
    "director": {"rep", "peer_rep", "am", "reviewed_by_am", "outsider", "peer_am"},
    "manager": {"rep", "peer_rep", "am", "reviewed_by_am"},
    "am": {"rep", "peer_rep", "am", "reviewed_by_am"},
    "rep": {"rep"},
    "peer_rep": {"peer_rep"},
    "support": {"rep", "peer_rep", "am", "reviewed_by_am"},
    "peer_manager": {"reviewed_by_am", "outsider", "peer_am"},
    "peer_am": {"reviewed_by_am", "outsider", "peer_am"},
    "outsider": {"reviewed_by_am", "outsider"},
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_persona_sees_exactly_their_records(org, books, persona):
    user = getattr(org, persona)
    seen = set(Notebook.objects.visible_to(user).values_list("title", flat=True))
    assert seen == EXPECTED[persona]


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_pages_answer_404_outside_and_list_nothing_foreign(org, books, login, persona):
    client = login(getattr(org, persona))
    assert set(client.get("/test-owned/notebooks/").json()["titles"]) == EXPECTED[persona]
    for title, book in books.items():
        response = client.get(f"/test-owned/notebooks/{book.pk}/")
        assert response.status_code == (200 if title in EXPECTED[persona] else 404), title
    assert client.get("/test-owned/notebooks/999999/").status_code == 404


def test_a_page_follows_its_notebook(org, books, login):
    page = Page.objects.create(notebook=books["rep"], text="hello")
    assert list(Page.objects.visible_to(org.rep)) == [page]
    assert list(Page.objects.visible_to(org.outsider)) == []
    assert login(org.outsider).get(f"/test-owned/pages/{page.pk}/").status_code == 404
    assert login(org.am).get(f"/test-owned/pages/{page.pk}/").status_code == 200


def test_anonymous_and_inactive_users_see_nothing(org, books):
    from django.contrib.auth.models import AnonymousUser

    assert not Notebook.objects.visible_to(AnonymousUser()).exists()
    org.manager.is_active = False
    org.manager.save()
    assert not Notebook.objects.visible_to(User.objects.get(pk=org.manager.pk)).exists()


def test_a_guardian_grant_adds_one_record(org, books, login):
    assign_perm("owned_app.view_notebook", org.outsider, books["rep"])
    outsider = User.objects.get(pk=org.outsider.pk)
    assert "rep" in set(Notebook.objects.visible_to(outsider).values_list("title", flat=True))
    body = login(outsider).get(f"/test-owned/notebooks/{books['rep'].pk}/").json()
    assert body == {"title": "rep", "can_change": False, "relation": "GRANT"}

    assign_perm("owned_app.change_notebook", org.outsider, books["rep"])
    assert login(outsider).get(f"/test-owned/notebooks/{books['rep'].pk}/").json()["can_change"]

    remove_perm("owned_app.view_notebook", org.outsider, books["rep"])
    remove_perm("owned_app.change_notebook", org.outsider, books["rep"])
    assert login(outsider).get(f"/test-owned/notebooks/{books['rep'].pk}/").status_code == 404


def test_access_says_what_each_relation_may_do(org, books):
    assert get_for_user(org.rep, Notebook, pk=books["rep"].pk).can_change
    manager_access = get_for_user(org.manager, Notebook, pk=books["rep"].pk)
    assert manager_access.relation == Relation.LINE and manager_access.can_change
    support_access = get_for_user(org.support, Notebook, pk=books["rep"].pk)
    assert support_access.relation == Relation.REGION and not support_access.can_change
    director_access = get_for_user(org.director, Notebook, pk=books["outsider"].pk)
    assert director_access.relation == Relation.COMPANY and director_access.can_change


def test_a_move_is_honoured_on_the_next_request(org, books, login):
    client = login(org.manager)
    assert "rep" in client.get("/test-owned/notebooks/").json()["titles"]
    services.user_update(by=org.director, user=org.rep, reports_to=org.peer_am, team=org.north_team)
    assert "rep" not in client.get("/test-owned/notebooks/").json()["titles"]
    assert client.get(f"/test-owned/notebooks/{books['rep'].pk}/").status_code == 404
    peer = login(org.peer_manager)
    assert "rep" in peer.get("/test-owned/notebooks/").json()["titles"]


def test_a_promotion_widens_what_they_see(org, books):
    services.user_update(
        by=org.director, user=org.peer_rep, role=Role.ACCOUNT_MANAGER, reports_to=org.manager
    )
    services.user_update(by=org.director, user=org.rep, reports_to=org.peer_rep)
    promoted = User.objects.get(pk=org.peer_rep.pk)
    assert set(Notebook.objects.visible_to(promoted).values_list("title", flat=True)) == {
        "peer_rep",
        "rep",
    }


def test_support_sees_their_region_by_team_not_by_line(org, books):
    # A rep hired into an East team under a North boss is still East's region.
    east_newcomer = UserFactory(role=Role.REP, team=org.east_team, reports_to=org.peer_am)
    Notebook.objects.create(title="newcomer", owner=east_newcomer)
    seen = set(Notebook.objects.visible_to(org.support).values_list("title", flat=True))
    assert "newcomer" in seen
    assert "outsider" not in seen


@pytest.mark.parametrize("size", [10, 1000])
def test_visible_to_costs_a_constant_number_of_queries(
    org, notebook_perms, size, django_assert_max_num_queries
):
    bosses = [org.am]
    users = []
    for i in range(size):
        users.append(UserFactory.build(username=f"bulk{i}", role=Role.REP, team=org.east_team))
    created = User.objects.bulk_create(users)
    # Hang them all under the AM with one UPDATE of paths (bulk_create skips save()).
    for u in created:
        u.reports_to = bosses[0]
        u.path = f"{org.am.path}{u.pk}."
    User.objects.bulk_update(created, ["reports_to", "path"], batch_size=500)
    Notebook.objects.bulk_create(Notebook(title=f"n{u.pk}", owner=u) for u in created)

    manager = User.objects.get(pk=org.manager.pk)
    # 1: the manager's subtree ids, 2: their grants, 3: the records
    with django_assert_max_num_queries(3):
        count = len(list(Notebook.objects.visible_to(manager)))
    assert count == size
    support = User.objects.get(pk=org.support.pk)
    # support: + their region (team) lookup
    with django_assert_max_num_queries(5):
        assert len(list(Notebook.objects.visible_to(support))) == size
