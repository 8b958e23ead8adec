"""Every persona × {list, retrieve, create, update, delete, share, export}, for
clients and contacts, through the pages and the API.

The expectations are written out per persona (not derived from the code under
test): who sees which client, who may delete, who may share.
"""

from __future__ import annotations

import pytest
from guardian.shortcuts import get_perms

from clients.models import Client, Contact

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
ALL = {"rep", "peer_rep", "am", "outsider", "north_am"}
EAST = {"rep", "peer_rep", "am"}
NORTH = {"outsider", "north_am"}

#: Which clients (by owner label, see conftest.OWNERS) each persona sees.
VISIBLE = {
    "director": ALL,
    "manager": EAST,
    "am": EAST,
    "rep": {"rep"},
    "peer_rep": {"peer_rep"},
    "support": EAST,
    "peer_manager": NORTH,
    "peer_am": NORTH,
    "outsider": {"outsider"},
}
#: Clients each persona may delete (managers and the director, in their subtree).
DELETABLE = {"director": ALL, "manager": EAST, "peer_manager": NORTH}
#: Clients each persona may share: the owner, anyone above the owner, the director;
#: never support staff.
SHAREABLE = {
    "director": ALL,
    "manager": EAST,
    "am": EAST,
    "rep": {"rep"},
    "peer_rep": {"peer_rep"},
    "peer_manager": NORTH,
    "peer_am": NORTH,
    "outsider": {"outsider"},
}


def _ids_in(html: str, book) -> set[str]:
    return {label for label, c in book.clients.items() if f'data-client-id="{c.pk}"' in html}


def _expected(persona: str, label: str, allowed: dict[str, set[str]]) -> int:
    """403 when the persona sees the client but may not do this, 404 when it does not see it."""
    if label not in VISIBLE[persona]:
        return 404
    return 200 if label in allowed.get(persona, set()) else 403


def _receiver(org, persona: str, client: Client):
    """Someone to share with who is neither the actor nor the owner."""
    return next(
        u
        for u in (org.support, org.peer_am, org.peer_rep)
        if u.pk not in (getattr(org, persona).pk, client.owner_id)
    )


# ------------------------------------------------------------------------ pages
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_search_show_only_visible_clients(login, org, book, persona):
    client = login(getattr(org, persona))
    html = client.get("/clients/").content.decode()
    assert _ids_in(html, book) == VISIBLE[persona]
    # Searching for every client by its contact's name finds only the visible ones.
    html = client.get("/clients/", {"search": "contact@example"}).content.decode()
    assert _ids_in(html, book) == VISIBLE[persona]
    for label, c in book.clients.items():
        html = client.get("/clients/", {"search": c.name}).content.decode()
        assert _ids_in(html, book) == ({label} & VISIBLE[persona]), label


@pytest.mark.parametrize("persona", PERSONAS)
def test_retrieve_page(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, c in book.clients.items():
        response = client.get(f"/clients/{c.pk}/")
        assert response.status_code == (200 if label in VISIBLE[persona] else 404), label
        history = client.get(f"/clients/{c.pk}/history/")
        assert history.status_code == (200 if label in VISIBLE[persona] else 404), label


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_page_makes_the_creator_the_owner(login, org, book, persona):
    user = getattr(org, persona)
    client = login(user)
    assert client.get("/clients/new/").status_code == 200
    response = client.post(
        "/clients/new/",
        {
            "name": f"New for {persona}",
            "status": "prospect",
            "source": "other",
            "cadence": "monthly",
        },
    )
    created = Client.objects.get(name=f"New for {persona}")
    assert response.status_code == 302 and response["Location"] == f"/clients/{created.pk}/"
    assert created.owner == user and created.created_by == user


@pytest.mark.parametrize("persona", PERSONAS)
def test_update_page(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, c in book.clients.items():
        get_status = client.get(f"/clients/{c.pk}/edit/").status_code
        expected = 200 if label in VISIBLE[persona] else 404
        assert get_status == expected, label
        response = client.post(
            f"/clients/{c.pk}/edit/",
            {
                "name": f"{c.name} (edited by {persona})",
                "status": c.status,
                "source": c.source,
                "cadence": c.cadence,
                "version": c.version,
            },
        )
        c.refresh_from_db()
        if expected == 200:
            assert response.status_code == 302, (label, response.content[:2000])
            assert c.name.endswith(f"(edited by {persona})")
        else:
            assert response.status_code == 404
            assert "edited" not in c.name


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_page(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, c in book.clients.items():
        expected = _expected(persona, label, DELETABLE)
        assert client.get(f"/clients/{c.pk}/delete/").status_code == expected, label
        response = client.post(f"/clients/{c.pk}/delete/")
        exists = Client.objects.filter(pk=c.pk).exists()
        if expected == 200:
            assert response.status_code == 302 and not exists, label
        else:
            assert response.status_code == expected and exists, label


@pytest.mark.parametrize("persona", PERSONAS)
def test_share_page(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, c in book.clients.items():
        receiver = _receiver(org, persona, c)
        expected = _expected(persona, label, SHAREABLE)
        response = client.post(f"/clients/{c.pk}/share/", {"user": receiver.pk, "level": "view"})
        granted = "view_client" in get_perms(receiver, c)
        if expected == 200:
            assert response.status_code == 302 and granted, label
        else:
            assert response.status_code == expected and not granted, label


@pytest.mark.parametrize("persona", PERSONAS)
def test_export_contains_only_visible_clients(login, org, book, persona):
    client = login(getattr(org, persona))
    response = client.get("/clients/", {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    seen = {label for label, c in book.clients.items() if f"{c.name}," in body}
    assert seen == VISIBLE[persona]
    xlsx = client.get("/clients/", {"export": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_pages(login, org, book, persona):
    client = login(getattr(org, persona))
    for label, c in book.clients.items():
        contact = book.contacts[label]
        expected = 200 if label in VISIBLE[persona] else 404
        assert client.get(f"/clients/{c.pk}/contacts/new/").status_code == expected
        added = client.post(f"/clients/{c.pk}/contacts/new/", {"name": f"Added by {persona}"})
        assert added.status_code == (302 if expected == 200 else 404), label
        assert Contact.objects.filter(client=c, name=f"Added by {persona}").exists() == (
            expected == 200
        )
        edited = client.post(
            f"/clients/contacts/{contact.pk}/edit/",
            {"name": f"{contact.name} ({persona})", "version": contact.version},
        )
        assert edited.status_code == (302 if expected == 200 else 404), label
        contact.refresh_from_db()
        assert contact.name.endswith(f"({persona})") == (expected == 200)
        extra = Contact.objects.create(client=c, name="to delete")
        deleted = client.post(f"/clients/contacts/{extra.pk}/delete/")
        assert deleted.status_code == (302 if expected == 200 else 404), label
        assert Contact.objects.filter(pk=extra.pk).exists() == (expected != 200)


# -------------------------------------------------------------------------- API
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_list_search_and_retrieve(api, org, book, persona):
    client = api(getattr(org, persona))
    body = client.get("/api/v1/clients/").json()
    assert {book.label_of(r["id"]) for r in body["results"]} == VISIBLE[persona]
    body = client.get("/api/v1/clients/", {"search": "contact@example"}).json()
    assert {book.label_of(r["id"]) for r in body["results"]} == VISIBLE[persona]
    for label, c in book.clients.items():
        status = client.get(f"/api/v1/clients/{c.pk}/").status_code
        assert status == (200 if label in VISIBLE[persona] else 404), label
    contacts = client.get("/api/v1/contacts/").json()["results"]
    assert {book.label_of(r["client"]) for r in contacts} == VISIBLE[persona]
    for label, contact in book.contacts.items():
        status = client.get(f"/api/v1/contacts/{contact.pk}/").status_code
        assert status == (200 if label in VISIBLE[persona] else 404), label


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_create(api, org, book, persona):
    user = getattr(org, persona)
    client = api(user)
    response = client.post("/api/v1/clients/", {"name": f"API {persona}"}, format="json")
    assert response.status_code == 201, response.content
    created = Client.objects.get(pk=response.json()["id"])
    assert created.owner == user and response.json()["owner"] == user.pk
    for label, c in book.clients.items():
        response = client.post(
            "/api/v1/contacts/", {"client": c.pk, "name": f"API {persona}"}, format="json"
        )
        # A client the caller cannot see reads as "does not exist": 400, nothing created.
        assert response.status_code == (201 if label in VISIBLE[persona] else 400), label
        assert Contact.objects.filter(client=c, name=f"API {persona}").exists() == (
            label in VISIBLE[persona]
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_update(api, org, book, persona):
    client = api(getattr(org, persona))
    for label, c in book.clients.items():
        response = client.patch(
            f"/api/v1/clients/{c.pk}/",
            {"industry": f"Edited by {persona}", "version": c.version},
            format="json",
        )
        c.refresh_from_db()
        visible = label in VISIBLE[persona]
        assert response.status_code == (200 if visible else 404), label
        assert (c.industry == f"Edited by {persona}") == visible
        contact = book.contacts[label]
        response = client.patch(
            f"/api/v1/contacts/{contact.pk}/",
            {"title": f"Edited by {persona}", "version": contact.version},
            format="json",
        )
        contact.refresh_from_db()
        assert response.status_code == (200 if visible else 404), label
        assert (contact.title == f"Edited by {persona}") == visible


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_delete(api, org, book, persona):
    client = api(getattr(org, persona))
    for label, c in book.clients.items():
        extra = Contact.objects.create(client=c, name="to delete")
        response = client.delete(f"/api/v1/contacts/{extra.pk}/")
        visible = label in VISIBLE[persona]
        assert response.status_code == (204 if visible else 404), label
        assert Contact.objects.filter(pk=extra.pk).exists() != visible
        expected = _expected(persona, label, DELETABLE)
        response = client.delete(f"/api/v1/clients/{c.pk}/")
        assert response.status_code == {200: 204}.get(expected, expected), label
        assert Client.objects.filter(pk=c.pk).exists() == (expected != 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_share(api, org, book, persona):
    client = api(getattr(org, persona))
    for label, c in book.clients.items():
        receiver = _receiver(org, persona, c)
        expected = _expected(persona, label, SHAREABLE)
        response = client.post(
            f"/api/v1/clients/{c.pk}/share/", {"user": receiver.pk, "level": "edit"}, format="json"
        )
        assert response.status_code == expected, (label, response.content)
        granted = get_perms(receiver, c)
        if expected == 200:
            assert set(granted) == {"view_client", "change_client"}
            assert {s["user"] for s in response.json()} == {receiver.pk}
            unshare = client.post(
                f"/api/v1/clients/{c.pk}/unshare/", {"user": receiver.pk}, format="json"
            )
            assert unshare.status_code == 200 and unshare.json() == []
            assert get_perms(receiver, c) == []
        else:
            assert granted == []
