"""Events: trade shows, forums, seminars and client events (SPEC section 5).

Support staff organise them (``pipeline.add_event``/``change_event``); every
role may see the list, since leads collected at an event name it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from pipeline.event_forms import EventForm
from pipeline.models import Event
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

EVENT_SORT = {"starts": "starts_on", "name": "name", "kind": "kind", "budget": "budget"}


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def filtered_events(request: HttpRequest) -> QuerySet[Event]:
    qs = Event.objects.select_related("owner")
    q = request.GET.get("q", "").strip()[:100]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(venue__icontains=q))
    kind = request.GET.get("kind", "")
    if kind in Event.Kind.values:
        qs = qs.filter(kind=kind)
    when = request.GET.get("when", "")
    today = timezone.localdate()
    if when == "upcoming":
        qs = qs.filter(Q(ends_on__gte=today) | Q(ends_on__isnull=True, starts_on__gte=today))
    elif when == "past":
        qs = qs.filter(Q(ends_on__lt=today) | Q(ends_on__isnull=True, starts_on__lt=today))
    return qs


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.view_event")
    qs, sort = apply_sort(request, filtered_events(request), EVENT_SORT, "-starts")
    if request.GET.get("export") == "csv":
        return csv_response(
            "events",
            [
                pgettext("thing", "Name"),
                _("Kind"),
                _("Starts"),
                _("Ends"),
                _("Venue"),
                _("Organiser"),
                _("Budget"),
            ],
            (
                (
                    e.name,
                    e.get_kind_display(),
                    e.starts_on.isoformat(),
                    e.ends_on.isoformat() if e.ends_on else "",
                    e.venue,
                    str(e.owner),
                    e.budget,
                )
                for e in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/events/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "kinds": Event.Kind.choices,
            "can_add": request.user.has_perm("pipeline.add_event"),
            "can_change": request.user.has_perm("pipeline.change_event"),
        },
    )


def _form_page(request: HttpRequest, event: Event | None) -> HttpResponse:
    form = EventForm(request.POST or None, instance=event, user=request.user)
    if request.method == "POST" and form.is_valid():
        event = form.save()
        messages.success(request, _("%(event)s was saved.") % {"event": event})
        return redirect("pipeline:event-list")
    return render(request, "pipeline/events/form.html", {"form": form, "event": event})


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.add_event")
    return _form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=pk)
    _require(request, "pipeline.change_event")
    return _form_page(request, event)
