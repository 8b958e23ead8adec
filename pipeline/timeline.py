"""The pipeline's entries on the client timeline (``clients.timeline``).

Each provider reads through ``visible_to(user)`` with one query, so the client
page's query count stays constant however many entries there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.text import Truncator

from clients.timeline import TimelineEntry, register

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client


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
