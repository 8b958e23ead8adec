"""Pages for activities: the list, logging and planning, the quick log on a
phone, the week calendar of visits and an account manager's visit cadence.

Every read starts from ``visible_to(request.user)``; one activity is fetched
with ``get_for_user`` (404 for "missing" and "not yours" alike, 403 when it is
visible but not the user's to change). Writes go through
``pipeline.services.activities`` so pages and API follow the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.visibility import access_for, get_for_user
from clients.models import Cadence, Client
from pipeline.activity_forms import (
    ActivityForm,
    CompleteForm,
    ObjectionFormSet,
    QuickLogForm,
    objection_initial,
    objection_rows,
)
from pipeline.models import Activity, ActivityType, Lead
from pipeline.services import activities as services
from pipeline.services.targets import local_midnight, week_bounds
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate
from salesorg.lib.normalize import normalize_name

ACTIVITY_SORT = {
    "when": "start_at",
    "type": "type",
    "status": "status",
    "owner": ("owner__last_name", "owner__first_name", "owner__username"),
    "client": ("client__name", "lead__name"),
}
#: The calendar shows at most this many entries; narrow it to a person beyond that.
CALENDAR_CAP = 400
#: Autocomplete answers with this many matches.
PICK_LIMIT = 10


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


def _has_team(user: User) -> bool:
    """Whether the user sees anyone's activities but their own."""
    scope = user.visibility_scope
    return scope.everything or len(scope.user_ids) > 1


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# -------------------------------------------------------------------- the list
@dataclass
class ActivityFilters:
    type: str = ""
    status: str = ""
    owner: int | None = None
    client: int | None = None
    lead: int | None = None
    deal: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def _filters(request: HttpRequest) -> ActivityFilters:
    get = request.GET
    return ActivityFilters(
        type=get.get("type", "") if get.get("type") in ActivityType.values else "",
        status=get.get("status", "") if get.get("status") in Activity.Status.values else "",
        owner=_int_param(request, "owner"),
        client=_int_param(request, "client"),
        lead=_int_param(request, "lead"),
        deal=_int_param(request, "deal"),
        date_from=parse_date(get.get("from", "") or "") if _is_date(get.get("from")) else None,
        date_to=parse_date(get.get("to", "") or "") if _is_date(get.get("to")) else None,
        q=get.get("q", "").strip()[:100],
    )


def _is_date(raw: str | None) -> bool:
    try:
        return bool(raw) and parse_date(raw) is not None
    except ValueError:
        return False


def filtered_activities(user: User, f: ActivityFilters) -> QuerySet[Activity]:
    """The activities ``user`` may see, narrowed by the list's filters."""
    qs = Activity.objects.visible_to(user).select_related("client", "lead", "deal", "owner")
    if f.type:
        qs = qs.filter(type=f.type)
    if f.status:
        qs = qs.filter(status=f.status)
    for name in ("owner", "client", "lead", "deal"):
        value = getattr(f, name)
        if value is not None:
            qs = qs.filter(**{f"{name}_id": value})
    if f.date_from:
        qs = qs.filter(start_at__gte=local_midnight(f.date_from))
    if f.date_to:
        qs = qs.filter(start_at__lt=local_midnight(f.date_to + timedelta(days=1)))
    if f.q:
        qs = qs.filter(Q(subject__icontains=f.q) | Q(outcome__icontains=f.q))
    return qs


def _export(qs: QuerySet[Activity]) -> HttpResponse:
    return csv_response(
        "activities",
        [
            _("When"),
            _("Type"),
            _("Status"),
            _("Subject"),
            _("Client"),
            _("Lead"),
            _("Deal"),
            _("Owner"),
            _("Duration (minutes)"),
            _("Outcome"),
            _("Next step"),
            _("Situation"),
            _("Problem"),
            _("Implication"),
            _("Need-payoff"),
        ],
        (
            (
                timezone.localtime(a.start_at).strftime("%Y-%m-%d %H:%M"),
                a.get_type_display(),
                a.get_status_display(),
                a.subject,
                a.client.name if a.client else "",
                a.lead.name if a.lead else "",
                a.deal.title if a.deal else "",
                str(a.owner),
                a.duration_minutes,
                a.outcome,
                a.next_step,
                a.spin_situation,
                a.spin_problem,
                a.spin_implication,
                a.spin_need_payoff,
            )
            for a in qs.iterator(chunk_size=1000)
        ),
    )


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.view_activity")
    user = request.user
    f = _filters(request)
    qs, sort = apply_sort(request, filtered_activities(user, f), ACTIVITY_SORT, "-when")
    if request.GET.get("export") == "csv":
        return _export(qs)
    page = paginate(request, qs)
    changeable = {a.pk for a in page if access_for(user, a).can_change}
    client = (
        Client.objects.visible_to(user).filter(pk=f.client).only("pk", "name").first()
        if f.client
        else None
    )
    return render(
        request,
        "pipeline/activities/list.html",
        {
            "page": page,
            "sort": sort,
            "filters": f,
            "changeable": changeable,
            "types": ActivityType.choices,
            "statuses": Activity.Status.choices,
            "people": User.objects.visible_to(user).active().order_by("path")
            if _has_team(user)
            else [],
            "filter_client": client,
            "can_add": user.has_perm("pipeline.add_activity"),
        },
    )


# ----------------------------------------------------------- one activity
@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_for_user(
        request.user,
        Activity.objects.select_related("client", "lead", "deal", "contact", "owner"),
        pk=pk,
    )
    activity = access.obj
    return render(
        request,
        "pipeline/activities/detail.html",
        {
            "activity": activity,
            "access": access,
            "objections": list(activity.objections.all()),
            "products": list(activity.products_demonstrated.all()),
            "complete_form": CompleteForm(initial={"version": activity.version}),
        },
    )


def _form_page(
    request: HttpRequest, activity: Activity | None, initial: dict[str, Any] | None = None
) -> HttpResponse:
    user = request.user
    data = request.POST if request.method == "POST" else None
    form = ActivityForm(data, instance=activity, user=user, initial=initial or {})
    formset = ObjectionFormSet(data, prefix="objections", initial=objection_initial(activity))
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
        extra = {
            "objections": objection_rows(formset),
            "products": list(form.cleaned_data["products_demonstrated"]),
        }
        try:
            if activity is None:
                activity = services.activity_create(by=user, **fields, **extra)
                messages.success(request, _("The activity was saved."))
            else:
                services.activity_update(
                    by=user,
                    activity=activity,
                    expected_version=form.cleaned_data.get("version"),
                    **fields,
                    **extra,
                )
                messages.success(request, _("The activity was saved."))
        except StaleWrite as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("pipeline:activity-detail", pk=activity.pk)
    return render(
        request,
        "pipeline/activities/form.html",
        {"form": form, "formset": formset, "activity": activity},
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.add_activity")
    initial: dict[str, Any] = {}
    for name in ("client", "lead", "deal"):
        value = _int_param(request, name)
        if value is not None:
            initial[name] = value
    kind = request.GET.get("type")
    if kind in ActivityType.values:
        initial["type"] = kind
    if request.GET.get("status") == Activity.Status.PLANNED:
        initial["status"] = Activity.Status.PLANNED
    return _form_page(request, None, initial)


def _changeable(request: HttpRequest, pk: int) -> Activity:
    access = get_for_user(request.user, Activity, pk=pk)
    if not access.can_change:
        raise PermissionDenied
    return access.obj


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, _changeable(request, pk))


@login_required
@require_POST
def activity_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a planned activity done (htmx: answers with the updated list row)."""
    activity = _changeable(request, pk)
    form = CompleteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.activity_complete(
                by=request.user,
                activity=activity,
                expected_version=form.cleaned_data.get("version"),
                outcome=form.cleaned_data.get("outcome", ""),
                next_step=form.cleaned_data.get("next_step", ""),
            )
        except StaleWrite as exc:
            error = str(exc.message)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Please check the form.")
    if request.htmx:
        activity.refresh_from_db()
        return render(
            request,
            "pipeline/activities/_row.html",
            {"a": activity, "changeable": {activity.pk}, "row_error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Marked as done."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("pipeline:activity-detail", args=[pk])
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def activity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_for_user(request.user, Activity, pk=pk)
    if not access.can_delete:
        raise PermissionDenied
    activity = access.obj
    if request.method == "POST":
        services.activity_delete(by=request.user, activity=activity)
        messages.success(request, _("The activity was deleted."))
        return redirect("pipeline:activity-list")
    return render(request, "pipeline/activities/delete.html", {"activity": activity})


# ------------------------------------------------------------- the quick log
def recent_clients(user: User, limit: int = 6) -> list[Client]:
    """The clients ``user`` logged something with lately, newest first (two queries)."""
    since = timezone.now() - timedelta(days=60)
    rows = list(
        Activity.objects.visible_to(user)
        .filter(owner=user, client__isnull=False, start_at__gte=since)
        .values("client_id")
        .annotate(last=Max("start_at"))
        .order_by("-last")[: limit * 2]
    )
    order = {r["client_id"]: i for i, r in enumerate(rows)}
    clients = Client.objects.visible_to(user).filter(pk__in=list(order)).only("pk", "name")
    return sorted(clients, key=lambda c: order[c.pk])[:limit]


@login_required
@require_http_methods(["GET", "POST"])
def activity_quick(request: HttpRequest) -> HttpResponse:
    """Log a call or a visit in a few taps, on a phone."""
    _require(request, "pipeline.add_activity")
    user = request.user
    initial: dict[str, Any] = {"type": ActivityType.CALL}
    if request.GET.get("type") in (ActivityType.CALL, ActivityType.VISIT):
        initial["type"] = request.GET["type"]
    if _int_param(request, "client") is not None:
        initial["client"] = _int_param(request, "client")
    recent = recent_clients(user)
    form = QuickLogForm(
        request.POST if request.method == "POST" else None,
        user=user,
        recent=recent,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(by=user, **form.activity_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(type)s with %(client)s logged.")
                % {"type": activity.get_type_display(), "client": activity.client},
            )
            return redirect(f"{reverse('pipeline:activity-quick')}?logged={activity.pk}")
    logged = None
    logged_id = _int_param(request, "logged")
    if logged_id is not None:
        logged = (
            Activity.objects.visible_to(user).filter(pk=logged_id).select_related("client").first()
        )
    return render(
        request,
        "pipeline/activities/quick.html",
        {"form": form, "logged": logged, "spin_fields": services.SPIN_FIELDS},
    )


@login_required
def pick_client(request: HttpRequest) -> HttpResponse:
    """Autocomplete: up to ten visible clients whose name matches ``q``, as radio buttons."""
    q = request.GET.get("q", "").strip()
    name = request.GET.get("name", "client")
    matches: list[Client] = []
    if q:
        wanted = normalize_name(q) or q
        matches = list(
            Client.objects.visible_to(request.user)
            .filter(Q(name_normalized__contains=wanted) | Q(name__icontains=q))
            .only("pk", "name", "city")
            .order_by("name", "pk")[:PICK_LIMIT]
        )
    return render(
        request,
        "pipeline/activities/_pick_results.html",
        {"matches": matches, "field_name": name if name in ("client", "lead") else "client"},
    )


@login_required
def pick_lead(request: HttpRequest) -> HttpResponse:
    """Autocomplete: up to ten visible leads whose name or company matches ``q``."""
    q = request.GET.get("q", "").strip()
    matches: list[Lead] = []
    if q:
        matches = list(
            Lead.objects.visible_to(request.user)
            .filter(Q(name__icontains=q) | Q(company__icontains=q))
            .only("pk", "name", "company")
            .order_by("name", "pk")[:PICK_LIMIT]
        )
    return render(
        request,
        "pipeline/activities/_pick_results.html",
        {"matches": matches, "field_name": "lead"},
    )


@login_required
def activity_links(request: HttpRequest) -> HttpResponse:
    """The deal and contact choices for the client picked on the activity form (htmx)."""
    form = ActivityForm(initial={"client": _int_param(request, "client")}, user=request.user)
    return render(request, "pipeline/activities/_links.html", {"form": form})


# -------------------------------------------------------------- the calendar
def parse_week(raw: str | None, today: date) -> date:
    """The Monday of ``YYYY-Www`` (ISO week), or of this week when missing or wrong."""
    if raw:
        try:
            year, week = raw.upper().split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            pass
    return week_bounds(today)[0]


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@login_required
def activity_calendar(request: HttpRequest) -> HttpResponse:
    """Visits, meetings and demos of one week: mine, or my team's for a manager."""
    _require(request, "pipeline.view_activity")
    user = request.user
    today = timezone.localdate()
    monday = parse_week(request.GET.get("week"), today)
    has_team = _has_team(user)
    who = request.GET.get("who", "mine")
    if who != "team" or not has_team:
        who = "mine"
    owner = _int_param(request, "owner") if who == "team" else None
    qs = Activity.objects.visible_to(user).filter(
        type__in=services.CALENDAR_TYPES,
        status__in=(Activity.Status.PLANNED, Activity.Status.DONE),
        start_at__gte=local_midnight(monday),
        start_at__lt=local_midnight(monday + timedelta(days=7)),
    )
    if who == "mine":
        qs = qs.filter(owner=user)
    elif owner is not None:
        qs = qs.filter(owner_id=owner)
    entries = list(
        qs.select_related("client", "lead", "owner").order_by("start_at", "pk")[: CALENDAR_CAP + 1]
    )
    capped = len(entries) > CALENDAR_CAP
    entries = entries[:CALENDAR_CAP]
    days: list[dict[str, Any]] = [
        {"date": monday + timedelta(days=i), "entries": []} for i in range(7)
    ]
    for entry in entries:
        local = timezone.localtime(entry.start_at).date()
        days[(local - monday).days]["entries"].append(entry)
    return render(
        request,
        "pipeline/activities/calendar.html",
        {
            "days": days,
            "today": today,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "week": iso_week(monday),
            "prev_week": iso_week(monday - timedelta(days=7)),
            "next_week": iso_week(monday + timedelta(days=7)),
            "this_week": iso_week(today),
            "who": who,
            "has_team": has_team,
            "owner": owner,
            "people": User.objects.visible_to(user).active().order_by("path")
            if who == "team"
            else [],
            "capped": capped,
            "cap": CALENDAR_CAP,
            "changeable": {e.pk for e in entries if access_for(user, e).can_change},
            "can_add": user.has_perm("pipeline.add_activity"),
        },
    )


# --------------------------------------------------------------- visit cadence
CADENCE_BUCKETS = ("overdue", "never", "week", "later", "on_demand")


def cadence_buckets(today: date) -> dict[str, Q]:
    """Which clients fall in each cadence status on ``today``."""
    sunday = week_bounds(today)[1] - timedelta(days=1)
    scheduled = ~Q(cadence=Cadence.ON_DEMAND)
    return {
        "overdue": scheduled & Q(next_visit_due__lt=today),
        "never": scheduled & Q(next_visit_due__isnull=True),
        "week": scheduled & Q(next_visit_due__gte=today, next_visit_due__lte=sunday),
        "later": scheduled & Q(next_visit_due__gt=sunday),
        "on_demand": Q(cadence=Cadence.ON_DEMAND),
    }


@login_required
def cadence(request: HttpRequest) -> HttpResponse:
    """An account manager's clients by visit cadence status, with counts (one SQL query)."""
    _require(request, "clients.view_client")
    user = request.user
    today = timezone.localdate()
    clients = Client.objects.visible_to(user)
    mine = request.GET.get("who", "mine") != "all"
    if mine:
        clients = clients.filter(Q(account_manager=user) | Q(owner=user))
    buckets = cadence_buckets(today)
    counts = clients.aggregate(**{key: Count("pk", filter=q) for key, q in buckets.items()})
    status = request.GET.get("status", "overdue")
    if status not in buckets:
        status = "overdue"
    listed = clients.filter(buckets[status]).select_related("account_manager", "owner")
    sort_columns = {
        "due": "next_visit_due",
        "name": "name",
        "last": "last_visit_at",
        "cadence": "cadence",
    }
    listed, sort = apply_sort(request, listed, sort_columns, "due")
    if request.GET.get("export") == "csv":
        return csv_response(
            "visit-cadence",
            [_("Client"), _("Visit cadence"), _("Last visit"), _("Next visit due"), _("Owner")],
            (
                (
                    c.name,
                    c.get_cadence_display(),
                    timezone.localtime(c.last_visit_at).strftime("%Y-%m-%d")
                    if c.last_visit_at
                    else "",
                    c.next_visit_due.isoformat() if c.next_visit_due else "",
                    str(c.account_manager or c.owner),
                )
                for c in listed.iterator(chunk_size=1000)
            ),
        )
    page = paginate(request, listed)
    return render(
        request,
        "pipeline/activities/cadence.html",
        {
            "page": page,
            "sort": sort,
            "counts": counts,
            "status": status,
            "mine": mine,
            "today": today,
            "can_log": user.has_perm("pipeline.add_activity"),
            "buckets": [
                (key, label, counts[key])
                for key, label in (
                    ("overdue", _("Overdue")),
                    ("never", _("Not visited yet")),
                    ("week", _("Due this week")),
                    ("later", _("Later")),
                    ("on_demand", _("On demand")),
                )
            ],
        },
    )
