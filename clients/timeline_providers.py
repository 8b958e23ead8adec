"""This app's own entries on the client timeline: changes to the client's record
and its contacts coming and going. Registered in ``ClientsConfig.ready()``.

Each provider reads with one query, so the client page's query count does not
grow with the number of history rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _

from clients.timeline import TimelineEntry

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client

#: Fields whose change is noise on a timeline (jobs refresh them).
_QUIET_FIELDS = {"last_visit_at", "next_visit_due", "rfm_scored_at"}


def client_history_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    """ "Created", "changed: phone, status", "reverted …" from the client's history."""
    from clients.services import tracked_client_fields

    records = list(
        client.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    names = [n for n in tracked_client_fields() if n not in _QUIET_FIELDS]
    attnames = {n: client._meta.get_field(n).attname for n in names}
    url = reverse("clients:history", args=[client.pk])
    for index, record in enumerate(records[:limit]):
        older = records[index + 1] if index + 1 < len(records) else None
        actor = str(record.history_user) if record.history_user else ""
        reason = record.history_change_reason or ""
        if record.history_type == "+":
            yield TimelineEntry(
                at=record.history_date,
                kind="client",
                title=_("Client created"),
                url=url,
                summary=reason,
                icon="✚",
                actor=actor,
            )
            continue
        if older is None:
            changed: list[str] = []
        else:
            changed = [
                str(client._meta.get_field(n).verbose_name)
                for n in names
                if getattr(record, attnames[n]) != getattr(older, attnames[n])
            ]
        if not changed and not reason and older is not None:
            # Only derived figures or tags moved: say so briefly.
            changed = [_("tags or derived figures")]
        yield TimelineEntry(
            at=record.history_date,
            kind="client",
            title=_("Client changed"),
            url=url,
            summary=reason or ", ".join(changed),
            icon="✎",
            actor=actor,
        )


def contact_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    """Contacts added to and removed from the client."""
    from clients.models import Contact

    records = (
        Contact.history.filter(client_id=client.pk, history_type__in=["+", "-"])
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
    for record in records:
        added = record.history_type == "+"
        yield TimelineEntry(
            at=record.history_date,
            kind="contact",
            title=(_("Contact added: %(name)s") if added else _("Contact removed: %(name)s"))
            % {"name": record.name},
            summary=" · ".join(v for v in (record.title, record.phone, record.email) if v),
            icon="👤" if added else "✕",
            actor=str(record.history_user) if record.history_user else "",
        )


def register_providers() -> None:
    from clients.timeline import register

    register(client_history_entries)
    register(contact_entries)
