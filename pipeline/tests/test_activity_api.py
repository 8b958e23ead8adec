"""``/api/v1/activities/``: visibility, role permissions, the complete action, conflicts."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clients.models import Cadence
from pipeline.models import Activity
from pipeline.tests.activity_factories import (
    ActivityFactory,
    ClientFactory,
    DealFactory,
    LeadFactory,
)
from pipeline.tests.test_activity_pages import CHANGES_REPS, PERSONAS, SEES

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def api():
    def _api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _api


@pytest.fixture
def one_each(org):
    return {
        name: ActivityFactory(
            client=ClientFactory(owner=user), owner=user, subject=f"subject-{name}"
        )
        for name, user in org.all().items()
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_retrieve_follow_visibility(api, org, one_each, persona):
    client = api(getattr(org, persona))
    body = client.get("/api/v1/activities/?page_size=100").json()
    assert {a["subject"].removeprefix("subject-") for a in body["results"]} == SEES[persona]
    for name, activity in one_each.items():
        status = client.get(f"/api/v1/activities/{activity.pk}/").status_code
        assert status == (200 if name in SEES[persona] else 404), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_writes_per_persona_on_the_reps_activity(api, org, one_each, persona):
    client = api(getattr(org, persona))
    activity = one_each["rep"]
    patch = client.patch(
        f"/api/v1/activities/{activity.pk}/", {"version": 1, "outcome": "edited"}, format="json"
    )
    if "rep" not in SEES[persona]:
        expected = 404
    elif persona in CHANGES_REPS:
        expected = 200
    else:
        expected = 403
    assert patch.status_code == expected, patch.content
    activity.refresh_from_db()
    assert (activity.outcome == "edited") == (expected == 200)
    if expected == 200:
        assert client.delete(f"/api/v1/activities/{activity.pk}/").status_code == 204
    else:
        assert client.delete(f"/api/v1/activities/{activity.pk}/").status_code == expected
        assert Activity.objects.filter(pk=activity.pk).exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_per_persona(api, org, persona):
    user = getattr(org, persona)
    own = ClientFactory(owner=user)
    response = api(user).post(
        "/api/v1/activities/",
        {"type": "call", "client": own.pk, "outcome": "Called"},
        format="json",
    )
    assert response.status_code == (403 if persona == "support" else 201), response.content
    if response.status_code == 201:
        body = response.json()
        assert body["owner"] == user.pk and body["status"] == "done"
        assert body["duration_minutes"] == 10 and body["version"] == 1


def test_create_with_someone_elses_client_reads_as_unknown(api, org):
    other = ClientFactory(owner=org.outsider)
    response = api(org.rep).post(
        "/api/v1/activities/", {"type": "call", "client": other.pk}, format="json"
    )
    assert response.status_code == 400 and "client" in response.json()


def test_rules_answer_400_with_the_pages_messages(api, org):
    mine = ClientFactory(owner=org.rep)
    deal = DealFactory(client=ClientFactory(owner=org.rep))
    response = api(org.rep).post(
        "/api/v1/activities/",
        {"type": "call", "client": mine.pk, "deal": deal.pk, "spin_problem": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "deal": ["This deal is with another client."],
        "spin_problem": ["SPIN notes are kept for visits and meetings."],
    }


def test_a_visit_with_objections_through_the_api_moves_the_cadence(api, org):
    customer = ClientFactory(owner=org.rep, cadence=Cadence.MONTHLY)
    when = datetime(2026, 4, 1, 23, 30, tzinfo=SHANGHAI)
    response = api(org.rep).post(
        "/api/v1/activities/",
        {
            "type": "visit",
            "client": customer.pk,
            "start_at": when.isoformat(),
            "outcome": "Good",
            "spin_situation": "3 sites",
            "objections": [{"objection": "Too slow", "response": "New version", "resolved": True}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["objections"][0]["objection"] == "Too slow"
    customer.refresh_from_db()
    assert customer.next_visit_due == date(2026, 5, 1)


def test_an_activity_with_a_lead(api, org):
    lead = LeadFactory(owner=org.rep, name="Ms Qian")
    response = api(org.rep).post(
        "/api/v1/activities/", {"type": "email", "lead": lead.pk, "subject": "Intro"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = api(org.rep).get(f"/api/v1/activities/{response.json()['id']}/").json()
    assert (body["lead_name"], body["client"], body["client_name"]) == ("Ms Qian", None, "")
    hidden = LeadFactory(owner=org.outsider)
    refused = api(org.rep).post(
        "/api/v1/activities/", {"type": "email", "lead": hidden.pk}, format="json"
    )
    assert refused.status_code == 400 and "lead" in refused.json()


def test_complete_action(api, org):
    customer = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    planned = ActivityFactory(
        client=customer,
        type="visit",
        status="planned",
        start_at=timezone.now() - timedelta(hours=1),
    )
    url = f"/api/v1/activities/{planned.pk}/complete/"
    assert api(org.outsider).post(url, {"version": 1}, format="json").status_code == 404
    assert api(org.support).post(url, {"version": 1}, format="json").status_code == 403
    response = api(org.rep).post(url, {"version": 1, "outcome": "Done it"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done" and response.json()["version"] == 2
    customer.refresh_from_db()
    # the visit's own day (an hour ago may be yesterday just after midnight)
    assert customer.next_visit_due == timezone.localdate(planned.start_at) + timedelta(days=7)
    again = api(org.rep).post(url, {"version": 2}, format="json")
    assert again.status_code == 400


def test_a_stale_version_is_a_409_and_changes_nothing(api, org):
    activity = ActivityFactory(client=ClientFactory(owner=org.rep), outcome="first")
    assert (
        api(org.am)
        .patch(f"/api/v1/activities/{activity.pk}/", {"version": 1, "outcome": "am"}, format="json")
        .status_code
        == 200
    )
    stale = api(org.rep).patch(
        f"/api/v1/activities/{activity.pk}/", {"version": 1, "outcome": "rep"}, format="json"
    )
    assert stale.status_code == 409
    missing = api(org.rep).patch(
        f"/api/v1/activities/{activity.pk}/", {"outcome": "rep"}, format="json"
    )
    assert missing.status_code == 400 and "version" in missing.json()
    activity.refresh_from_db()
    assert activity.outcome == "am"


def test_filters(api, org):
    customer = ClientFactory(owner=org.rep)
    ActivityFactory(client=customer, type="visit", subject="v")
    ActivityFactory(
        client=customer,
        type="call",
        subject="c",
        status="planned",
        start_at=timezone.now() + timedelta(days=2),
    )
    client = api(org.rep)
    assert [
        a["subject"] for a in client.get("/api/v1/activities/?type=visit").json()["results"]
    ] == ["v"]
    assert [
        a["subject"] for a in client.get("/api/v1/activities/?status=planned").json()["results"]
    ] == ["c"]
    after = (timezone.now() + timedelta(days=1)).isoformat()
    response = client.get("/api/v1/activities/", {"start_after": after})
    assert [a["subject"] for a in response.json()["results"]] == ["c"]


def test_the_schema_documents_the_endpoints(org, client):
    client.force_login(org.rep)
    text = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/activities/",
        "/api/v1/activities/{id}/complete/",
        "/api/v1/products/",
        "/api/v1/products/{id}/materials/",
        "/api/v1/targets/",
    ):
        assert path in text, path
