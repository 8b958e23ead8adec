"""The organisation's pages, as each persona uses them."""

import pytest
from django.urls import reverse

from accounts.models import HandOver, Role, User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VISIBLE_PEOPLE = {
    "director": {
        "director",
        "manager",
        "am",
        "rep",
        "peer_rep",
        "support",
        "peer_manager",
        "peer_am",
        "outsider",
    },
    "manager": {"director", "manager", "am", "rep", "peer_rep", "support"},
    "am": {"director", "manager", "am", "rep", "peer_rep"},
    "rep": {"director", "manager", "am", "rep"},
    "peer_rep": {"director", "manager", "am", "peer_rep"},
    "support": {"director", "manager", "am", "rep", "peer_rep", "support"},
    "peer_manager": {"director", "peer_manager", "peer_am", "outsider"},
    "peer_am": {"director", "peer_manager", "peer_am", "outsider"},
    "outsider": {"director", "peer_manager", "peer_am", "outsider"},
}


def _usernames_in(html: str, org) -> set[str]:
    return {name for name in org.all() if f'data-username="{name}"' in html}


def test_login_honours_next_and_lands_on_the_role_home(client, org):
    response = client.post(
        "/login/?next=/org/", {"username": "rep", "password": "pw", "next": "/org/"}
    )
    assert response.status_code == 302 and response["Location"] == "/org/"
    client.logout()
    response = client.post("/login/", {"username": "rep", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/rep/"


def test_a_wrong_password_explains_itself(client, org):
    response = client.post("/login/", {"username": "rep", "password": "nope"})
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()


def test_pages_require_sign_in(client, org):
    for url in ("/", "/org/", "/people/", "/me/", f"/people/{org.rep.pk}/", "/dashboard/rep/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url


def test_logout_is_a_post_and_ends_the_session(login, org):
    client = login(org.rep)
    assert client.post("/logout/").status_code == 302
    assert client.get("/org/").status_code == 302


@pytest.mark.parametrize("persona", sorted(VISIBLE_PEOPLE))
def test_each_role_lands_on_its_dashboard_scoped_to_their_line(login, org, persona):
    """The home is the role's dashboard; its scope picker offers the person and the
    people below them (their place in the organisation is on the org chart)."""
    user = getattr(org, persona)
    client = login(user)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == f"/dashboard/{user.role}/"
    html = response.content.decode()
    assert 'data-testid="dashboard-pickers"' in html
    picker = {(s.kind, s.id) for s in response.context["scopes"]}
    assert ("person", user.pk) in picker
    for report in user.direct_reports.all():
        assert ("person", report.pk) in picker and str(report) in html
    if user.reports_to_id and user.role != "support":  # support staff see their region
        assert ("person", user.reports_to_id) not in picker


def test_someone_elses_role_home_redirects_to_their_own(login, org):
    response = login(org.rep).get("/dashboard/director/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/rep/"
    assert login(org.rep).get("/dashboard/nonsense/").status_code == 404


def test_org_chart_scope_per_role(login, org):
    director_html = login(org.director).get("/org/").content.decode()
    assert _usernames_in(director_html, org) == set(org.all())
    manager_html = login(org.manager).get("/org/").content.decode()
    assert _usernames_in(manager_html, org) == {
        "director",
        "manager",
        "am",
        "rep",
        "peer_rep",
        "support",
    }
    rep_html = login(org.rep).get("/org/").content.decode()
    assert _usernames_in(rep_html, org) == {"director", "manager", "am", "rep"}


@pytest.mark.parametrize("persona", sorted(VISIBLE_PEOPLE))
def test_people_list_and_detail_per_persona(login, org, persona):
    client = login(getattr(org, persona))
    html = client.get("/people/").content.decode()
    assert _usernames_in(html, org) == VISIBLE_PEOPLE[persona]
    for name, person in org.all().items():
        status = client.get(f"/people/{person.pk}/").status_code
        assert status == (200 if name in VISIBLE_PEOPLE[persona] else 404), name


def test_people_export_contains_only_visible_people(login, org):
    response = login(org.manager).get("/people/?export=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "am@example.com" in body
    assert "outsider@example.com" not in body


def test_people_list_query_count_is_flat(login, org, django_assert_max_num_queries):
    client = login(org.director)
    for i in range(60):
        UserFactory(username=f"extra{i}", role=Role.REP, team=org.east_team, reports_to=org.am)
    # session, user, count, page, manageable ids, teams, permissions (x2)
    with django_assert_max_num_queries(9):
        assert client.get("/people/").status_code == 200


def test_a_manager_creates_a_rep_through_the_form(login, org):
    client = login(org.manager)
    assert client.get("/people/new/").status_code == 200
    response = client.post(
        "/people/new/",
        {
            "username": "newbie",
            "first_name": "New",
            "last_name": "Bie",
            "email": "n@example.com",
            "role": Role.REP,
            "team": org.east_team.pk,
            "reports_to": org.am.pk,
            "password": "a-Strong-pass-42",
        },
    )
    newbie = User.objects.get(username="newbie")
    assert response.status_code == 302 and response["Location"] == f"/people/{newbie.pk}/"
    assert newbie.reports_to == org.am and newbie.check_password("a-Strong-pass-42")


def test_the_form_refuses_a_placement_outside_the_managers_part(login, org):
    response = login(org.manager).post(
        "/people/new/",
        {
            "username": "newbie",
            "role": Role.REP,
            "team": org.north_team.pk,
            "reports_to": org.peer_am.pk,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize("persona", ["am", "rep", "support"])
def test_user_management_is_closed_to_other_roles(login, org, persona):
    client = login(getattr(org, persona))
    assert client.get("/people/new/").status_code == 403
    assert client.get(f"/people/{org.director.pk}/edit/").status_code == 403
    assert client.get(f"/people/{org.outsider.pk}/edit/").status_code == 404


def test_a_manager_edits_within_their_subtree_only(login, org):
    client = login(org.manager)
    response = client.post(
        f"/people/{org.rep.pk}/edit/",
        {
            "first_name": "Rep",
            "last_name": "One",
            "email": "rep@example.com",
            "title": "Senior rep",
            "phone": "",
            "role": Role.REP,
            "team": org.east_team.pk,
            "reports_to": org.am.pk,
        },
    )
    assert response.status_code == 302
    org.rep.refresh_from_db()
    assert org.rep.title == "Senior rep"
    assert client.get(f"/people/{org.outsider.pk}/edit/").status_code == 404
    assert client.get(f"/people/{org.director.pk}/edit/").status_code == 403


def test_deactivation_page_hands_over(login, org):
    client = login(org.manager)
    page = client.get(f"/people/{org.rep.pk}/deactivate/")
    assert page.status_code == 200
    response = client.post(f"/people/{org.rep.pk}/deactivate/", {"successor": org.peer_rep.pk})
    assert response.status_code == 302
    org.rep.refresh_from_db()
    assert not org.rep.is_active
    assert HandOver.objects.get(from_user=org.rep).to_user == org.peer_rep


def test_profile_edit_and_password_change(login, org):
    client = login(org.rep)
    response = client.post(
        "/me/",
        {"first_name": "R", "last_name": "Ep", "email": "r@ex.com", "phone": "+86 10 1234 5678"},
    )
    assert response.status_code == 302
    org.rep.refresh_from_db()
    assert org.rep.phone == "+86 10 1234 5678"
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "pw",
            "new_password1": "n3w-Passw0rd!x",
            "new_password2": "n3w-Passw0rd!x",
        },
    )
    assert response.status_code == 302
    org.rep.refresh_from_db()
    assert org.rep.check_password("n3w-Passw0rd!x")


def test_a_moved_rep_changes_what_managers_see_next_request(login, org):
    client = login(org.manager)
    assert 'data-username="rep"' in client.get("/people/").content.decode()
    director = login(org.director)
    director.post(
        f"/people/{org.rep.pk}/edit/",
        {
            "first_name": "a",
            "last_name": "b",
            "email": "rep@example.com",
            "title": "",
            "phone": "",
            "role": Role.REP,
            "team": org.north_team.pk,
            "reports_to": org.peer_am.pk,
        },
    )
    client = login(org.manager)
    assert 'data-username="rep"' not in client.get("/people/").content.decode()
    assert client.get(f"/people/{org.rep.pk}/").status_code == 404


def test_signing_in_stamps_the_time_without_a_history_entry(client, org):
    """A sign-in is not a change to the person: their history stays as it was."""
    before = org.rep.history.count()
    org.rep.set_password("s3cret-pass")
    org.rep.save()
    saved = org.rep.history.count()
    assert saved == before + 1
    response = client.post("/login/", {"username": org.rep.username, "password": "s3cret-pass"})
    assert response.status_code == 302
    org.rep.refresh_from_db()
    assert org.rep.last_login is not None
    assert org.rep.history.count() == saved
