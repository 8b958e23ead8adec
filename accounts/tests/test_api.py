"""The organisation's REST API."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.tests.test_views import VISIBLE_PEOPLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    def _api(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _api


def test_token_login(org):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "rep", "password": "pw"})
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "rep" and me["role"] == "rep" and me["reports_to"] == org.am.pk
    assert "password" not in me
    bad = APIClient().post("/api/v1/auth/token/", {"username": "rep", "password": "nope"})
    assert bad.status_code == 400


def test_the_api_requires_authentication(org):
    for url in ("/api/v1/me/", "/api/v1/users/", "/api/v1/teams/"):
        assert APIClient().get(url).status_code in (401, 403)


@pytest.mark.parametrize("persona", sorted(VISIBLE_PEOPLE))
def test_users_endpoint_lists_and_retrieves_only_visible_people(api, org, persona):
    client = api(getattr(org, persona))
    body = client.get("/api/v1/users/?page_size=100").json()
    assert {u["username"] for u in body["results"]} == VISIBLE_PEOPLE[persona]
    assert body["count"] == len(VISIBLE_PEOPLE[persona])
    for name, person in org.all().items():
        status = client.get(f"/api/v1/users/{person.pk}/").status_code
        assert status == (200 if name in VISIBLE_PEOPLE[persona] else 404), name


def test_a_manager_creates_and_moves_people_within_their_subtree(api, org):
    client = api(org.manager)
    response = client.post(
        "/api/v1/users/",
        {
            "username": "apirep",
            "role": "rep",
            "team": org.east_team.pk,
            "reports_to": org.am.pk,
            "email": "apirep@example.com",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = User.objects.get(username="apirep")
    assert created.reports_to == org.am

    response = client.patch(
        f"/api/v1/users/{created.pk}/", {"reports_to": org.manager.pk}, format="json"
    )
    assert response.status_code == 200
    created.refresh_from_db()
    assert created.path == f"{org.manager.path}{created.pk}."


def test_placing_someone_outside_the_managers_part_is_a_clear_400(api, org):
    response = api(org.manager).post(
        "/api/v1/users/",
        {
            "username": "x",
            "role": "rep",
            "team": org.east_team.pk,
            "reports_to": org.peer_am.pk,
        },
        format="json",
    )
    # peer_am is not visible to the manager: it reads as an unknown id
    assert response.status_code == 400 and "reports_to" in response.json()
    response = api(org.manager).post(
        "/api/v1/users/",
        {
            "username": "x",
            "role": "director",
            "reports_to": org.manager.pk,
        },
        format="json",
    )
    assert response.status_code == 400 and "role" in response.json()


def test_writes_are_refused_to_roles_that_do_not_manage_people(api, org):
    response = api(org.rep).patch(
        f"/api/v1/users/{org.rep.pk}/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 403
    org.rep.refresh_from_db()
    assert org.rep.role == Role.REP
    assert (
        api(org.manager)
        .patch(f"/api/v1/users/{org.director.pk}/", {"title": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(org.manager)
        .patch(f"/api/v1/users/{org.outsider.pk}/", {"title": "x"}, format="json")
        .status_code
        == 404
    )


def test_teams_are_scoped(api, org):
    names = {t["name"] for t in api(org.manager).get("/api/v1/teams/").json()["results"]}
    assert names == {"Company", "East", "East Team"}
    names = {t["name"] for t in api(org.director).get("/api/v1/teams/").json()["results"]}
    assert names == {"Company", "East", "North", "East Team", "North Team"}


def test_user_list_query_count_is_flat(api, org, django_assert_max_num_queries):
    from accounts.tests.factories import UserFactory

    for i in range(50):
        UserFactory(username=f"bulk{i}", role=Role.REP, team=org.east_team, reports_to=org.am)
    with django_assert_max_num_queries(3):
        assert api(org.manager).get("/api/v1/users/").status_code == 200


def test_openapi_schema_and_docs(org, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/users/", "/api/v1/teams/", "/api/v1/me/", "/api/v1/auth/token/"):
        assert path in text
    client.force_login(org.rep)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content and b"unpkg" not in docs.content
