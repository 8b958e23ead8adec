"""Template tags shared by every app's pages (registered as the ``ui`` library)."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    request = context["request"]
    params: QueryDict = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_th(context: dict[str, Any], key: str, label: str) -> str:
    """A sortable column header: click sorts ascending, again descending."""
    sort = context.get("sort")
    active = sort is not None and sort.key == key
    descending = active and sort.descending
    target = key if (not active or descending) else f"-{key}"
    href = query_with(context, sort=target, page=None)
    arrow = (" ▼" if descending else " ▲") if active else ""
    aria = ("descending" if descending else "ascending") if active else "none"
    return format_html(
        '<th scope="col" aria-sort="{}"><a href="{}" class="link-body-emphasis">{}{}</a></th>',
        aria,
        href,
        label,
        arrow,
    )
