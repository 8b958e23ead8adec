"""The pipeline's entries on a client's timeline (see ``clients.timeline``).

Each provider reads through ``visible_to(user)`` with one query, so the client
page's query count stays constant however many deals or leads a client has.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import TYPE_CHECKING

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from clients.timeline import TimelineEntry, register

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the page belongs to an app not installed here
        return ""


# --- deals and converted leads (pipeline-sales) ---------------------------------
def deal_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    """A deal opened, and — when it is closed — won or lost."""
    from pipeline.models import Deal, Stage

    deals = (
        Deal.objects.visible_to(user)
        .filter(client=client)
        .select_related("stage", "owner")
        .order_by("-created_at", "-pk")[:limit]
    )
    for deal in deals:
        url = _url("pipeline:deal-detail", deal.pk)
        amount = f"{deal.currency} {number_format(deal.amount, 2, force_grouping=True)}"
        yield TimelineEntry(
            at=deal.created_at,
            kind="deal",
            title=_("Deal opened: %(title)s") % {"title": deal.title},
            url=url,
            summary=amount,
            icon="💼",
            actor=str(deal.owner),
        )
        if deal.stage.kind != Stage.Kind.OPEN and deal.stage_changed_at:
            won = deal.stage.kind == Stage.Kind.WON
            yield TimelineEntry(
                at=deal.stage_changed_at,
                kind="deal",
                title=(_("Deal won: %(title)s") if won else _("Deal lost: %(title)s"))
                % {"title": deal.title},
                url=url,
                summary=amount if won else deal.lost_reason,
                icon="🏆" if won else "✖",
                actor=str(deal.owner),
            )


def converted_lead_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    """The lead this client came from, converted by whom and when."""
    from pipeline.models import Lead

    leads = (
        Lead.objects.visible_to(user)
        .filter(converted_client=client, converted_at__isnull=False)
        .select_related("converted_by")
        .order_by("-converted_at", "-pk")[:limit]
    )
    for lead in leads:
        yield TimelineEntry(
            at=lead.converted_at,
            kind="lead",
            title=_("Lead converted: %(lead)s") % {"lead": lead},
            url=_url("pipeline:lead-detail", lead.pk),
            summary=lead.get_source_display(),
            icon="🌱",
            actor=str(lead.converted_by or ""),
        )


register(deal_entries)
register(converted_lead_entries)


# --- end of deals and converted leads --------------------------------------------


# --- activities (pipeline-activities) ------------------------------------------------
@register
def activity_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    """Calls, visits, demos and meetings with the client that the user may see."""
    from pipeline.models import Activity
    from pipeline.templatetags.activity_tags import TYPE_ICONS

    activities = (
        Activity.objects.visible_to(user)
        .filter(client=client)
        .exclude(status=Activity.Status.CANCELLED)
        .select_related("owner")
        .order_by("-start_at", "-pk")[:limit]
    )
    for activity in activities:
        title = activity.get_type_display()
        if activity.subject:
            title = f"{title}: {activity.subject}"
        if activity.status == Activity.Status.PLANNED:
            title = f"{title} ({activity.get_status_display()})"
        yield TimelineEntry(
            at=activity.start_at,
            kind="activity",
            title=title,
            url=reverse("pipeline:activity-detail", args=[activity.pk]),
            summary=Truncator(activity.outcome).chars(200),
            icon=TYPE_ICONS.get(activity.type, "•"),
            actor=str(activity.owner),
        )


# --- end activities ----------------------------------------------------------------------


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
