"""``/api/v1/complaints/``: logging, the steps as POST actions, concurrency, the
schema and query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from clients.models import Complaint
from clients.tests.complaint_factories import ComplaintFactory, build_book

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def book(org):
    return build_book(org)


def test_logging_a_complaint_and_answering_it(api, org, book):
    client = api(org.rep)
    with time_machine.travel(RECEIVED, tick=False):
        response = client.post(
            "/api/v1/complaints/",
            {
                "client": book.clients["rep_only"].pk,
                "contact": book.contacts["rep_only"].pk,
                "subject": "Printer jams",
                "description": "Every morning.",
                "severity": "high",
                "channel": "email",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == org.rep.pk and body["logged_by"] == org.rep.pk
    assert body["status"] == "open" and body["answered_within_sla"] is None
    assert body["sla_due_at"].startswith("2026-11-28T10:00")  # local time, 24 h later
    assert [e["kind"] for e in body["entries"]] == ["status"]
    pk, version = body["id"], body["version"]

    # The status cannot be set directly...
    patched = client.patch(
        f"/api/v1/complaints/{pk}/", {"status": "closed", "version": version}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["status"] == "open"
    version = patched.json()["version"]
    # ...only through the steps.
    with time_machine.travel(RECEIVED + timedelta(hours=3), tick=False):
        answered = client.post(
            f"/api/v1/complaints/{pk}/respond/",
            {"text": "Technician booked.", "version": version},
            format="json",
        )
    assert answered.status_code == 200
    assert answered.json()["status"] == "responded"
    assert answered.json()["answered_within_sla"] is True
    assert [e["kind"] for e in answered.json()["entries"]] == ["status", "response", "status"]

    resolved = client.post(
        f"/api/v1/complaints/{pk}/resolve/", {"resolution": "Roller replaced."}, format="json"
    )
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_at"]
    closed = client.post(f"/api/v1/complaints/{pk}/close/", {}, format="json")
    assert closed.json()["status"] == "closed"
    reopened = client.post(
        f"/api/v1/complaints/{pk}/reopen/", {"reason": "Jams again."}, format="json"
    )
    assert reopened.json()["status"] == "open" and reopened.json()["reopened_count"] == 1


def test_a_step_out_of_order_answers_400_with_the_reason(api, org, book):
    complaint = book.complaints["rep_only"]
    client = api(org.rep)
    response = client.post(f"/api/v1/complaints/{complaint.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "Only a resolved complaint can be closed" in str(response.json())
    missing = client.post(f"/api/v1/complaints/{complaint.pk}/resolve/", {}, format="json")
    assert missing.status_code == 400 and "resolution" in missing.json()


def test_stale_versions_answer_409_and_edits_need_one(api, org, book):
    complaint = book.complaints["rep_only"]
    client = api(org.rep)
    no_version = client.patch(
        f"/api/v1/complaints/{complaint.pk}/", {"subject": "New"}, format="json"
    )
    assert no_version.status_code == 400 and "version" in no_version.json()
    ok = client.patch(
        f"/api/v1/complaints/{complaint.pk}/",
        {"subject": "New", "version": complaint.version},
        format="json",
    )
    assert ok.status_code == 200
    stale = client.post(
        f"/api/v1/complaints/{complaint.pk}/respond/",
        {"text": "Hello", "version": complaint.version},
        format="json",
    )
    assert stale.status_code == 409
    complaint.refresh_from_db()
    assert complaint.status == "open" and not complaint.entries.filter(kind="response").exists()


def test_a_contact_of_another_client_is_refused(api, org, book):
    response = api(org.am).post(
        "/api/v1/complaints/",
        {
            "client": book.clients["east_am"].pk,
            "contact": book.contacts["rep_only"].pk,
            "subject": "x",
            "description": "y",
        },
        format="json",
    )
    assert response.status_code == 400 and "contact" in response.json()


def test_a_note_from_support_is_created_and_nothing_else_changes(api, org, book):
    complaint = book.complaints["east_am"]
    response = api(org.support).post(
        f"/api/v1/complaints/{complaint.pk}/note/", {"text": "Client phoned."}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "note" and response.json()["author"] == org.support.pk
    complaint.refresh_from_db()
    assert complaint.status == "open" and complaint.version == 1


def test_filters(api, org, book):
    ComplaintFactory(
        client=book.clients["rep_only"],
        subject="Overdue",
        received_at=RECEIVED - timedelta(days=2),
    )
    client = api(org.director)

    def subjects(**params):
        return {c["subject"] for c in client.get("/api/v1/complaints/", params).json()["results"]}

    assert subjects(overdue="true") == {"Overdue"}
    assert "Overdue" not in subjects(overdue="false")
    assert subjects(client=book.clients["north"].pk) == {"Complaint of north"}
    assert subjects(search="peer_rep") == {"Complaint of peer_rep"}
    assert subjects(status="resolved") == set()


def test_the_schema_documents_the_endpoint_and_its_actions(api, org):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = [
        msg
        for msg in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "complaint" in msg.lower()
    ]
    assert warnings == []
    paths = schema["paths"]
    assert "delete" not in paths["/api/v1/complaints/{id}/"]
    for action in ("respond", "note", "resolve", "close", "reopen", "reassign"):
        assert "post" in paths[f"/api/v1/complaints/{{id}}/{action}/"], action
    assert "409" in paths["/api/v1/complaints/{id}/respond/"]["post"]["responses"]
    params = {p["name"] for p in paths["/api/v1/complaints/"]["get"]["parameters"]}
    assert {"status", "severity", "category", "client", "overdue", "search", "ordering"} <= params
    component = schema["components"]["schemas"]["Complaint"]["properties"]
    assert component["entries"]["readOnly"] and component["status"]["readOnly"]


#: API list for a manager (authentication forced): visibility scope, ids of clients
#: whose AM the manager sees, capped count, the page, its log entries, escalations.
API_LIST_QUERIES = 6


@pytest.mark.parametrize("size", [3, 60])
def test_the_list_costs_the_same_at_any_size(api, org, book, size, django_assert_num_queries):
    for i in range(size):
        complaint = ComplaintFactory(client=book.clients["east_am"], subject=f"Bulk {i}")
        complaint.entries.create(kind="note", text="n", at=RECEIVED, author=org.am)
    client = api(org.manager)
    with django_assert_num_queries(API_LIST_QUERIES):
        response = client.get("/api/v1/complaints/")
    assert len(response.json()["results"]) == min(size + 3, 50)
    # One record: the complaint, its log, its escalations (the test client keeps
    # the same user object, so the scope is already known).
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/complaints/{complaint.pk}/")
    assert response.json()["entries"][0]["text"] == "n"
    assert Complaint.objects.count() == size + 4


# -------------------------------------------------------------- filter visibility
@pytest.mark.parametrize("field", ["client", "owner"])
def test_filtering_by_a_hidden_id_answers_like_an_unknown_id(api, org, book, field):
    # peer_am (North) is outside the East hierarchy and sees only North's complaint.
    hidden = book.clients["east_am"].pk if field == "client" else org.am.pk
    client = api(org.peer_am)
    unknown = client.get("/api/v1/complaints/", {field: 999999})
    probed = client.get("/api/v1/complaints/", {field: hidden})
    assert unknown.status_code == probed.status_code == 400
    assert unknown.json() == probed.json()
    # What the caller sees still filters.
    own = book.clients["north"].pk if field == "client" else org.peer_am.pk
    response = client.get("/api/v1/complaints/", {field: own})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [book.complaints["north"].pk]


def test_the_browsable_api_offers_only_visible_clients(api, org, book):
    response = api(org.peer_am).get("/api/v1/complaints/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Firm north" in html
    for label in ("east_am", "rep_only", "peer_rep"):
        assert f"Firm {label}" not in html, label
