"""Export clients with their contacts, in the columns the import reads back.

One row per contact (a client without contacts gets one row with the contact
columns empty), client columns repeated — exactly what ``clients.importing``
accepts, so an exported file re-imports as updates, not duplicates. Cells that
a spreadsheet would run as a formula are neutralised (``safe_cell``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse, QueryDict, StreamingHttpResponse

from accounts.models import User
from clients.columns import CLIENT, COLUMNS, Column
from clients.filters import ClientFilter, filtered
from clients.models import Client, Contact
from salesorg.lib.export import csv_response, xlsx_response

CHUNK = 500


def export_queryset(user: User, params: Mapping[str, str]) -> QuerySet[Client]:
    """What ``user`` may export: their visible clients, filtered exactly as the list
    filters them (``clients.filters.ClientFilter``; ``q`` is accepted for ``search``)."""
    data = QueryDict(mutable=True)
    for key in params:
        values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        data.setlist("search" if key == "q" else key, values)
    filterset = ClientFilter(
        data, queryset=Client.objects.visible_to(user), request=SimpleNamespace(user=user)
    )
    return (
        filtered(filterset)
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
