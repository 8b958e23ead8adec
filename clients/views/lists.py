"""The client list (search, filters, sort, pages, export, saved filters), the
list of key accounts without an account manager, and the client picker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, User
from clients.filters import SORT_COLUMNS, ClientFilter, filtered, search_clients
from clients.forms import SavedFilterForm
from clients.models import (
    Cadence,
    Client,
    ClientSource,
    ClientStatus,
    SavedFilter,
    Segment,
    Tag,
)
from clients.services import assignable_account_managers
from salesorg.lib.export import csv_response, xlsx_response
from salesorg.lib.listing import apply_sort, paginate

SAVED_FILTER_PAGE = "clients"
#: Query parameters that are not filters: never saved, never carried into an export link.
NOT_FILTERS = {"page", "export", "csrfmiddlewaretoken"}
INDUSTRY_CHOICES_LIMIT = 200


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def filtered_clients(request: HttpRequest) -> tuple[QuerySet[Client], ClientFilter]:
    """The user's visible clients narrowed by the list's search and filters."""
    filterset = ClientFilter(
        request.GET, queryset=Client.objects.visible_to(request.user), request=request
    )
    return filtered(filterset), filterset


def filter_query(params: QueryDict) -> str:
    """The filter part of a query string, in a stable form (for saved filters)."""
    kept = params.copy()
    for key in NOT_FILTERS:
        kept.pop(key, None)
    for key in [k for k, v in kept.lists() if not any(v)]:
        kept.pop(key)
    return kept.urlencode()


# --------------------------------------------------------------------------- list
@login_required
@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clients.view_client")
    qs, filterset = filtered_clients(request)
    qs = qs.select_related("owner", "account_manager")
    qs, sort = apply_sort(request, qs, SORT_COLUMNS, "name")
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        _require(request, "clients.export_client")
        return export_clients(qs, export)
    page = paginate(request, qs.prefetch_related("tags"))
    context: dict[str, Any] = {
        "page": page,
        "sort": sort,
        "filterset": filterset,
        "today": timezone.localdate(),
        "can_export": request.user.has_perm("clients.export_client"),
        "can_create": request.user.has_perm("clients.add_client"),
        "current_query": filter_query(request.GET),
    }
    if request.htmx and request.htmx.target == "client-results":
        return render(request, "clients/_client_results.html", context)
    people = list(
        User.objects.visible_to(request.user)
        .active()
        .order_by("first_name", "last_name", "username")
    )
    context.update(
        {
            "statuses": ClientStatus.choices,
            "sources": ClientSource.choices,
            "segments": Segment.choices,
            "cadences": Cadence.choices,
            "owners": people,
            "account_managers": [p for p in people if p.role == Role.ACCOUNT_MANAGER],
            "tags": Tag.objects.all(),
            # From the filter set's visible queryset: no second grant lookup.
            "industries": filterset.queryset.exclude(industry="")
            .order_by("industry")
            .values_list("industry", flat=True)
            .distinct()[:INDUSTRY_CHOICES_LIMIT],
            "saved_filters": SavedFilter.objects.filter(user=request.user, page=SAVED_FILTER_PAGE),
            "filter_errors": filterset.errors,
        }
    )
    return render(request, "clients/client_list.html", context)


def _export_header() -> list[str]:
    return [
        _("Id"),
        pgettext("client", "Name"),
        _("Registration number"),
        _("Status"),
        _("Source"),
        _("Industry"),
        _("Segment"),
        _("Owner"),
        _("Account manager"),
        _("Visit cadence"),
        _("Next visit due"),
        _("Spend, last 12 months (CNY)"),
        _("Key account"),
        _("Phone"),
        _("E-mail"),
        _("City"),
        _("Province"),
        _("Tags"),
        _("Primary contact"),
        _("Primary contact phone"),
        _("Primary contact e-mail"),
    ]


def export_clients(qs: QuerySet[Client], fmt: str) -> HttpResponse:
    """Exactly the filtered, sorted clients, every page of them, streamed."""
    # One join: a client has at most one primary contact (a unique constraint).
    rows_qs = (
        qs.prefetch_related("tags")
        .annotate(
            primary_contact=FilteredRelation("contacts", condition=Q(contacts__is_primary=True))
        )
        .annotate(
            primary_name=F("primary_contact__name"),
            primary_phone=F("primary_contact__phone"),
            primary_email=F("primary_contact__email"),
        )
    )

    # Choice labels translated once, not per row (get_FOO_display re-translates
    # every choice on each call: most of an export's time at 10,000 rows).
    labels = {
        name: {value: str(label) for value, label in choices}
        for name, choices in (
            ("status", ClientStatus.choices),
            ("source", ClientSource.choices),
            ("segment", Segment.choices),
            ("cadence", Cadence.choices),
        )
    }
    yes, no = _("yes"), _("no")

    def rows() -> Iterator[list[Any]]:
        for c in rows_qs.iterator(chunk_size=500):
            yield [
                c.pk,
                c.name,
                c.registration_number,
                labels["status"].get(c.status, c.status),
                labels["source"].get(c.source, c.source),
                c.industry,
                labels["segment"].get(c.segment, c.segment),
                str(c.owner),
                str(c.account_manager or ""),
                labels["cadence"].get(c.cadence, c.cadence),
                c.next_visit_due,
                c.spend_12m,
                yes if c.is_key_account else no,
                c.phone,
                c.email,
                c.city,
                c.province,
                ", ".join(t.name for t in c.tags.all()),
                c.primary_name or "",
                c.primary_phone or "",
                c.primary_email or "",
            ]

    if fmt == "xlsx":
        return xlsx_response("clients", _export_header(), rows(), sheet=_("Clients"))
    return csv_response("clients", _export_header(), rows())


# ------------------------------------------------------------------ saved filters
@login_required
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    _require(request, "clients.add_savedfilter")
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the filter a name to save it."))
        return redirect("clients:list")
    query = filter_query(QueryDict(form.cleaned_data["query"]))
    saved, created = SavedFilter.objects.update_or_create(
        user=request.user,
        page=SAVED_FILTER_PAGE,
        name=form.cleaned_data["name"],
        defaults={"query": query},
    )
    messages.success(
        request,
        (_("Filter “%(name)s” saved.") if created else _("Filter “%(name)s” updated."))
        % {"name": saved.name},
    )
    return redirect(f"{reverse('clients:list')}?{query}" if query else reverse("clients:list"))


@login_required
@require_POST
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "clients.delete_savedfilter")
    saved = get_object_or_404(SavedFilter, pk=pk, user=request.user, page=SAVED_FILTER_PAGE)
    saved.delete()
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("clients:list")


# ------------------------------------------------- key accounts without a dedicated AM
KEY_ACCOUNT_SORT: dict[str, str | tuple[str, ...]] = {
    "name": "name",
    "spend": "spend_12m",
    "owner": ("owner__last_name", "owner__first_name", "owner__username"),
    "updated": "updated_at",
}


@login_required
@require_GET
def key_accounts_without_am(request: HttpRequest) -> HttpResponse:
    """Key accounts that still need a dedicated account manager, biggest first."""
    _require(request, "clients.assign_account_manager")
    qs = (
        Client.objects.visible_to(request.user)
        .key_accounts()
        .without_account_manager()
        .select_related("owner")
    )
    qs, sort = apply_sort(request, qs, KEY_ACCOUNT_SORT, "-spend")
    if request.GET.get("export") == "csv":
        return csv_response(
            "key-accounts-without-am",
            [
                _("Id"),
                pgettext("client", "Name"),
                _("Owner"),
                _("Spend, last 12 months (CNY)"),
                _("Status"),
            ],
            (
                (c.pk, c.name, str(c.owner), c.spend_12m, c.get_status_display())
                for c in qs.iterator(chunk_size=500)
            ),
        )
    page = paginate(request, qs)
    return render(
        request,
        "clients/key_accounts_without_am.html",
        {
            "page": page,
            "sort": sort,
            "account_managers": list(
                assignable_account_managers(request.user).order_by(
                    "first_name", "last_name", "username"
                )
            ),
        },
    )


# ---------------------------------------------------------------- client picker
LOOKUP_LIMIT = 20


@login_required
@require_GET
def client_lookup(request: HttpRequest) -> HttpResponse:
    """``<option>``s of visible clients matching ``q``, for the search-select widget.

    The currently chosen client (``selected``) stays first and selected, so typing
    in the search box never silently clears a choice.
    """
    _require(request, "clients.view_client")
    visible = Client.objects.visible_to(request.user)
    selected_id = request.GET.get("selected") or request.GET.get("referred_by") or ""
    selected = (
        visible.filter(pk=selected_id).only("pk", "name").first() if selected_id.isdigit() else None
    )
    term = request.GET.get("q", "")
    matches = (
        search_clients(visible, term).only("pk", "name").order_by("name", "pk")[:LOOKUP_LIMIT]
        if term.strip()
        else []
    )
    exclude = request.GET.get("exclude", "")
    options = [c for c in matches if str(c.pk) != exclude and (not selected or c.pk != selected.pk)]
    return render(
        request,
        "clients/_lookup_options.html",
        {"selected": selected, "options": options, "term": term},
    )
