"""Template filters of the planning, team and weekly-report pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat

from reports.planning import risk_level

register = template.Library()

#: Bootstrap classes of the heat map's and the register's levels
LEVEL_CLASS = {
    "low": "text-bg-success",
    "medium": "text-bg-warning",
    "high": "heat-high",
    "critical": "text-bg-danger",
}
#: skill matrix cells against the ideal profile
SKILL_CLASS = {
    "meets": "skill-meets",
    "near": "skill-near",
    "gap": "skill-gap",
    "none": "text-body-secondary",
}


@register.filter
def yuan(value: Any) -> str:
    """¥ with thousands separators, whole yuan (money on lists and summaries)."""
    if value in (None, ""):
        return "—"
    return f"¥{intcomma(floatformat(value, 0))}"


@register.filter
def ratio_percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{floatformat(value * 100, 1)}%"


@register.filter
def level_class(score: int | None) -> str:
    return LEVEL_CLASS.get(risk_level(score or 0), "")


@register.filter
def skill_class(level: str) -> str:
    return SKILL_CLASS.get(level, "")


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def indent(depth: int) -> str:
    return f"padding-left: {0.5 + 1.25 * max(int(depth or 0), 0):.2f}rem"
