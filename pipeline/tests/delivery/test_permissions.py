"""Who may see and do what with quotes, contracts and projects: every persona, pages and API.

The East book belongs to ``rep`` (deal, quote) and ``am`` (contract, project).
A quote follows its deal (owner and the client's account manager); a contract
and a project are their owner's and the client's account manager's. People
outside that line get 404 and see nothing in lists and exports.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from pipeline.models import Contract, ContractStatus, Project, Quote
from tests.personas import Org

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
VISIBLE = {
    "quote": {"director", "manager", "am", "rep", "support"},
    "contract": {"director", "manager", "am", "support"},
    "project": {"director", "manager", "am", "support"},
}
CHANGE = {
    "quote": {"director", "manager", "am", "rep"},
    "contract": {"director", "manager", "am"},
    "project": {"director", "manager", "am"},
}
DELETE = {
    "quote": {"director", "manager", "am"},
    "contract": {"director", "manager"},
    "project": {"director", "manager", "am"},
}
#: Who sees the North book (owned by ``outsider``, account manager ``peer_am``).
NORTH = {
    "quote": {"director", "peer_manager", "peer_am", "outsider"},
    "contract": {"director", "peer_manager", "peer_am"},
    "project": {"director", "peer_manager", "peer_am"},
}
#: Roles holding the role permission at all (the API checks it before looking the record up).
ROLE_CHANGE = {
    "quote": {
        "director",
        "manager",
        "am",
        "rep",
        "peer_rep",
        "peer_manager",
        "peer_am",
        "outsider",
    },
    "contract": {"director", "manager", "am", "peer_manager", "peer_am"},
    "project": {"director", "manager", "am", "peer_manager", "peer_am"},
}
ROLE_DELETE = {
    "quote": {"director", "manager", "am", "peer_manager", "peer_am"},
    "contract": {"director", "manager", "peer_manager"},
    "project": {"director", "manager", "am", "peer_manager", "peer_am"},
}


def page_status(kind: str, persona: str, rights: dict[str, set[str]]) -> int:
    if persona not in VISIBLE[kind]:
        return 404
    return 200 if persona in rights[kind] else 403


def api_status(kind: str, persona: str, role: dict, rights: dict, ok: int) -> int:
    """404 for a record the persona cannot see (whatever their role), then 403
    without the role permission or the right on the record."""
    if persona not in VISIBLE[kind]:
        return 404
    if persona not in role[kind]:
        return 403
    return ok if persona in rights[kind] else 403


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ------------------------------------------------------------------------ pages
@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_show_only_visible_records(login, org: Org, east, north, persona):
    client = login(getattr(org, persona))
    quotes = client.get(reverse("pipeline:quote-list")).content.decode()
    assert (f'data-quote="{east.quote.number}-1"' in quotes) == (persona in VISIBLE["quote"])
    assert (f'data-quote="{north.quote.number}-1"' in quotes) == (persona in NORTH["quote"])
    contracts = client.get(reverse("pipeline:contract-list")).content.decode()
    assert (f'data-contract="{east.contract.number}"' in contracts) == (
        persona in VISIBLE["contract"]
    )
    projects = client.get(reverse("pipeline:project-list")).content.decode()
    assert (f'data-project="{east.project.pk}"' in projects) == (persona in VISIBLE["project"])
    overdue = client.get(reverse("pipeline:milestones-overdue")).content.decode()
    assert (f'data-milestone="{east.milestone.pk}"' in overdue) == (persona in VISIBLE["project"])
    renewals = client.get(reverse("pipeline:renewal-list")).content.decode()
    assert (f'data-contract="{east.contract.number}"' in renewals) == (
        persona in VISIBLE["contract"]
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_csv_exports_hold_only_visible_records(login, org: Org, east, north, persona):
    client = login(getattr(org, persona))
    for name, marker, kind in (
        ("pipeline:quote-list", east.quote.number, "quote"),
        ("pipeline:contract-list", east.contract.number, "contract"),
        ("pipeline:project-list", east.project.name, "project"),
        ("pipeline:milestones-overdue", east.milestone.name, "project"),
    ):
        response = client.get(reverse(name), {"export": "csv"})
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode()
        assert (marker in body) == (persona in VISIBLE[kind]), name
        assert ("North" in body) == (persona in NORTH[kind]), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_pages(login, org: Org, east, persona):
    client = login(getattr(org, persona))
    seen = {kind: 200 if persona in VISIBLE[kind] else 404 for kind in VISIBLE}
    assert (
        client.get(reverse("pipeline:quote-detail", args=[east.quote.pk])).status_code
        == (seen["quote"])
    )
    assert (
        client.get(reverse("pipeline:quote-print", args=[east.quote.pk])).status_code
        == (seen["quote"])
    )
    assert (
        client.get(reverse("pipeline:contract-detail", args=[east.contract.pk])).status_code
        == (seen["contract"])
    )
    assert (
        client.get(reverse("pipeline:project-detail", args=[east.project.pk])).status_code
        == (seen["project"])
    )
    assert (
        client.get(reverse("pipeline:project-timeline", args=[east.project.pk])).status_code
        == (seen["project"])
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_pages(login, org: Org, east, persona):
    client = login(getattr(org, persona))
    for name, pk, kind in (
        ("pipeline:quote-edit", east.quote.pk, "quote"),
        ("pipeline:contract-edit", east.contract.pk, "contract"),
        ("pipeline:project-edit", east.project.pk, "project"),
    ):
        expected = page_status(kind, persona, CHANGE)
        if kind == "contract" and expected == 200:
            expected = 302  # an active contract's terms are fixed: back to the page with a reason
        assert client.get(reverse(name, args=[pk])).status_code == expected, name


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_pages(login, org: Org, east, persona):
    user = getattr(org, persona)
    client = login(user)
    for name, deal, perm in (
        ("pipeline:quote-create", east.deal, "pipeline.add_quote"),
        ("pipeline:contract-create", east.won_deal, "pipeline.add_contract"),
        ("pipeline:project-create", east.won_deal, "pipeline.add_project"),
    ):
        status = client.get(reverse(name, args=[deal.pk])).status_code
        if not user.has_perm(perm):
            assert status == 403, name
        elif persona in {"director", "manager", "am", "rep"}:
            assert status == 200, name
        else:
            assert status == 404, name


@pytest.mark.parametrize("persona", PERSONAS)
def test_workflow_posts(login, org: Org, east, persona):
    """One state-changing POST per area: a hidden record is 404, a read-only one 403."""
    client = login(getattr(org, persona))
    response = client.post(reverse("pipeline:quote-action", args=[east.quote.pk, "send"]))
    expected = page_status("quote", persona, CHANGE)
    assert response.status_code == (302 if expected == 200 else expected)
    east.quote.refresh_from_db()
    assert (east.quote.status == Quote.Status.SENT) == (expected == 200)

    response = client.post(
        reverse("pipeline:contract-transition", args=[east.contract.pk]), {"status": "expired"}
    )
    expected = page_status("contract", persona, CHANGE)
    assert response.status_code == (302 if expected == 200 else expected)
    east.contract.refresh_from_db()
    assert (east.contract.status == ContractStatus.EXPIRED) == (expected == 200)

    response = client.post(
        reverse("pipeline:project-transition", args=[east.project.pk]), {"status": "on_hold"}
    )
    expected = page_status("project", persona, CHANGE)
    assert response.status_code == (302 if expected == 200 else expected)
    east.project.refresh_from_db()
    assert (east.project.status == Project.Status.ON_HOLD) == (expected == 200)

    response = client.post(reverse("pipeline:task-toggle", args=[east.task.pk]), {"done": "1"})
    assert response.status_code == (302 if expected == 200 else expected)
    east.task.refresh_from_db()
    assert east.task.done == (expected == 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_posts(login, org: Org, east, persona):
    client = login(getattr(org, persona))
    east.contract.status = ContractStatus.DRAFT
    east.contract.save()
    for name, model, pk, kind in (
        ("pipeline:quote-action", Quote, east.quote.pk, "quote"),
        ("pipeline:contract-delete", Contract, east.contract.pk, "contract"),
        ("pipeline:project-delete", Project, east.project.pk, "project"),
    ):
        args = [pk, "delete"] if kind == "quote" else [pk]
        response = client.post(reverse(name, args=args))
        expected = page_status(kind, persona, DELETE)
        assert response.status_code == (302 if expected == 200 else expected), (name, persona)
        assert model.objects.filter(pk=pk).exists() == (expected != 200), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_contract_files(login, org: Org, east, persona, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from pipeline.models import ContractFile

    settings.MEDIA_ROOT = tmp_path
    stored = ContractFile.objects.create(
        contract=east.contract,
        title="signed copy",
        file=SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed"),
    )
    user = getattr(org, persona)
    client = login(user)
    response = client.get(reverse("pipeline:contract-file-download", args=[stored.pk]))
    if persona in VISIBLE["contract"]:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 signed"
    else:
        assert response.status_code == 404
    upload = SimpleUploadedFile("annex.pdf", b"%PDF-1.4 annex")
    response = client.post(
        reverse("pipeline:contract-file-upload", args=[east.contract.pk]),
        {"title": "Annex", "file": upload},
    )
    if not user.has_perm("pipeline.add_contractfile"):
        assert response.status_code == 403
    elif persona in VISIBLE["contract"]:
        assert response.status_code == 302
        assert east.contract.files.filter(title="Annex").exists()
    else:
        assert response.status_code == 404


def test_approval_list_needs_the_approval_permission(login, org: Org):
    for persona in PERSONAS:
        status = login(getattr(org, persona)).get(reverse("pipeline:approval-list")).status_code
        may = persona in {"director", "manager", "peer_manager"}
        assert status == (200 if may else 403), persona


# -------------------------------------------------------------------------- API
ENDPOINTS = {"quote": "quotes", "contract": "contracts", "project": "projects"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_list_and_retrieve(org: Org, east, north, persona):
    client = api(getattr(org, persona))
    for kind, endpoint in ENDPOINTS.items():
        record = getattr(east, kind)
        body = client.get(f"/api/v1/{endpoint}/?page_size=100").json()
        ids = {row["id"] for row in body["results"]}
        assert (record.pk in ids) == (persona in VISIBLE[kind]), (kind, persona)
        assert (getattr(north, kind).pk in ids) == (persona in NORTH[kind]), (kind, persona)
        status = client.get(f"/api/v1/{endpoint}/{record.pk}/").status_code
        assert status == (200 if persona in VISIBLE[kind] else 404), (kind, persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_update(org: Org, east, persona):
    client = api(getattr(org, persona))
    east.contract.status = ContractStatus.DRAFT
    east.contract.save()
    changes = {
        "quote": {"notes": "Delivery in May."},
        "contract": {"payment_terms": "30% upfront"},
        "project": {"goals": "Go live by June."},
    }
    for kind, endpoint in ENDPOINTS.items():
        record = getattr(east, kind)
        record.refresh_from_db()
        response = client.patch(
            f"/api/v1/{endpoint}/{record.pk}/",
            {**changes[kind], "version": record.version},
            format="json",
        )
        expected = api_status(kind, persona, ROLE_CHANGE, CHANGE, 200)
        assert response.status_code == expected, (kind, persona, response.content)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_delete(org: Org, east, persona):
    client = api(getattr(org, persona))
    east.contract.status = ContractStatus.DRAFT
    east.contract.save()
    for kind, endpoint in ENDPOINTS.items():
        record = getattr(east, kind)
        response = client.delete(f"/api/v1/{endpoint}/{record.pk}/")
        expected = api_status(kind, persona, ROLE_DELETE, DELETE, 204)
        assert response.status_code == expected, (kind, persona)
        assert type(record).objects.filter(pk=record.pk).exists() == (expected != 204)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_create(org: Org, east, persona):
    user = getattr(org, persona)
    client = api(user)
    payloads = {
        "quote": {
            "deal": east.deal.pk,
            "lines": [{"description": "Setup", "quantity": "1", "unit_price": "100.00"}],
        },
        "contract": {
            "deal": east.won_deal.pk,
            "amount": "1000.00",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
        "project": {"deal": east.won_deal.pk, "name": "Go-live"},
    }
    for kind, endpoint in ENDPOINTS.items():
        response = client.post(f"/api/v1/{endpoint}/", payloads[kind], format="json")
        if not user.has_perm(f"pipeline.add_{kind}"):
            assert response.status_code == 403, (kind, persona)
        elif persona in {"director", "manager", "am", "rep"}:
            assert response.status_code == 201, (kind, persona, response.content)
        else:  # the deal is not theirs to see: it reads as an unknown id
            assert response.status_code == 400 and "deal" in response.json(), (kind, persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_actions(org: Org, east, persona):
    client = api(getattr(org, persona))
    response = client.post(f"/api/v1/quotes/{east.quote.pk}/revise/")
    expected = api_status("quote", persona, ROLE_CHANGE, CHANGE, 201)
    assert response.status_code == expected, persona
    response = client.post(
        f"/api/v1/contracts/{east.contract.pk}/transition/", {"status": "expired"}, format="json"
    )
    assert response.status_code == api_status("contract", persona, ROLE_CHANGE, CHANGE, 200)
    response = client.post(f"/api/v1/contracts/{east.contract.pk}/renew/", {}, format="json")
    assert response.status_code == api_status("contract", persona, ROLE_CHANGE, CHANGE, 201)
    response = client.post(
        f"/api/v1/projects/{east.project.pk}/transition/", {"status": "on_hold"}, format="json"
    )
    assert response.status_code == api_status("project", persona, ROLE_CHANGE, CHANGE, 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_project_milestones_and_tasks(org: Org, east, persona):
    client = api(getattr(org, persona))
    base = f"/api/v1/projects/{east.project.pk}"
    listing = client.get(f"{base}/milestones/")
    assert listing.status_code == (200 if persona in VISIBLE["project"] else 404)
    if listing.status_code == 200:
        assert [m["id"] for m in listing.json()["results"]] == [east.milestone.pk]
    response = client.post(
        f"{base}/milestones/",
        {"name": "Training", "owner": east.project.owner_id, "due_date": "2030-01-01"},
        format="json",
    )
    assert response.status_code == api_status("project", persona, ROLE_CHANGE, CHANGE, 201)
    response = client.patch(f"{base}/tasks/{east.task.pk}/", {"done": True}, format="json")
    assert response.status_code == api_status("project", persona, ROLE_CHANGE, CHANGE, 200)


def test_the_openapi_schema_describes_the_endpoints_and_actions(client):
    text = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/quotes/{id}/request-approval/",
        "/api/v1/quotes/{id}/approve/",
        "/api/v1/quotes/{id}/reject/",
        "/api/v1/quotes/{id}/send/",
        "/api/v1/quotes/{id}/accept/",
        "/api/v1/quotes/{id}/revise/",
        "/api/v1/contracts/{id}/transition/",
        "/api/v1/contracts/{id}/renew/",
        "/api/v1/contracts/{id}/files/",
        "/api/v1/projects/{id}/transition/",
        "/api/v1/projects/{project_pk}/milestones/{id}/",
        "/api/v1/projects/{project_pk}/tasks/{id}/",
    ):
        assert f"{path}:" in text, path
    for enum in ("QuoteStatusEnum", "ContractStatusEnum", "ProjectStatusEnum"):
        assert enum in text
