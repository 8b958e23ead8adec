"""The notification centre: the bell, the list, marking read, and preferences.

Notifications are personal: every read starts from
``Notification.objects.visible_to(user)`` (the recipient's own), so another
person's notification answers 404 like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Notification, Role
from accounts.notifications import (
    UNREAD_CAP,
    digest_enabled,
    kind_label,
    notification_mark_read,
    notifications_mark_all_read,
    preferences_for,
    preferences_save,
    unread_count,
)
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

NOTIFICATION_SORT = {"created": "created_at", "kind": ("kind", "created_at")}
#: Notification pages are short: people read the newest few.
PAGE_SIZE = 20


def _own(request: HttpRequest, pk: int) -> Notification:
    return get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)


def _safe_target(request: HttpRequest, url: str) -> str:
    """Only paths inside salesorg are followed (a notification's link is ours)."""
    if url and url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return ""


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; unread ones stand out."""
    qs = Notification.objects.visible_to(request.user)
    show = request.GET.get("show", "all")
    if show == "unread":
        qs = qs.unread()
    else:
        show = "all"
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind=kind)
    qs, sort = apply_sort(request, qs, NOTIFICATION_SORT, "-created")
    if request.GET.get("export") == "csv":
        return csv_response(
            "notifications",
            [_("When"), _("Kind"), _("Title"), _("Message"), _("Link"), _("Read")],
            (
                (
                    timezone.localtime(n.created_at).strftime("%Y-%m-%d %H:%M"),
                    kind_label(n.kind),
                    n.title,
                    n.body,
                    n.url,
                    timezone.localtime(n.read_at).strftime("%Y-%m-%d %H:%M") if n.read_at else "",
                )
                for n in qs.iterator(chunk_size=500)
            ),
        )
    page = paginate(request, qs, per_page=PAGE_SIZE)
    for note in page:
        note.kind_label = kind_label(note.kind)
    context = {
        "page": page,
        "sort": sort,
        "show": show,
        "kind": kind,
        "kinds": [(code, label) for code, label in _kind_choices(request)],
        "unread": unread_count(request.user),
        "unread_cap": UNREAD_CAP,
    }
    if request.htmx and request.htmx.target == "notification-list":
        return render(request, "accounts/notifications/_list.html", context)
    return render(request, "accounts/notifications/list.html", context)


def _kind_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [(k.code, str(k.label)) for k, _in_app, _email in preferences_for(request.user)]


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    note = notification_mark_read(user=request.user, notification=_own(request, pk))
    return redirect(_safe_target(request, note.url) or "accounts:notifications")


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = notification_mark_read(user=request.user, notification=_own(request, pk))
    if request.htmx:
        note.kind_label = kind_label(note.kind)
        response = render(request, "accounts/notifications/_item.html", {"note": note})
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect(request.POST.get("next") or "accounts:notifications")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    changed = notifications_mark_all_read(user=request.user)
    if request.htmx:
        # The list and the bell listen for these and reload themselves.
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "notifications-changed, notifications-all-read"
        return response
    if changed:
        messages.success(request, _("All notifications are marked read."))
    return redirect("accounts:notifications")


@login_required
@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The bell's unread count, loaded by htmx so pages pay no query for it."""
    count = unread_count(request.user)
    # rendered without the request: the page's context processors (the menu) are not needed
    html = render_to_string(
        "accounts/notifications/_badge.html",
        {"count": count, "capped": count > UNREAD_CAP, "cap": UNREAD_CAP},
    )
    return HttpResponse(html)


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Per kind: in the app and by e-mail; and the daily digest instead of single e-mails."""
    user = request.user
    rows = preferences_for(user)
    if request.method == "POST":
        channels = {
            kind.code: (
                f"in_app:{kind.code}" in request.POST,
                f"email:{kind.code}" in request.POST,
            )
            for kind, _in_app, _email in rows
        }
        preferences_save(user=user, channels=channels, daily_digest="daily_digest" in request.POST)
        messages.success(request, _("Your notification settings were saved."))
        return redirect("accounts:notification-preferences")
    return render(
        request,
        "accounts/notifications/preferences.html",
        {
            "rows": rows,
            "daily_digest": digest_enabled(user),
            "digest_recommended": user.role in {Role.MANAGER, Role.DIRECTOR},
        },
    )
