"""The pipeline's entries on a client's timeline (``clients.timeline``).

Each area keeps its providers in one block below; each provider reads through
``visible_to(user)`` with one query, newest first, at most ``limit`` rows.
Registered when this module is imported from ``PipelineConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from clients.timeline import TimelineEntry, register

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client


# ---- quotes, contracts and delivery projects (pipeline-quotes) --------------------
def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@register
def quote_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    from pipeline.models import Quote

    quotes = (
        Quote.objects.visible_to(user)
        .filter(deal__client=client)
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )
    for quote in quotes:
        yield TimelineEntry(
            at=quote.sent_at or quote.created_at,
            kind="quote",
            title=_("Quote %(quote)s: %(status)s")
            % {"quote": quote, "status": quote.get_status_display()},
            url=quote.get_absolute_url(),
            summary=f"{quote.total:,.2f} {quote.currency}",
            icon="🧾",
            actor=str(quote.created_by or ""),
        )


@register
def contract_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    from pipeline.models import Contract

    contracts = (
        Contract.objects.visible_to(user)
        .filter(client=client)
        .select_related("owner")
        .order_by("-created_at")[:limit]
    )
    for contract in contracts:
        yield TimelineEntry(
            at=_day_start(contract.signed_on) if contract.signed_on else contract.created_at,
            kind="contract",
            title=_("Contract %(number)s: %(status)s")
            % {"number": contract.number, "status": contract.get_status_display()},
            url=contract.get_absolute_url(),
            summary=f"{contract.amount:,.2f} {contract.currency} · "
            f"{contract.start_date:%Y-%m-%d} – {contract.end_date:%Y-%m-%d}",
            icon="📄",
            actor=str(contract.owner),
        )


@register
def project_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    from pipeline.models import Project

    projects = (
        Project.objects.visible_to(user)
        .filter(client=client)
        .select_related("owner")
        .order_by("-created_at")[:limit]
    )
    for project in projects:
        yield TimelineEntry(
            at=_day_start(project.completed_on) if project.completed_on else project.created_at,
            kind="project",
            title=_("Delivery project %(name)s: %(status)s")
            % {"name": project.name, "status": project.get_status_display()},
            url=project.get_absolute_url(),
            icon="🛠",
            actor=str(project.owner),
        )


# ---- end of quotes, contracts and delivery projects --------------------------------
