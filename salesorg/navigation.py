"""The main menu: one list, filtered by what the user may open."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    perm: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    #: URL name prefixes that count as "this section" for highlighting
    section: str = ""


NAV: list[NavItem] = [
    NavItem(_("Home"), "home", section="reports:"),
    NavItem(_("Organisation"), "accounts:org-chart", section="accounts:org"),
    NavItem(_("People"), "accounts:user-list", perm="accounts.view_user", section="accounts:user"),
]


def menu_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    items = []
    for item in NAV:
        if item.perm and not user.has_perm(item.perm):
            continue
        if item.roles and user.role not in item.roles:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = bool(item.section) and current.startswith(item.section)
        items.append({"label": item.label, "url": url, "active": active})
    return items
