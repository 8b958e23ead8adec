"""The role dashboards and the drill-down page behind every number on them."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from pipeline.models import ActivityType
from reports.dashboards.params import DashboardForm, DashboardParams, parse_params
from reports.dashboards.widgets import Dashboard
from reports.kpis import RFM_SEGMENTS, PeriodKind, one_reading
from reports.kpis.registry import (
    KPIS,
    Options,
    ordered_ids,
    record_kind,
    record_rows,
    record_table_header,
    record_table_rows,
    records_by_ids,
)
from salesorg.lib.export import EXPORT_FORMATS, ReportTable, export_table
from salesorg.lib.pagination import CappedPaginator

#: Each role's dashboard builder: ``reports.dashboards.<module>.build(params) -> Dashboard``.
BUILDERS = {
    Role.DIRECTOR: "director",
    Role.MANAGER: "manager",
    Role.ACCOUNT_MANAGER: "account_manager",
    Role.REP: "rep",
    Role.SUPPORT: "support",
}

#: The period a role's dashboard opens on.
DEFAULT_PERIODS = {Role.REP: PeriodKind.WEEK}


def build_dashboard(params: DashboardParams, role: str) -> Dashboard:
    module = import_module(f"reports.dashboards.{BUILDERS[role]}")
    with one_reading():
        return module.build(params)


def _stem(params: DashboardParams, name: str) -> str:
    scope = params.scope
    who = scope.kind if scope.id is None else f"{scope.kind}{scope.id}"
    return f"{name}_{who}_{params.period.start:%Y%m%d}-{params.period.last:%Y%m%d}"


@login_required
def home(request: HttpRequest, role: str) -> HttpResponse:
    """A role's dashboard; someone asking for another role's lands on their own."""
    if role not in Role.values:
        raise Http404
    user = request.user
    if role != user.role:
        return redirect("reports:home", role=user.role)
    params = parse_params(
        request, default_period=DEFAULT_PERIODS.get(role, PeriodKind.MONTH), picker=True
    )
    dashboard = build_dashboard(params, role)
    fmt = request.GET.get("export")
    if fmt:
        table = dashboard.tables().get(request.GET.get("table", ""))
        if table is None or fmt not in EXPORT_FORMATS:
            raise Http404(_("No such table to download."))
        return export_table(table.report_table(_stem(params, role)), fmt)
    context = {
        "dashboard": dashboard,
        "params": params,
        "scopes": params.scopes,
        "period_kinds": [(k, PeriodKind(k).label) for k in dashboard.period_kinds],
        "prev_query": params.step(-1),
        "next_query": params.step(+1),
    }
    return render(request, f"reports/home_{role}.html", context)


class RecordsForm(forms.Form):
    """What a drill-down link may add to scope and period."""

    part = forms.CharField(required=False)
    stage = forms.IntegerField(required=False, min_value=1)
    month = forms.DateField(required=False)
    as_of = forms.DateField(required=False)
    recency = forms.IntegerField(required=False, min_value=1, max_value=5)
    frequency = forms.IntegerField(required=False, min_value=1, max_value=5)
    monetary = forms.IntegerField(required=False, min_value=1, max_value=5)
    segment = forms.ChoiceField(required=False, choices=[("", "")] + [(s, s) for s in RFM_SEGMENTS])


#: Headings of the drill-down page, per KPI.
TITLES = {
    "won-revenue": gettext_lazy("Won revenue"),
    "win-rate": gettext_lazy("Win rate"),
    "visit-conversion": gettext_lazy("Visit conversion"),
    "funnel": gettext_lazy("Open deals by stage"),
    "stage-conversion": gettext_lazy("Stage conversion"),
    "negotiation-cycle": gettext_lazy("Negotiation cycle"),
    "average-contract": gettext_lazy("Contracts signed"),
    "renewal-rate": gettext_lazy("Renewal rate"),
    "attainment": gettext_lazy("Target attainment"),
    "weighted-pipeline": gettext_lazy("Weighted pipeline"),
    "nps": gettext_lazy("NPS"),
    "csat": gettext_lazy("CSAT"),
    "complaint-sla": gettext_lazy("Complaint SLA"),
    "cadence-compliance": gettext_lazy("Cadence compliance"),
    "activities": gettext_lazy("Activities"),
    "rfm": gettext_lazy("RFM"),
}

#: What a piece of a number is called on the drill-down page.
PARTS = {
    "won": gettext_lazy("won"),
    "lost": gettext_lazy("lost"),
    "converted": gettext_lazy("converted"),
    "not_converted": gettext_lazy("not converted"),
    "entered": gettext_lazy("entered the stage"),
    "advanced": gettext_lazy("moved on"),
    "renewed": gettext_lazy("renewed"),
    "not_renewed": gettext_lazy("not renewed"),
    "promoters": gettext_lazy("promoters"),
    "passives": gettext_lazy("passives"),
    "detractors": gettext_lazy("detractors"),
    "in_sla": gettext_lazy("answered in time"),
    "missed": gettext_lazy("answered late or not yet"),
    "on_cadence": gettext_lazy("on cadence"),
    "overdue": gettext_lazy("overdue"),
    "calls": gettext_lazy("calls"),
    "other_currency": gettext_lazy("in other currencies"),
}

PER_PAGE = 50


@login_required
def records(request: HttpRequest, kpi: str) -> HttpResponse:
    """The records behind a number, as ``viewer`` may see them (``visible_to`` first)."""
    definition = KPIS.get(kpi)
    if definition is None or definition.records is None:
        raise Http404
    params = parse_params(request)
    form = RecordsForm(request.GET)
    extra: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    errors = list(params.errors) + [str(e) for errs in form.errors.values() for e in errs]
    part = extra.get("part") or None
    if part and part not in definition.parts:
        errors.append(_("Choose one of: %s") % ", ".join(definition.parts))
        part = None
    if kpi == "stage-conversion" and not extra.get("stage"):
        raise Http404(_("Say which stage."))
    options = Options(
        part=part,
        **{k: v for k, v in extra.items() if k != "part" and v not in (None, "")},
    )
    qs = definition.records(params.scope, params.period, request.user, options)
    fmt = request.GET.get("export")
    if fmt in EXPORT_FORMATS:
        table = ReportTable(
            _stem(params, f"{kpi}-records"),
            record_table_header(),
            record_table_rows(qs),
            sheet=kpi,
        )
        return export_table(table, fmt)
    kind = record_kind(qs)
    page = CappedPaginator(ordered_ids(qs), PER_PAGE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    for name in ("page", "export"):
        keep.pop(name, None)
    return render(
        request,
        "reports/dashboards/records.html",
        {
            "kpi": kpi,
            "title": TITLES.get(kpi, kpi),
            "part": (PARTS.get(part) or dict(ActivityType.choices).get(part, part))
            if part
            else None,
            "params": params,
            "errors": errors,
            "page": page,
            "rows": record_rows(records_by_ids(qs, page.object_list), kind),
            "keep_query": keep.urlencode(),
            "as_of": extra.get("as_of"),
        },
    )


__all__ = ["DashboardForm", "build_dashboard", "home", "records"]
