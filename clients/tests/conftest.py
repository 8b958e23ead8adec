"""Fixtures of the clients tests: one client owned by each of several personas."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from clients.models import Client, Contact
from clients.tests.factories import ClientFactory, ContactFactory


@dataclass
class Book:
    """One client per owner, each with one contact: ``book.clients["rep"]`` is rep's."""

    clients: dict[str, Client]
    contacts: dict[str, Contact]

    def label_of(self, pk: int) -> str:
        return next(label for label, c in self.clients.items() if c.pk == pk)


#: Client label -> the persona who owns it.
OWNERS = {
    "rep": "rep",
    "peer_rep": "peer_rep",
    "am": "am",
    "outsider": "outsider",
    "north_am": "peer_am",
}


@pytest.fixture
def book(org) -> Book:
    clients = {}
    contacts = {}
    for label, owner in OWNERS.items():
        region = org.north if owner in ("outsider", "peer_am") else org.east
        client = ClientFactory(name=f"Firm of {label}", owner=getattr(org, owner), region=region)
        clients[label] = client
        contacts[label] = ContactFactory(
            client=client, name=f"{label} contact", email=f"{label}.contact@example.cn"
        )
    return Book(clients, contacts)


@pytest.fixture
def api():
    def _api(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _api
