"""The notification centre: bell, list, marking read, preferences and the API.

Each person sees only their own notifications; another person's answers 404.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Notification, NotificationPreference, NotificationSettings
from accounts.notifications import KINDS, notify

pytestmark = pytest.mark.django_db


def make(user, n: int = 1, **extra) -> list[Notification]:
    made = []
    for i in range(n):
        made += notify(
            recipients=[user],
            kind=extra.get("kind", "web_lead"),
            subject=extra.get("subject", f"Lead {i} for {user.username}"),
            message="A visitor signed up.",
            url=extra.get("url", "/clients/"),
        )
    return made


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ----------------------------------------------------------------------------- notify
def test_a_person_may_receive_many_notifications_without_a_dedupe_key(org):
    make(org.rep, 3)
    assert Notification.objects.filter(recipient=org.rep).count() == 3


# ----------------------------------------------------------------------------- pages
def test_the_list_shows_my_notifications_newest_first(org, login):
    make(org.rep, 3)
    make(org.peer_rep, 1, subject="Secret of peer_rep")
    response = login(org.rep).get(reverse("accounts:notifications"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Lead 2 for rep") < page.index("Lead 1 for rep") < page.index("Lead 0")
    assert "Secret of peer_rep" not in page
    assert "3 unread" in page


@pytest.mark.parametrize("who", ["outsider", "peer_rep", "manager", "director"])
def test_another_persons_notification_answers_404_everywhere(org, login, who):
    note = make(org.rep)[0]
    client = login(getattr(org, who))
    assert client.get(reverse("accounts:notification-open", args=[note.pk])).status_code == 404
    assert client.post(reverse("accounts:notification-read", args=[note.pk])).status_code == 404
    assert api(getattr(org, who)).get(f"/api/v1/notifications/{note.pk}/").status_code == 404
    assert api(getattr(org, who)).post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    assert api(getattr(org, who)).get("/api/v1/notifications/").json()["count"] == 0
    csv = client.get(reverse("accounts:notifications"), {"export": "csv"})
    assert "Lead 0 for rep" not in b"".join(csv.streaming_content).decode()
    client.post(reverse("accounts:notifications-read-all"))
    note.refresh_from_db()
    assert note.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(org, login):
    note = make(org.rep, url="/pipeline/cadence/")[0]
    response = login(org.rep).get(reverse("accounts:notification-open", args=[note.pk]))
    assert response.status_code == 302 and response.url == "/pipeline/cadence/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_link_outside_salesorg_is_not_followed(org, login):
    note = make(org.rep, url="//evil.example.com/")[0]
    response = login(org.rep).get(reverse("accounts:notification-open", args=[note.pk]))
    assert response.url == reverse("accounts:notifications")


def test_mark_one_read_with_htmx_returns_the_item_and_refreshes_the_bell(org, login):
    first, second = make(org.rep, 2)
    client = login(org.rep)
    response = client.post(
        reverse("accounts:notification-read", args=[first.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'data-read="yes"' in response.content.decode()
    assert response["HX-Trigger"] == "notifications-changed"
    assert Notification.objects.filter(read_at__isnull=True).get() == second


def test_mark_all_read_and_the_unread_filter(org, login):
    make(org.rep, 2)
    mine = make(org.peer_rep, 1)[0]
    client = login(org.rep)
    response = client.post(reverse("accounts:notifications-read-all"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and "notifications-all-read" in response["HX-Trigger"]
    assert not Notification.objects.filter(recipient=org.rep, read_at__isnull=True).exists()
    mine.refresh_from_db()
    assert mine.read_at is None  # someone else's stay unread
    page = client.get(reverse("accounts:notifications"), {"show": "unread"}).content.decode()
    assert "Nothing unread." in page
    assert "Lead 0" in client.get(reverse("accounts:notifications")).content.decode()


def test_the_bell_shows_the_unread_count_capped(org, login):
    client = login(org.rep)
    assert "unread-count" not in client.get(reverse("accounts:notification-badge")).content.decode()
    make(org.rep, 2)
    badge = client.get(reverse("accounts:notification-badge")).content.decode()
    assert '>2<span class="visually-hidden">' in badge
    Notification.objects.bulk_create(
        Notification(recipient=org.rep, kind="web_lead", title=f"n{i}") for i in range(120)
    )
    assert "99+" in client.get(reverse("accounts:notification-badge")).content.decode()


def test_every_page_has_the_bell_and_the_menu_entries(org, login):
    page = login(org.rep).get(reverse("accounts:profile")).content.decode()
    assert 'data-testid="bell"' in page and reverse("accounts:notification-badge") in page
    assert reverse("accounts:notification-preferences") in page


@pytest.mark.parametrize("size", [5, 60])
def test_list_badge_and_api_take_a_constant_number_of_queries(
    org, login, size, django_assert_max_num_queries
):
    make(org.rep, size)
    client = login(org.rep)
    # session, user, capped count, page, preferences, kinds received, unread count,
    # and the menu's permissions (user's, groups')
    with django_assert_max_num_queries(9):
        assert client.get(reverse("accounts:notifications")).status_code == 200
    # session, user, unread count
    with django_assert_max_num_queries(3):
        assert client.get(reverse("accounts:notification-badge")).status_code == 200
    # user (token-less force auth), count, page
    with django_assert_max_num_queries(3):
        assert api(org.rep).get("/api/v1/notifications/").status_code == 200


# ----------------------------------------------------------------------- preferences
def test_preferences_list_every_kind_with_both_channels_and_save(org, login):
    client = login(org.manager)
    page = client.get(reverse("accounts:notification-preferences")).content.decode()
    for code in ("visit_reminder", "renewal_reminder", "stale_deals", "quote_approval_requested"):
        assert f'name="in_app:{code}"' in page and f'name="email:{code}"' in page
    assert "Recommended for managers" in page
    data = {f"in_app:{code}": "on" for code in KINDS}
    data |= {f"email:{code}": "on" for code in KINDS if code != "visit_reminder"}
    data["daily_digest"] = "on"
    response = client.post(reverse("accounts:notification-preferences"), data)
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=org.manager, kind="visit_reminder")
    assert (pref.in_app, pref.email) == (True, False)
    assert NotificationSettings.objects.get(user=org.manager).daily_digest is True
    # and notify() follows them
    notify(recipients=[org.manager], kind="visit_reminder", subject="s", message="m")
    assert mail.outbox == []


def test_a_rep_may_use_the_digest_too(org, login):
    client = login(org.rep)
    page = client.get(reverse("accounts:notification-preferences")).content.decode()
    assert 'name="daily_digest"' in page and "Recommended for managers" not in page
    client.post(reverse("accounts:notification-preferences"), {"daily_digest": "on"})
    assert NotificationSettings.objects.get(user=org.rep).daily_digest is True


def test_a_kind_someone_received_but_nobody_registered_is_listed_too(org, login):
    make(org.rep, kind="something_new")
    page = login(org.rep).get(reverse("accounts:notification-preferences")).content.decode()
    assert 'name="email:something_new"' in page and "Something new" in page


# ------------------------------------------------------------------------------- API
def test_api_lists_filters_and_marks_read(org):
    first, second = make(org.rep, 2)
    client = api(org.rep)
    body = client.get("/api/v1/notifications/").json()
    assert [n["id"] for n in body["results"]] == [second.pk, first.pk]
    assert body["results"][0]["kind_label"] == "New website sign-up"
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    marked = client.post(f"/api/v1/notifications/{first.pk}/read/").json()
    assert marked["is_read"] is True
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()
    assert [n["id"] for n in unread["results"]] == [second.pk]
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked_read": 1}
    assert client.delete(f"/api/v1/notifications/{first.pk}/").status_code == 405


def test_api_is_in_the_openapi_schema(org, login):
    schema = login(org.rep).get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/notifications/",
        "/api/v1/notifications/{id}/",
        "/api/v1/notifications/{id}/read/",
        "/api/v1/notifications/read-all/",
        "/api/v1/notifications/unread-count/",
    ):
        assert path in schema["paths"]
