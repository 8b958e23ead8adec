"""Factories and a small book of complaints for the complaint tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import factory
from django.utils import timezone

from clients.models import Client, Complaint, Contact
from clients.tests.factories import ClientFactory, ContactFactory


class ComplaintFactory(factory.django.DjangoModelFactory):
    """A complaint as ``complaint_log`` would store it (owner: the client's AM, else owner)."""

    class Meta:
        model = Complaint

    owner = factory.LazyAttribute(lambda o: o.client.account_manager or o.client.owner)
    logged_by = factory.LazyAttribute(lambda o: o.owner)
    subject = factory.Sequence(lambda n: f"Complaint {n}")
    description = "The delivery arrived late and damaged."
    received_at = factory.LazyFunction(timezone.now)
    sla_due_at = factory.LazyAttribute(lambda o: o.received_at + timedelta(hours=24))


@dataclass
class ComplaintBook:
    """One complaint per situation; ``book.complaints["east_am"]`` etc."""

    clients: dict[str, Client]
    contacts: dict[str, Contact]
    complaints: dict[str, Complaint]


#: label -> (client owner, client account manager): whose complaint it becomes.
SITUATIONS = {
    "east_am": ("rep", "am"),  # a rep's client with a dedicated AM: the AM's complaint
    "rep_only": ("rep", None),  # no AM: the client's owner keeps it
    "peer_rep": ("peer_rep", None),
    "north": ("outsider", "peer_am"),
}


def build_book(org) -> ComplaintBook:
    clients, contacts, complaints = {}, {}, {}
    for label, (owner, am) in SITUATIONS.items():
        region = org.north if label == "north" else org.east
        client = ClientFactory(
            name=f"Firm {label}",
            owner=getattr(org, owner),
            account_manager=getattr(org, am) if am else None,
            region=region,
        )
        clients[label] = client
        contacts[label] = ContactFactory(client=client, name=f"{label} person")
        complaints[label] = ComplaintFactory(
            client=client, contact=contacts[label], subject=f"Complaint of {label}"
        )
    return ComplaintBook(clients, contacts, complaints)
