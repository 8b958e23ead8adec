"""Targets: the list with attainment, setting and editing, and the breakdown
of a parent's target into its children's (company → regions → teams → people).

Reads go through ``Target.objects.visible_to``; writes through
``pipeline.services.targets``, which enforces ``pipeline.set_target`` and the
subtree rule for pages and API alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Team, User
from pipeline.models import Target
from pipeline.services import targets as services
from pipeline.target_forms import TargetEditForm, TargetForm
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

TARGET_SORT = {
    "period": ("period_start", "period"),
    "revenue": "revenue",
    "scope": ("team__path", "user__path"),
}


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _int(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


def parse_month(raw: str) -> date | None:
    """``YYYY-MM`` (or a full ISO date) as a date, ``None`` when it is not one."""
    try:
        return date.fromisoformat(f"{raw}-01" if len(raw) == 7 else raw)
    except ValueError:
        return None


def scope_label(target: Target) -> str:
    if target.user_id:
        return str(target.user)
    if target.team_id:
        return target.team.name
    return str(_("Company"))


def filtered_targets(request: HttpRequest) -> QuerySet[Target]:
    qs = Target.objects.visible_to(request.user).select_related("user", "team", "set_by")
    period = request.GET.get("period", "")
    if period in Target.Period.values:
        qs = qs.filter(period=period)
    year = _int(request, "year")
    if year:
        qs = qs.filter(period_start__year=year)
    scope = request.GET.get("scope", "")
    if scope == "company":
        qs = qs.filter(user__isnull=True, team__isnull=True)
    elif scope == "team":
        qs = qs.filter(team__isnull=False)
    elif scope == "person":
        qs = qs.filter(user__isnull=False)
    person = _int(request, "user")
    if person:
        qs = qs.filter(user_id=person)
    team = _int(request, "team")
    if team:
        qs = qs.filter(team_id=team)
    return qs


def _settable_ids(by: User, targets: list[Target]) -> set[int]:
    """Which of these targets ``by`` may change (two queries for the whole page)."""
    users = set(
        services.settable_users(by)
        .filter(pk__in=[t.user_id for t in targets if t.user_id])
        .values_list("pk", flat=True)
    )
    teams = set(
        services.settable_teams(by)
        .filter(pk__in=[t.team_id for t in targets if t.team_id])
        .values_list("pk", flat=True)
    )
    company = services.can_set_company_target(by)
    return {
        t.pk
        for t in targets
        if (t.user_id in users)
        or (t.team_id in teams)
        or (company and not t.user_id and not t.team_id)
    }


def _export(qs: QuerySet[Target]) -> HttpResponse:
    def rows():
        chunk: list[Target] = []
        for target in qs.iterator(chunk_size=200):
            chunk.append(target)
            if len(chunk) == 200:
                yield from _export_rows(chunk)
                chunk = []
        yield from _export_rows(chunk)

    return csv_response(
        "targets",
        [
            _("For"),
            _("Period"),
            _("Starts"),
            _("Revenue target"),
            _("Won revenue"),
            _("Attainment (%)"),
            _("Calls a day"),
            _("Visits a week"),
            _("Demos a week"),
        ],
        rows(),
    )


def _export_rows(targets: list[Target]):
    reached = services.attainment_many(targets)
    for t in targets:
        a = reached[t.pk]
        yield (
            scope_label(t),
            t.get_period_display(),
            t.period_start.isoformat(),
            t.revenue,
            a.won,
            a.percent if a.percent is not None else "",
            t.calls_per_day,
            t.visits_per_week,
            t.demos_per_week,
        )


@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.view_target")
    user = request.user
    qs, sort = apply_sort(request, filtered_targets(request), TARGET_SORT, "-period")
    if request.GET.get("export") == "csv":
        return _export(qs)
    page = paginate(request, qs)
    rows = list(page)
    reached = services.attainment_many(rows)
    today = timezone.localdate()
    mine = services.current_person_target(user, today)
    my_actuals = services.activity_actuals(by=user, owner_ids=[user.pk], day=today)[user.pk]
    return render(
        request,
        "pipeline/targets/list.html",
        {
            "page": page,
            "rows": [
                {
                    "target": t,
                    "label": scope_label(t),
                    "period_label": services.period_label(t.period, t.period_start),
                    "attainment": reached[t.pk],
                }
                for t in rows
            ],
            "sort": sort,
            "settable": _settable_ids(user, rows),
            "periods": Target.Period.choices,
            "people": User.objects.visible_to(user).active().order_by("path"),
            "teams": Team.objects.visible_to(user).order_by("path"),
            "can_set": user.has_perm("pipeline.set_target"),
            "my_target": mine,
            "my_actuals": my_actuals,
            "today": today,
        },
    )


def _initial_for_create(request: HttpRequest, by: User) -> dict[str, Any]:
    today = timezone.localdate()
    period = request.GET.get("period")
    if period not in Target.Period.values:
        period = Target.Period.MONTH
    initial: dict[str, Any] = {
        "scope": "user",
        "period": period,
        "period_start": services.period_start_for(period, today),
    }
    start = parse_month(request.GET.get("start", ""))
    if start is not None:
        initial["period_start"] = start
    person_id, team_id = _int(request, "user"), _int(request, "team")
    if person_id:
        person = services.settable_users(by).filter(pk=person_id).first()
        if person is not None:
            initial["user"] = person
            initial.update(
                {
                    name: default.value
                    for name, default in services.activity_target_defaults(person.role).items()
                }
            )
    elif team_id:
        initial.update({"scope": "team", "team": team_id})
    elif request.GET.get("scope") == "company":
        initial["scope"] = "company"
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def target_create(request: HttpRequest) -> HttpResponse:
    _require(request, "pipeline.set_target")
    by = request.user
    if request.method == "GET" and request.htmx and _int(request, "user"):
        # The person changed on the form: offer their role's activity targets.
        form = TargetForm(initial=_initial_for_create(request, by), by=by)
        return render(request, "pipeline/targets/_activity_fields.html", {"form": form})
    form = TargetForm(request.POST or None, by=by, initial=_initial_for_create(request, by))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            target = services.target_create(
                by=by,
                user=data["user"],
                team=data["team"],
                period=data["period"],
                period_start=data["period_start"],
                revenue=data["revenue"],
                **{name: data.get(name) for name in services.ACTIVITY_TARGET_FIELDS},
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The target was set."))
            return redirect(_breakdown_url(target))
    return render(request, "pipeline/targets/form.html", {"form": form, "target": None})


def _breakdown_url(target: Target) -> str:
    params = f"period={target.period}&start={target.period_start:%Y-%m}"
    node = target.team_id or (target.user.team_id if target.user_id else None)
    if node:
        params += f"&team={node}"
    return f"{reverse('pipeline:target-breakdown')}?{params}"


def _settable_target(request: HttpRequest, pk: int) -> Target:
    """404 when the target is not visible, 403 when visible but not the user's to set."""
    target = (
        Target.objects.visible_to(request.user).select_related("user", "team").filter(pk=pk).first()
    )
    if target is None:
        raise Http404
    _require(request, "pipeline.set_target")
    if not services.may_set(request.user, user=target.user, team=target.team):
        raise PermissionDenied
    return target


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = _settable_target(request, pk)
    initial = {name: getattr(target, name) for name in services.TARGET_EDITABLE}
    form = TargetEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.target_update(
                by=request.user,
                target=target,
                **{name: form.cleaned_data.get(name) for name in services.TARGET_EDITABLE},
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The target was saved."))
            return redirect(_breakdown_url(target))
    return render(
        request,
        "pipeline/targets/form.html",
        {
            "form": form,
            "target": target,
            "label": scope_label(target),
            "period_label": services.period_label(target.period, target.period_start),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = _settable_target(request, pk)
    if request.method == "POST":
        services.target_delete(by=request.user, target=target)
        messages.success(request, _("The target was deleted."))
        return redirect("pipeline:target-list")
    return render(
        request,
        "pipeline/targets/delete.html",
        {
            "target": target,
            "label": scope_label(target),
            "period_label": services.period_label(target.period, target.period_start),
        },
    )


def _shift(period: str, start: date, steps: int) -> date:
    months = services.PERIOD_MONTHS[Target.Period(period)] * steps
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@login_required
def target_breakdown(request: HttpRequest) -> HttpResponse:
    """A parent's target against the sum of its children's, for one period."""
    _require(request, "pipeline.view_target")
    user = request.user
    today = timezone.localdate()
    period = request.GET.get("period", Target.Period.MONTH)
    if period not in Target.Period.values:
        period = Target.Period.MONTH
    start = services.period_start_for(period, today)
    chosen = parse_month(request.GET.get("start", ""))
    if chosen is not None:
        start = services.period_start_for(period, chosen)
    team = None
    team_id = _int(request, "team")
    if team_id is None and not user.sees_everything and "team" not in request.GET:
        # Start where the user stands: the team they lead, else their own.
        led = services.led_teams(user).order_by("path").first()
        team_id = led.pk if led else user.team_id
    teams = Team.objects.visible_to(user)  # one query for the ids, reused below
    if team_id is not None:
        team = teams.filter(pk=team_id).first()
        if team is None:
            raise Http404
        if team.kind == Team.Kind.COMPANY:
            team = None
    result = services.breakdown(
        by=user, team=team, period=period, start=start, today=today, visible_teams=teams
    )
    ancestors = list(teams.filter(pk__in=team.ancestor_pks).order_by("path")) if team else []
    return render(
        request,
        "pipeline/targets/breakdown.html",
        {
            "b": result,
            "team": team,
            "ancestors": [a for a in ancestors if a.kind != Team.Kind.COMPANY],
            "period": period,
            "periods": Target.Period.choices,
            "start": start,
            "period_label": services.period_label(period, start),
            "prev_start": _shift(period, start, -1),
            "next_start": _shift(period, start, 1),
            "end_inclusive": result.end - timedelta(days=1),
            "today": today,
        },
    )
