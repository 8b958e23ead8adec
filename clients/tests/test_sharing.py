"""Sharing a client and assigning its dedicated account manager."""

from __future__ import annotations

import pytest
from django.core import mail

from clients import services
from clients.models import Client, ClientUserObjectPermission

pytestmark = pytest.mark.django_db


def test_a_share_grants_and_a_revoke_removes_visibility_on_the_next_request(
    login, org, book, django_capture_on_commit_callbacks
):
    client = book.clients["rep"]
    peer = login(org.peer_rep)
    assert peer.get(f"/clients/{client.pk}/").status_code == 404
    owner = login(org.rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            f"/clients/{client.pk}/share/", {"user": org.peer_rep.pk, "level": "view"}
        )
    assert response.status_code == 302 and response["Location"].endswith("#sharing")
    assert ClientUserObjectPermission.objects.filter(user=org.peer_rep).count() == 1
    assert mail.outbox and "shared Firm of rep with you" in mail.outbox[0].subject
    html = owner.get(f"/clients/{client.pk}/").content.decode()
    assert 'data-share-user="peer_rep"' in html and "can view" in html

    peer = login(org.peer_rep)
    assert peer.get(f"/clients/{client.pk}/").status_code == 200
    listing = peer.get("/clients/").content.decode()
    assert f'data-client-id="{client.pk}"' in listing
    assert "shared with you to view" in peer.get(f"/clients/{client.pk}/").content.decode()
    # View only: no edit, no delete, no sharing further.
    assert peer.get(f"/clients/{client.pk}/edit/").status_code == 403
    assert peer.post(f"/clients/{client.pk}/share/", {"user": org.am.pk}).status_code == 403

    owner = login(org.rep)
    response = owner.post(f"/clients/{client.pk}/share/{org.peer_rep.pk}/revoke/")
    assert response.status_code == 302
    peer = login(org.peer_rep)
    assert peer.get(f"/clients/{client.pk}/").status_code == 404
    assert f'data-client-id="{client.pk}"' not in peer.get("/clients/").content.decode()


def test_an_edit_share_lets_them_edit_but_not_delete(login, org, book):
    client = book.clients["rep"]
    services.client_share(by=org.manager, client=client, user=org.outsider, level="edit")
    outsider = login(org.outsider)
    response = outsider.post(
        f"/clients/{client.pk}/edit/",
        {
            "name": "Shared and edited",
            "status": client.status,
            "source": client.source,
            "cadence": client.cadence,
            "version": client.version,
        },
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Shared and edited"
    assert outsider.post(f"/clients/{client.pk}/delete/").status_code == 403
    assert Client.objects.filter(pk=client.pk).exists()


def test_changing_a_share_level_replaces_it(org, book):
    client = book.clients["rep"]
    services.client_share(by=org.rep, client=client, user=org.peer_rep, level="edit")
    services.client_share(by=org.rep, client=client, user=org.peer_rep, level="view")
    shares = services.client_shares(client)
    assert [(s.user, s.level) for s in shares] == [(org.peer_rep, "view")]


def test_sharing_with_the_owner_or_an_inactive_person_is_explained(org, book):
    client = book.clients["rep"]
    with pytest.raises(services.ValidationError, match="already has this client"):
        services.client_share(by=org.manager, client=client, user=org.rep, level="view")
    org.peer_rep.is_active = False
    org.peer_rep.save()
    with pytest.raises(services.ValidationError, match="Only active people"):
        services.client_share(by=org.rep, client=client, user=org.peer_rep, level="view")


def test_the_dedicated_account_manager_of_a_client_may_not_share_it(org, book):
    """Sharing belongs to the owner's line; a dedicated AM from elsewhere is not in it."""
    client = book.clients["outsider"]
    client.account_manager = org.am
    client.save()
    assert not services.can_share(org.am, client)
    with pytest.raises(services.PermissionDenied):
        services.client_share(by=org.am, client=client, user=org.rep, level="view")


def test_a_manager_assigns_the_account_manager(
    login, org, book, django_capture_on_commit_callbacks
):
    client = book.clients["rep"]
    manager = login(org.manager)
    html = manager.get(f"/clients/{client.pk}/").content.decode()
    assert 'data-testid="assign-am-form"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            f"/clients/{client.pk}/account-manager/",
            {"account_manager": org.am.pk, "version": client.version},
        )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.account_manager == org.am
    assert any("account manager of Firm of rep" in m.subject for m in mail.outbox)
    newest = client.history.order_by("-history_id").first()
    assert newest.history_change_reason == f"Account manager set to {org.am}"
    # Someone who is not an account manager, or one the manager cannot see, is refused.
    for wrong in (org.rep, org.peer_am):
        response = manager.post(
            f"/clients/{client.pk}/account-manager/",
            {"account_manager": wrong.pk, "version": client.version},
        )
        client.refresh_from_db()
        assert client.account_manager == org.am
    # Removing the AM.
    manager.post(f"/clients/{client.pk}/account-manager/", {"version": client.version})
    client.refresh_from_db()
    assert client.account_manager is None


def test_only_those_allowed_assign_account_managers(login, org, book):
    client = book.clients["rep"]
    for persona in ("rep", "am", "support"):
        page = login(getattr(org, persona))
        assert 'data-testid="assign-am-form"' not in (
            page.get(f"/clients/{client.pk}/").content.decode()
        )
        response = page.post(
            f"/clients/{client.pk}/account-manager/",
            {"account_manager": org.am.pk, "version": client.version},
        )
        assert response.status_code == 403, persona
    assert (
        login(org.peer_manager)
        .post(f"/clients/{client.pk}/account-manager/", {"account_manager": org.peer_am.pk})
        .status_code
        == 404
    )
    client.refresh_from_db()
    assert client.account_manager is None


def test_assigning_the_account_manager_makes_the_client_theirs(login, org, book):
    client = book.clients["outsider"]
    assert login(org.peer_am).get(f"/clients/{client.pk}/").status_code == 200
    services.client_assign_account_manager(by=org.director, client=client, account_manager=org.am)
    assert login(org.am).get(f"/clients/{client.pk}/").status_code == 200
    assert login(org.manager).get(f"/clients/{client.pk}/").status_code == 200
