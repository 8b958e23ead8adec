"""Complaints on the client timeline (see ``clients.timeline``), registered in
``ClientsConfig.ready()``: one entry per complaint, when it was received, with
where it stands. One query through ``visible_to``, however many complaints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from clients.timeline import TimelineEntry

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client


def complaint_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    from clients.models import Complaint

    complaints = (
        Complaint.objects.visible_to(user)
        .filter(client=client)
        .select_related("owner")
        .order_by("-received_at", "-pk")[:limit]
    )
    for complaint in complaints:
        facts = [
            complaint.get_severity_display(),
            complaint.get_status_display(),
            Truncator(complaint.description).chars(120),
        ]
        if complaint.escalation_level:
            facts.insert(2, _("escalated: level %(level)s") % {"level": complaint.escalation_level})
        yield TimelineEntry(
            at=complaint.received_at,
            kind="complaint",
            title=_("Complaint: %(subject)s") % {"subject": complaint.subject},
            url=complaint.get_absolute_url(),
            summary=" · ".join(str(f) for f in facts if f),
            icon="⚠",
            actor=str(complaint.owner),
        )


def register_providers() -> None:
    from clients.timeline import register

    register(complaint_entries)
