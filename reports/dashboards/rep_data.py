"""The rep dashboard's lists that are not KPIs: today's plan, open leads by status,
the weekly report's status — read in one query (``rep_lists``).

Each part starts from ``Model.objects.visible_to(viewer)`` and is narrowed to
the scope's people as they are placed today (``reports.kpis.in_scope``).
The page has a budget of 15 SQL queries, so the three parts travel together
as one ``UNION ALL`` of rows of the same shape (``COLUMNS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Activity, ActivityType, Lead, LeadStatus
from pipeline.services.targets import local_midnight
from reports import weekly
from reports.dashboards.params import DashboardParams
from reports.kpis import PeriodKind, ScopeKind
from reports.kpis.scopes import in_scope
from reports.models import WeeklyReport, WeeklyReportComment
from salesorg.lib.sql import union_all

#: Rows of today's plan shown (the rest are on the activity list).
PLAN_LIMIT = 20

#: Lead statuses still being worked.
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


TYPE_LABELS = dict(ActivityType.choices)


def open_lead_statuses() -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in OPEN_LEAD_STATUSES]


# ------------------------------------------------------------------- the rows
@dataclass(frozen=True)
class PlanRow:
    """One planned activity of today."""

    pk: int
    start: datetime
    type: str
    type_label: str
    subject: str
    client_id: int | None
    lead_id: int | None
    with_name: str

    @property
    def with_url(self) -> str:
        if self.client_id:
            return reverse("clients:detail", args=[self.client_id])
        if self.lead_id:
            return reverse("pipeline:lead-detail", args=[self.lead_id])
        return ""


@dataclass(frozen=True)
class ReportStatus:
    """Where a person's weekly sales report for one ISO week stands."""

    owner_id: int
    week_start: date
    report_id: int | None
    status: str | None  # WeeklyReport.Status, or None when not started
    comments: int
    today: date

    @property
    def week_label(self) -> str:
        return weekly.week_label(self.week_start)

    @property
    def state(self) -> str:
        """ "missing", "draft", "submitted" or "commented" (submitted, with comments)."""
        if self.report_id is None:
            return "missing"
        if self.status == WeeklyReport.Status.SUBMITTED:
            return "commented" if self.comments else "submitted"
        return "draft"

    @property
    def overdue(self) -> bool:
        """Not submitted and the week's Friday has come."""
        return self.status != WeeklyReport.Status.SUBMITTED and self.today >= (
            self.week_start + timedelta(days=4)
        )


@dataclass
class RepLists:
    plan: list[PlanRow] = field(default_factory=list)
    leads: dict[str, int] = field(default_factory=dict)
    report: ReportStatus | None = None  # None: the person is not expected to report


def report_week(params: DashboardParams) -> date:
    """The Monday of the week whose report the dashboard shows: the chosen week,
    else the current one."""
    if params.period.kind == PeriodKind.WEEK:
        return params.period.start
    return weekly.monday_of(params.today)


def report_owner(params: DashboardParams) -> int:
    """Whose report: the person of a person or line scope, else the viewer."""
    if params.scope.kind in (ScopeKind.PERSON, ScopeKind.LINE) and params.scope.id:
        return params.scope.id
    return params.viewer.pk


# ------------------------------------------------------------------ the query
#: The shape of every row: which part, a code (activity type, lead or report
#: status), a number (client id, lead count, comment count), a reference
#: (activity, report), a moment, a text (subject), a name and a lead id.
COLUMNS = ("r_kind", "r_code", "r_num", "r_ref", "r_at", "r_text", "r_name", "r_lead")


def _null(field: Any) -> Value:
    return Value(None, output_field=field)


def _plan_part(params: DashboardParams) -> QuerySet[Any]:
    """Planned (not done, not cancelled) activities starting today, by time."""
    today = params.today
    return (
        Activity.objects.visible_to(params.viewer)
        .filter(in_scope(params.scope, "owner", today))
        .filter(
            status=Activity.Status.PLANNED,
            start_at__gte=local_midnight(today),
            start_at__lt=local_midnight(today + timedelta(days=1)),
        )
        .annotate(
            r_kind=Value("plan"),
            r_code=F("type"),
            r_num=F("client_id"),
            r_ref=F("pk"),
            r_at=F("start_at"),
            r_text=F("subject"),
            r_name=Coalesce(F("client__name"), F("lead__name"), Value("")),
            r_lead=F("lead_id"),
        )
        .order_by("start_at", "pk")
        .values_list(*COLUMNS)[:PLAN_LIMIT]
    )


def _leads_part(params: DashboardParams) -> QuerySet[Any]:
    """Open leads grouped by status."""
    return (
        Lead.objects.visible_to(params.viewer)
        .filter(in_scope(params.scope, "owner", params.today), status__in=OPEN_LEAD_STATUSES)
        .order_by()
        .values("status")
        .annotate(
            r_kind=Value("lead"),
            r_code=F("status"),
            r_num=Count("pk"),
            r_ref=_null(IntegerField()),
            r_at=_null(DateTimeField()),
            r_text=_null(CharField()),
            r_name=_null(CharField()),
            r_lead=_null(IntegerField()),
        )
        .values_list(*COLUMNS)
    )


def _report_part(params: DashboardParams) -> QuerySet[Any]:
    """The report owner, if someone expected to report whom the viewer sees
    (``weekly.reporters``), with their report of the week and its comments."""
    comments = (
        WeeklyReportComment.objects.filter(report_id=OuterRef("report_id"))
        .order_by()
        .values("report_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    people = weekly.reporters(params.viewer).filter(pk=report_owner(params))
    return (
        weekly.with_week_report(people, report_week(params))
        .order_by()
        .annotate(
            r_kind=Value("report"),
            r_code=F("report_status"),
            r_num=Coalesce(Subquery(comments, output_field=IntegerField()), 0),
            r_ref=F("report_id"),
            r_at=_null(DateTimeField()),
            r_text=_null(CharField()),
            r_name=_null(CharField()),
            r_lead=_null(IntegerField()),
        )
        .values_list(*COLUMNS)
    )


def rep_lists(params: DashboardParams) -> RepLists:
    """Today's plan, open leads by status and the weekly report's status (one query)."""
    out = RepLists()
    parts = union_all([_plan_part(params), _leads_part(params), _report_part(params)])
    plan = []
    for kind, code, num, ref, at, text, name, lead_id in parts:
        if kind == "plan":
            plan.append(
                PlanRow(
                    pk=ref,
                    start=timezone.localtime(at),
                    type=code,
                    type_label=str(TYPE_LABELS.get(code, code)),
                    subject=text or str(TYPE_LABELS.get(code, code)),
                    client_id=num,
                    lead_id=lead_id,
                    with_name=name or "",
                )
            )
        elif kind == "lead":
            out.leads[code] = num
        else:
            out.report = ReportStatus(
                owner_id=report_owner(params),
                week_start=report_week(params),
                report_id=ref,
                status=code,
                comments=num,
                today=params.today,
            )
    # UNION ALL keeps no order across its parts: put the plan back in time order
    out.plan = sorted(plan, key=lambda r: (r.start, r.pk))
    return out


__all__ = [
    "PLAN_LIMIT",
    "PlanRow",
    "RepLists",
    "ReportStatus",
    "open_lead_statuses",
    "rep_lists",
]
