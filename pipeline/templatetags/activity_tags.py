"""Template helpers for the activity, product and target pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from pipeline.models import ActivityType

register = template.Library()

TYPE_ICONS = {
    ActivityType.CALL: "📞",
    ActivityType.VISIT: "🤝",
    ActivityType.DEMO: "🖥",
    ActivityType.MEETING: "👥",
    ActivityType.EMAIL: "✉",
    ActivityType.FOLLOW_UP: "☎",
    ActivityType.OTHER: "•",
}


@register.filter
def record_url(obj: Any) -> str:
    """The record's page, or "" when that page does not exist in this installation.

    A client without its own page links to its activities instead.
    """
    if obj is None:
        return ""
    try:
        return obj.get_absolute_url()
    except (NoReverseMatch, AttributeError):
        if obj._meta.label == "clients.Client":
            return f"{reverse('pipeline:activity-list')}?client={obj.pk}"
        return ""


@register.filter
def type_icon(activity_type: str) -> str:
    return TYPE_ICONS.get(activity_type, "•")  # type: ignore[call-overload]


@register.filter
def percent(value: Decimal | None) -> str:
    """A ratio as a whole percentage ("87%"), or an en dash when there is nothing to measure."""
    if value is None:
        return "–"
    return f"{(value * 100).quantize(Decimal('1'))}%"


@register.filter
def bar_width(value: Decimal | None) -> int:
    """A ratio as a progress-bar width in percent, capped at 100."""
    if value is None:
        return 0
    return max(0, min(100, int(value * 100)))
