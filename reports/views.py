"""Each role's home page (its dashboard)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Role, User


@login_required
def home(request: HttpRequest, role: str) -> HttpResponse:
    """The landing page of a role; someone asking for another role's lands on theirs."""
    if role not in Role.values:
        raise Http404
    user = request.user
    if role != user.role:
        return redirect("reports:home", role=user.role)
    context = {
        "line": user.line().select_related("team"),
        "team_members": User.objects.visible_to(user)
        .active()
        .filter(team=user.team_id)
        .exclude(pk=user.pk)
        .select_related("team")
        .order_by("path")
        if user.team_id
        else User.objects.none(),
        "direct_reports": user.direct_reports.active().select_related("team").order_by("path"),
        "subtree_size": User.objects.active().filter(path__startswith=user.path).count() - 1,
    }
    return render(request, f"reports/home_{role}.html", context)
