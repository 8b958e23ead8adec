"""Every persona × {list, export, retrieve, create, update, each step} for complaints,
through the pages and the API.

The expectations are written out per persona, not derived from the code under
test: who sees which complaint, who may move it on, who may only add notes.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from clients import complaints as service
from clients.models import Complaint, ComplaintStatus
from clients.tests.complaint_factories import build_book

pytestmark = pytest.mark.django_db

PERSONAS = [
    "director",
    "manager",
    "am",
    "rep",
    "peer_rep",
    "support",
    "peer_manager",
    "peer_am",
    "outsider",
]
ALL = {"east_am", "rep_only", "peer_rep", "north"}
EAST = {"east_am", "rep_only", "peer_rep"}

#: Which complaints each persona sees (see complaint_factories.SITUATIONS: the
#: east_am complaint is the AM's although a rep owns the client).
VISIBLE = {
    "director": ALL,
    "manager": EAST,
    "am": EAST,
    "rep": {"rep_only"},
    "peer_rep": {"peer_rep"},
    "support": EAST,
    "peer_manager": {"north"},
    "peer_am": {"north"},
    "outsider": set(),
}
#: Who may respond, resolve, close, reopen and edit: everyone in the line, not support.
CHANGEABLE = {p: v for p, v in VISIBLE.items() if p != "support"}
#: Who may add a note: everyone who sees the complaint, support included.
NOTABLE = VISIBLE
#: Who may give a complaint to someone else: the director and the managers.
REASSIGNABLE = {"director": ALL, "manager": EAST, "peer_manager": {"north"}}
#: For which clients each persona may log a complaint: the clients they see.
CLIENTS_VISIBLE = {
    "director": ALL,
    "manager": EAST,
    "am": EAST,
    "rep": {"east_am", "rep_only"},
    "peer_rep": {"peer_rep"},
    "support": EAST,
    "peer_manager": {"north"},
    "peer_am": {"north"},
    "outsider": {"north"},
}

#: step -> (form prefix and field, API field, value)
STEPS = {
    "respond": ("respond-text", "text", "We are on it."),
    "note": ("note-text", "text", "Client called again."),
    "resolve": ("resolve-resolution", "resolution", "Goods replaced."),
    "close": ("close-note", "note", "Client satisfied."),
    "reopen": ("reopen-reason", "reason", "Problem is back."),
}


@pytest.fixture
def book(org):
    return build_book(org)


def _expected(persona: str, label: str, allowed: dict[str, set[str]]) -> int:
    if label not in VISIBLE[persona]:
        return 404
    return 200 if label in allowed.get(persona, set()) else 403


def _allowed_for(step: str) -> dict[str, set[str]]:
    return NOTABLE if step == "note" else CHANGEABLE


def _prepare(org, book, step: str) -> None:
    """Put every complaint where ``step`` is possible (close and reopen need a resolution)."""
    if step in ("close", "reopen"):
        for complaint in book.complaints.values():
            service.complaint_resolve(by=org.director, complaint=complaint, resolution="Fixed.")


def _effect(complaint: Complaint, step: str, before: int) -> bool:
    complaint.refresh_from_db()
    return {
        "respond": complaint.status == ComplaintStatus.RESPONDED,
        "note": complaint.entries.filter(kind="note").count() > before,
        "resolve": complaint.status == ComplaintStatus.RESOLVED,
        "close": complaint.status == ComplaintStatus.CLOSED,
        "reopen": complaint.status == ComplaintStatus.OPEN and complaint.reopened_count == 1,
    }[step]


def _new_owner(org, label: str):
    """Someone of the complaint's team who does not own it yet."""
    return {"north": org.outsider, "peer_rep": org.rep}.get(label, org.peer_rep)


def _ids_in(html: str, book) -> set[str]:
    return {label for label, c in book.complaints.items() if f'data-complaint-id="{c.pk}"' in html}


# ------------------------------------------------------------------------ pages
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_export_show_only_visible_complaints(login, org, book, persona):
    client = login(getattr(org, persona))
    html = client.get("/clients/complaints/", {"tab": "all"}).content.decode()
    assert _ids_in(html, book) == VISIBLE[persona]
    # Filtering by someone else's client finds nothing rather than their complaints.
    for label, c in book.clients.items():
        html = client.get("/clients/complaints/", {"tab": "all", "client": c.pk}).content.decode()
        assert _ids_in(html, book) == {label} & VISIBLE[persona], label
    response = client.get("/clients/complaints/", {"tab": "all", "export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    seen = {label for label, c in book.complaints.items() if c.subject in body}
    assert seen == VISIBLE[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_retrieve_and_edit_pages(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, complaint in book.complaints.items():
        detail = client.get(f"/clients/complaints/{complaint.pk}/")
        assert detail.status_code == (200 if label in VISIBLE[persona] else 404), label
        expected = _expected(persona, label, CHANGEABLE)
        assert client.get(f"/clients/complaints/{complaint.pk}/edit/").status_code == expected
        response = client.post(
            f"/clients/complaints/{complaint.pk}/edit/",
            {
                "subject": f"Edited by {persona}",
                "description": complaint.description,
                "channel": complaint.channel,
                "category": complaint.category,
                "severity": complaint.severity,
                "received_at": timezone.localtime(complaint.received_at).strftime("%Y-%m-%dT%H:%M"),
                "version": complaint.version,
            },
        )
        complaint.refresh_from_db()
        if expected == 200:
            assert response.status_code == 302, (label, response.content[:3000])
            assert complaint.subject == f"Edited by {persona}"
        else:
            assert response.status_code == expected and "Edited" not in complaint.subject


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_page_for_each_client(login, org, book, persona):
    client = login(getattr(org, persona))
    assert client.get("/clients/complaints/new/").status_code == 200  # the client picker
    for label, c in book.clients.items():
        visible = label in CLIENTS_VISIBLE[persona]
        url = f"/clients/complaints/new/?client={c.pk}"
        assert client.get(url).status_code == (200 if visible else 404), label
        response = client.post(
            url,
            {
                "subject": f"Logged by {persona}",
                "description": "Noise at night.",
                "channel": "phone",
                "category": "service",
                "severity": "medium",
            },
        )
        made = Complaint.objects.filter(client=c, subject=f"Logged by {persona}")
        if visible:
            assert response.status_code == 302, (label, response.content[:3000])
            assert made.get().logged_by == getattr(org, persona)
        else:
            assert response.status_code == 404 and not made.exists()


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_step_on_the_page(login, org, book, persona, step):
    _prepare(org, book, step)
    client = login(getattr(org, persona))
    field, _api_field, value = STEPS[step]
    for label, complaint in book.complaints.items():
        complaint.refresh_from_db()
        before = complaint.entries.filter(kind="note").count()
        response = client.post(
            f"/clients/complaints/{complaint.pk}/{step}/",
            {field: value, f"{step}-version": complaint.version},
        )
        expected = _expected(persona, label, _allowed_for(step))
        done = _effect(complaint, step, before)
        if expected == 200:
            assert response.status_code == 302 and done, (label, response.content[:3000])
        else:
            assert response.status_code == expected and not done, label


@pytest.mark.parametrize("persona", PERSONAS)
def test_reassign_on_the_page(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, complaint in book.complaints.items():
        target = _new_owner(org, label)
        response = client.post(
            f"/clients/complaints/{complaint.pk}/reassign/",
            {"reassign-owner": target.pk, "reassign-version": complaint.version},
        )
        complaint.refresh_from_db()
        expected = _expected(persona, label, REASSIGNABLE)
        if expected == 200:
            assert response.status_code == 302 and complaint.owner == target, label
        else:
            assert response.status_code == expected and complaint.owner != target, label


# -------------------------------------------------------------------------- API
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_list_and_retrieve(api, org, book, persona):
    client = api(getattr(org, persona))
    listed = client.get("/api/v1/complaints/").json()["results"]
    assert {book_label(book, c["id"]) for c in listed} == VISIBLE[persona]
    for label, complaint in book.complaints.items():
        response = client.get(f"/api/v1/complaints/{complaint.pk}/")
        assert response.status_code == (200 if label in VISIBLE[persona] else 404), label


def book_label(book, pk: int) -> str:
    return next(label for label, c in book.complaints.items() if c.pk == pk)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_create(api, org, book, persona):
    client = api(getattr(org, persona))
    for label, c in book.clients.items():
        response = client.post(
            "/api/v1/complaints/",
            {"client": c.pk, "subject": f"API by {persona}", "description": "Broken."},
            format="json",
        )
        made = Complaint.objects.filter(client=c, subject=f"API by {persona}")
        if label in CLIENTS_VISIBLE[persona]:
            assert response.status_code == 201, (label, response.json())
            assert response.json()["owner"] == made.get().owner_id
        else:
            # Someone else's client reads as "does not exist".
            assert response.status_code == 400 and "client" in response.json(), label
            assert not made.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_update_and_delete(api, org, book, persona):
    client = api(getattr(org, persona))
    for label, complaint in book.complaints.items():
        response = client.patch(
            f"/api/v1/complaints/{complaint.pk}/",
            {"subject": f"API edit by {persona}", "version": complaint.version},
            format="json",
        )
        expected = _expected(persona, label, CHANGEABLE)
        complaint.refresh_from_db()
        assert response.status_code == expected, label
        assert (complaint.subject == f"API edit by {persona}") == (expected == 200)
        # Complaints are never deleted through the API.
        assert client.delete(f"/api/v1/complaints/{complaint.pk}/").status_code == 405
    assert Complaint.objects.count() == len(book.complaints)


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_each_step(api, org, book, persona, step):
    _prepare(org, book, step)
    client = api(getattr(org, persona))
    _field, api_field, value = STEPS[step]
    for label, complaint in book.complaints.items():
        before = complaint.entries.filter(kind="note").count()
        response = client.post(
            f"/api/v1/complaints/{complaint.pk}/{step}/", {api_field: value}, format="json"
        )
        expected = _expected(persona, label, _allowed_for(step))
        if expected == 200 and step == "note":
            expected = 201
        assert response.status_code == expected, (label, response.content[:500])
        assert _effect(complaint, step, before) == (expected in (200, 201)), label


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_reassign(api, org, book, persona):
    client = api(getattr(org, persona))
    for label, complaint in book.complaints.items():
        target = _new_owner(org, label)
        response = client.post(
            f"/api/v1/complaints/{complaint.pk}/reassign/", {"owner": target.pk}, format="json"
        )
        complaint.refresh_from_db()
        expected = _expected(persona, label, REASSIGNABLE)
        assert response.status_code == expected, (label, response.content[:500])
        assert (complaint.owner == target) == (expected == 200), label
