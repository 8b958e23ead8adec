"""What the manager's dashboard reads besides the KPI definitions: one query.

The leaderboard's people with their targets and skill profiles, plus the
lists a manager acts on — stale deals and overdue complaints of each person,
the discount approvals waiting for the viewer — come back as one row per
person (correlated subqueries and JSON arrays), so the whole page stays
within its query budget however large the team. Every list starts from
``Model.objects.visible_to(viewer)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from clients.models import Client, Complaint
from pipeline.models import Deal, QuoteApproval, Target
from pipeline.services.reminders import stale_open_deals
from reports import teambuilding
from reports.dashboards.common import text
from reports.kpis import Period, in_scope
from reports.models import SkillAssessment

if TYPE_CHECKING:
    from reports.dashboards.params import DashboardParams

#: rows of each list read per person (the counts are exact)
LIST_ROWS = 10

#: Target preference for activity rates, as ``kpis.activity_vs_targets`` picks them.
_RANK = {Target.Period.MONTH: 0, Target.Period.QUARTER: 1, Target.Period.YEAR: 2}


@dataclass
class PersonRow:
    """One person of the scope (or the viewer, for the approvals) with what the page shows."""

    pk: int
    name: str
    member: bool  # placed in the scope on the day the period is read at, and active
    revenue_target: Decimal | None
    calls_per_day: int | None
    visits_per_week: int | None
    skills: dict[str, int | None]
    skill_assessed_on: date | None
    stale_count: int
    stale: list[dict[str, Any]]
    overdue_count: int
    overdue: list[dict[str, Any]]
    approvals: list[dict[str, Any]] = field(default_factory=list)


def _activity_targets(starts: dict[str, date]) -> Subquery:
    """The person's call and visit rates (``{"calls": …, "visits": …}``) from the
    month's target, else the quarter's, else the year's."""
    choice = Q(pk__in=[])
    for kind, start in starts.items():
        choice |= Q(period=kind, period_start=start)
    rank = Case(
        *[When(period=kind, then=Value(r)) for kind, r in _RANK.items()],
        output_field=IntegerField(),
    )
    return Subquery(
        Target.objects.filter(choice, user=OuterRef("pk"))
        .annotate(rank=rank)
        .order_by("rank")
        .values(json=JSONObject(calls="calls_per_day", visits="visits_per_week"))[:1]
    )


def _revenue_target(period: Period) -> Any:
    """The person's revenue target for exactly this period, as ``kpis.target_for`` finds it."""
    if period.target_period is None or period != Period.containing(period.kind, period.start):
        return Value(None, output_field=Target._meta.get_field("revenue"))
    return Subquery(
        Target.objects.filter(
            user=OuterRef("pk"), period=period.target_period, period_start=period.start
        ).values("revenue")[:1]
    )


def _client_name() -> Subquery:
    """The client's name as a subquery, not a join: PostgreSQL then looks it up for
    the rows kept after ORDER BY … LIMIT only (a join named every stale deal's client)."""
    return Subquery(Client.objects.filter(pk=OuterRef("client_id")).values("name")[:1])


def _STALE_JSON() -> JSONObject:
    return JSONObject(
        n="list_n",
        id="pk",
        title="title",
        client=_client_name(),
        stage_id="stage_id",
        amount=text("amount"),
        currency="currency",
        quiet=text("quiet"),
    )


def _OVERDUE_JSON() -> JSONObject:
    return JSONObject(
        n="list_n",
        id="pk",
        subject="subject",
        client="client__name",
        severity="severity",
        due=text("sla_due_at"),
    )


def _APPROVAL_JSON() -> JSONObject:
    return JSONObject(
        id="pk",
        quote_id="quote_id",
        quote="quote__number",
        deal="quote__deal__title",
        client="quote__deal__client__name",
        requested_by_first="requested_by__first_name",
        requested_by_last="requested_by__last_name",
        requested_by_username="requested_by__username",
        discount=text("discount_percent"),
        requested_at=text("requested_at"),
    )


def _counted(qs: QuerySet[Any]) -> QuerySet[Any]:
    """``list_n``: how many rows the owner's whole list has, on each row (a window
    count, taken before ``LIMIT``), so one subquery gives a list's first rows and
    its length — two subqueries read every stale deal of a person twice."""
    return qs.annotate(list_n=Window(Count("pk"), partition_by=F("owner")))


def _length(rows: list[dict[str, Any]] | None) -> int:
    return int(rows[0]["n"]) if rows else 0


def _grouped(values: QuerySet[Any], key: str, limit: int | None) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for row in values:
        group = out.setdefault(row[key], [])
        if limit is None or len(group) < limit:
            group.append(row["json"])
    return out


def people(params: DashboardParams, *, day: date, also: set[int], now: datetime) -> list[PersonRow]:
    """Everyone placed in the scope on ``day`` (and ``also``: people with figures in
    the period who have left it since), plus the viewer for the approvals — one query."""
    viewer = params.viewer
    period = params.period
    starts = {kind: Period.containing(kind, period.start).start for kind in Target.Period}
    member = in_scope(params.scope, "pk", day) & Q(is_active=True)
    all_stale = stale_open_deals(now, base=Deal.objects.visible_to(viewer)).annotate(
        quiet=Coalesce("last_activity_at", "created_at")
    )
    all_overdue = Complaint.objects.visible_to(viewer).overdue(now)
    all_approvals = QuoteApproval.objects.visible_to(viewer).filter(
        decision=QuoteApproval.Decision.PENDING
    )
    stale = _counted(all_stale.filter(owner=OuterRef("pk")))
    overdue = _counted(all_overdue.filter(owner=OuterRef("pk")))
    approvals = all_approvals.filter(approver=OuterRef("pk"))
    # The lists come back as JSON arrays on PostgreSQL; elsewhere (the embedded
    # SQLite default) a query each, below.
    portable = connection.vendor != "postgresql"

    def array(values: QuerySet[Any]) -> Any:
        return Value(None, output_field=JSONField()) if portable else ArraySubquery(values)

    qs: QuerySet[User] = (
        User.objects.visible_to(viewer)
        .filter(member | Q(pk__in=also) | Q(pk=viewer.pk))
        .annotate(
            member=ExpressionWrapper(member, output_field=BooleanField()),
            revenue_target=_revenue_target(period),
            activity_targets=_activity_targets(starts),
            skill_profile=teambuilding.latest_skill_profile(
                SkillAssessment.objects.visible_to(viewer)
            ),
            stale_rows=array(stale.order_by("quiet", "pk").values(json=_STALE_JSON())[:LIST_ROWS]),
            overdue_rows=array(
                overdue.order_by("sla_due_at", "pk").values(json=_OVERDUE_JSON())[:LIST_ROWS]
            ),
            approval_rows=Case(
                When(
                    pk=viewer.pk,
                    then=array(
                        approvals.order_by("requested_at", "pk").values(json=_APPROVAL_JSON())
                    ),
                ),
                default=Value(None),
            ),
        )
        .order_by("path", "pk")
    )
    people_ = list(qs)
    if portable:
        pks = [p.pk for p in people_]
        stale_by = _grouped(
            _counted(all_stale.filter(owner__in=pks))
            .order_by("quiet", "pk")
            .values("owner", json=_STALE_JSON()),
            "owner",
            LIST_ROWS,
        )
        overdue_by = _grouped(
            _counted(all_overdue.filter(owner__in=pks))
            .order_by("sla_due_at", "pk")
            .values("owner", json=_OVERDUE_JSON()),
            "owner",
            LIST_ROWS,
        )
        approvals_by = _grouped(
            all_approvals.filter(approver=viewer)
            .order_by("requested_at", "pk")
            .values("approver", json=_APPROVAL_JSON()),
            "approver",
            None,
        )
        for p in people_:
            p.stale_rows = stale_by.get(p.pk, [])
            p.overdue_rows = overdue_by.get(p.pk, [])
            p.approval_rows = approvals_by.get(p.pk) if p.pk == viewer.pk else None
    rows = []
    for p in people_:
        targets = p.activity_targets or {}
        profile = p.skill_profile or {}
        assessed_on = profile.get("assessed_on")
        rows.append(
            PersonRow(
                pk=p.pk,
                name=str(p),
                member=bool(p.member),
                revenue_target=p.revenue_target,
                calls_per_day=targets.get("calls"),
                visits_per_week=targets.get("visits"),
                skills={key: profile.get(key) for key, _l in teambuilding.SKILLS},
                skill_assessed_on=date.fromisoformat(assessed_on[:10]) if assessed_on else None,
                stale_count=_length(p.stale_rows),
                stale=[_moments(r, "quiet") for r in p.stale_rows or []],
                overdue_count=_length(p.overdue_rows),
                overdue=[_moments(r, "due") for r in p.overdue_rows or []],
                approvals=[_moments(r, "requested_at") for r in p.approval_rows or []],
            )
        )
    return rows


def _moments(row: dict[str, Any], *names: str) -> dict[str, Any]:
    """JSON carries moments as text; turn them back into aware datetimes."""
    for name in names:
        if row.get(name):
            moment = parse_datetime(row[name].replace(" ", "T", 1))
            if moment is not None and timezone.is_naive(moment):
                moment = timezone.make_aware(moment, UTC)  # SQLite keeps UTC without an offset
            row[name] = moment
    return row


def stale_days() -> int:
    """How long without activity makes an open deal stale (the weekly alert's setting)."""
    return settings.SALESORG_STALE_DEAL_DAYS


def expected(rate: int | None, per: Decimal) -> Decimal | None:
    """A rate (a day, a week) over the period's working days or weeks so far, as
    ``kpis.activity_vs_targets`` computes the expected count."""
    return None if rate is None else (Decimal(rate) * per).quantize(Decimal("0.1"))


def team_expected(rates: list[int | None], per: Decimal) -> Decimal | None:
    """The scope's expected count: the members' rates summed, then over the period."""
    present = [r for r in rates if r is not None]
    return (Decimal(sum(present)) * per).quantize(Decimal("0.1")) if present else None


__all__ = ["LIST_ROWS", "PersonRow", "expected", "people", "stale_days", "team_expected"]
