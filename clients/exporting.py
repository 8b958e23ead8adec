"""Export clients with their contacts, in the columns the import reads back.

One row per contact (a client without contacts gets one row with the contact
columns empty), client columns repeated — exactly what ``clients.importing``
accepts, so an exported file re-imports as updates, not duplicates. Cells that
a spreadsheet would run as a formula are neutralised (``safe_cell``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpResponse, StreamingHttpResponse

from accounts.models import User
from clients.columns import CLIENT, COLUMNS, Column
from clients.models import Client, ClientSource, ClientStatus, Contact
from salesorg.lib.export import csv_response, xlsx_response

CHUNK = 500


def filter_clients(qs: QuerySet[Client], params: Mapping[str, str]) -> QuerySet[Client]:
    """The client list's search and simple filters (``q``, status, source, industry, owner)."""
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(registration_number__icontains=q)
            | Q(phone__icontains=q)
            | Q(email__icontains=q)
            | Q(
                pk__in=Contact.objects.filter(
                    Q(name__icontains=q) | Q(phone__icontains=q) | Q(email__icontains=q)
                ).values("client_id")
            )
        )
    if params.get("status") in ClientStatus.values:
        qs = qs.filter(status=params["status"])
    if params.get("source") in ClientSource.values:
        qs = qs.filter(source=params["source"])
    if params.get("industry"):
        qs = qs.filter(industry__iexact=params["industry"].strip())
    owner = params.get("owner") or ""
    if owner.isdigit():
        qs = qs.filter(owner_id=int(owner))
    return qs


def export_queryset(user: User, params: Mapping[str, str]) -> QuerySet[Client]:
    """What ``user`` may export: their visible clients, filtered like the list."""
    return (
        filter_clients(Client.objects.visible_to(user), params)
        .select_related("owner", "account_manager", "region")
        .prefetch_related(
            "tags",
            Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "name", "pk")),
        )
        .order_by("name", "pk")
    )


def _client_value(client: Client, column: Column) -> Any:
    name = column.field
    if name in ("owner", "account_manager"):
        person = getattr(client, name)
        return person.username if person else ""
    if name == "region":
        return client.region.name if client.region else ""
    if name == "tags":
        return ", ".join(t.name for t in client.tags.all())
    if name in ("status", "source", "cadence", "segment"):
        return getattr(client, f"get_{name}_display")() if getattr(client, name) else ""
    return getattr(client, name)


def _contact_value(contact: Contact | None, column: Column) -> Any:
    if contact is None:
        return ""
    name = column.field
    if name == "is_primary":
        return _yes_no(contact.is_primary)
    if name == "decision_role":
        return contact.get_decision_role_display() if contact.decision_role else ""
    return getattr(contact, name)


def _yes_no(value: bool) -> str:
    from django.utils.translation import gettext as _

    return _("yes") if value else _("no")


def header() -> list[str]:
    return [str(c.label) for c in COLUMNS]


def rows(qs: QuerySet[Client]) -> Iterator[list[Any]]:
    """One row per contact, read in chunks so memory stays flat on big exports."""
    for client in qs.iterator(chunk_size=CHUNK):
        client_part = {c.key: _client_value(client, c) for c in COLUMNS if c.target == CLIENT}
        contacts = list(client.contacts.all()) or [None]
        for contact in contacts:
            yield [
                client_part[c.key] if c.target == CLIENT else _contact_value(contact, c)
                for c in COLUMNS
            ]


def export_response(
    user: User, params: Mapping[str, str], fmt: str
) -> HttpResponse | StreamingHttpResponse:
    qs = export_queryset(user, params)
    if fmt == "xlsx":
        return xlsx_response("clients", header(), rows(qs), sheet="Clients")
    return csv_response("clients", header(), rows(qs))
