from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs on every page (menus by role)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from salesorg.navigation import menu_for

    return {"nav_menu": menu_for(request)}
