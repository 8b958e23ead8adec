"""One function per KPI of SPEC section 7, and the records behind each number.

See ``reports.kpis`` (the package docstring) for the interface; this module
holds the definitions. Each number is one or a few SQL aggregates; each
``*_records`` function returns the queryset of what was counted, starting from
``Model.objects.visible_to(viewer)`` so a drill-down never shows what the
viewer may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Round
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.rfm import RFM_SEGMENT_LABELS, rfm_segment
from reports.kpis import facts, snapshot
from reports.kpis.facts import MEASURES, Totals, cny, local_date
from reports.kpis.periods import Period, local_midnight
from reports.kpis.results import (
    ZERO,
    ActivityVsTargets,
    Attainment,
    AverageContract,
    CadenceCompliance,
    ComplaintSla,
    Csat,
    Funnel,
    FunnelStage,
    NegotiationCycle,
    Nps,
    PipelineMonth,
    RenewalRate,
    RfmCell,
    RfmDistribution,
    StageConversion,
    StageStep,
    VisitConversion,
    WeightedPipeline,
    WinRate,
    WonRevenue,
)
from reports.kpis.scopes import Scope, ScopeKind, client_in_scope, in_scope
from salesorg.lib import refcache
from salesorg.lib.sql import DateTrunc

if TYPE_CHECKING:
    from accounts.models import User


class Source(models.TextChoices):
    """Where rollup-backed figures come from.

    ``auto`` (the default): past days from the rollup when every one of them
    is rolled up, today from the records (days still to come hold nothing
    yet); otherwise everything from the records. ``live``: always from the
    records. ``rollup``: only the rollup.
    """

    AUTO = "auto", _("Rollup where complete, else live")
    LIVE = "live", _("Live from the records")
    ROLLUP = "rollup", _("Rollup only")


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _split(period: Period, today: date) -> tuple[Period | None, Period | None]:
    """The days before today (for the rollup) and today (live) within ``period``.

    Days after today have no work yet (it is logged when done; deals close and
    contracts end today or earlier), so ``auto`` does not scan them; they are
    counted when they have happened and are rolled up.
    """
    return period.clip(end=today), period.clip(start=today, end=today + timedelta(days=1))


#: While ``one_reading`` is active: the ranges asked about and their rolled-up days.
_rolled_days: ContextVar[list[tuple[date, date, frozenset[date]]] | None] = ContextVar(
    "rolled_days", default=None
)


@contextmanager
def one_reading() -> Iterator[None]:
    """Within this block, the rollup's coverage of a period is read once.

    A dashboard reads the year by month and then the month by team: the
    second question is answered from the days the first one fetched (a page
    is drawn in well under a second; a rollup landing meanwhile is picked up
    by the next page).
    """
    token = _rolled_days.set([])
    try:
        yield
    finally:
        _rolled_days.reset(token)


def rolled_up(period: Period) -> bool:
    """Whether every day of ``period`` has been rolled up (one query)."""
    from reports.models import RollupDay

    days = RollupDay.objects.filter(day__gte=period.start, day__lt=period.end)
    known = _rolled_days.get()
    if known is None:
        return days.count() == period.days
    for start, end, rolled in known:
        if start <= period.start and period.end <= end:
            return all(day in rolled for day in period)
    rolled = frozenset(days.values_list("day", flat=True))
    known.append((period.start, period.end, rolled))
    return len(rolled) == period.days


# ------------------------------------------------------------------------- totals
def totals(
    scope: Scope, period: Period, *, source: str = Source.AUTO, today: date | None = None
) -> Totals:
    """Every daily measure (``facts.FACT_FIELDS``) for ``scope`` over ``period``.

    The rollup-backed KPIs below are read off this; call it once and use
    ``won_revenue_from(t)``, ``win_rate_from(t)``… when a page needs several.
    """
    if source == Source.LIVE:
        return facts.live_totals(scope, period)
    if source == Source.ROLLUP:
        return facts.rollup_totals(scope, period)
    today = _today(today)
    past, recent = _split(period, today)
    if past is None or not rolled_up(past):
        return facts.live_totals(scope, period)
    if recent is None:
        return facts.rollup_totals(scope, past)
    return facts.rollup_totals(scope, past) + facts.live_totals(scope, recent)


#: What ``breakdown`` can group by.
BREAKDOWNS = ("person", "team", "day", "week", "month", "quarter")


def _bucket(day: date, by: str) -> date:
    if by == "day":
        return day
    return Period.containing(by, day).start


def _rollup_by(by: str, column: str) -> str:
    """Weeks, months and quarters are summed by the database from the rollup; the
    live days (today) are bucketed below, where a bucket's first day maps to itself."""
    return by if by in ("week", "month", "quarter") else column


def breakdown(
    scope: Scope,
    period: Period,
    *,
    by: str,
    source: str = Source.AUTO,
    today: date | None = None,
) -> dict[Any, Totals]:
    """Every daily measure per person (user id), team (id) or time bucket (its first day).

    ``team`` groups by the teams directly under the scope's team (the regions
    for the company), as the people were placed on each day; people placed
    in the scope's own team count under its id. Time buckets are weeks
    (Monday), months, quarters or days. One or two queries.
    """
    if by not in BREAKDOWNS:
        raise ValidationError({"by": _("Group by person, team, day, week, month or quarter.")})
    column = {"person": "person", "team": "team_path"}.get(by, "day")
    if by == "team" and scope.kind == ScopeKind.COMPANY:
        # Team and line scopes bring the placements up to date when they are
        # made; the company's needs them here, for the teams people were in.
        from reports.kpis import tree

        tree.ensure_fresh()
    today = _today(today)
    past, recent = _split(period, today)
    if source == Source.LIVE or (source == Source.AUTO and (past is None or not rolled_up(past))):
        groups = facts.live_groups(scope, period, column)
    elif source == Source.ROLLUP or recent is None:
        groups = facts.rollup_groups(scope, past or period, _rollup_by(by, column))
    else:
        groups = facts.merge_groups(
            facts.rollup_groups(scope, past, _rollup_by(by, column)),
            facts.live_groups(scope, recent, column),
        )
    if by == "person":
        return groups
    if by == "team":
        return _by_child_team(scope, groups)
    return dict(sorted(facts.regroup((_bucket(day, by), v) for day, v in groups.items()).items()))


def _child_team_of(scope: Scope) -> Callable[[str | None], Any]:
    """Which team directly under the scope's team (the regions, for the company) a
    team path falls in; the scope's own team's id for its own members."""
    from accounts.models import Team

    if scope.kind == ScopeKind.TEAM:
        parent_id = scope.id
        children = refcache.cached(
            f"child-teams:{parent_id}",
            lambda: list(Team.objects.filter(parent_id=parent_id).values_list("pk", flat=True)),
        )
    elif scope.kind == ScopeKind.COMPANY:
        # The roots and the teams right under them (the regions): the shape of
        # the organisation's top changes rarely, so it is kept in the cache
        # (a team saved or deleted starts afresh).
        top = refcache.cached(
            "top-teams",
            lambda: list(
                Team.objects.filter(Q(parent__isnull=True) | Q(parent__parent__isnull=True))
                .order_by("path")
                .values_list("pk", "parent_id")
            ),
        )
        roots = [pk for pk, parent in top if parent is None]
        parent_id = roots[0] if len(roots) == 1 else None
        children = [pk for pk, parent in top if parent == parent_id] if parent_id else roots
    else:
        raise ValidationError({"by": _("Only a team's or the company's figures split by team.")})

    def team_of(team_path: str | None) -> Any:
        segments = [int(s) for s in (team_path or "").split(".") if s]
        return next((c for c in children if c in segments), parent_id)

    return team_of


def _by_child_team(scope: Scope, groups: dict[Any, Totals]) -> dict[Any, Totals]:
    team_of = _child_team_of(scope)
    return facts.regroup((team_of(path), values) for path, values in groups.items())


def breakdown_by_team_and_month(
    scope: Scope, period: Period, *, source: str = Source.AUTO, today: date | None = None
) -> dict[tuple[Any, date], Totals]:
    """``breakdown(by="team")`` of each month of ``period``, in one read:
    ``{(team id, month's first day): Totals}``.

    The director's page shows the year by month and the regions over the
    chosen months; both are sums of these (the rollup by month and team path,
    today's records by team path), so the year is read once, not twice.
    """
    if scope.kind == ScopeKind.COMPANY:
        from reports.kpis import tree

        tree.ensure_fresh()
    team_of = _child_team_of(scope)
    today = _today(today)
    past, recent = _split(period, today)
    if source == Source.LIVE or (source == Source.AUTO and (past is None or not rolled_up(past))):
        groups = facts.live_groups(scope, period, ("day", "team_path"))
    elif source == Source.ROLLUP or recent is None:
        groups = facts.rollup_groups(scope, past or period, ("month", "team_path"))
    else:
        groups = facts.merge_groups(
            facts.rollup_groups(scope, past, ("month", "team_path")),
            facts.live_groups(scope, recent, ("day", "team_path")),
        )
    return facts.regroup(
        ((team_of(path), _bucket(day, "month")), values) for (day, path), values in groups.items()
    )


# -------------------------------------------------------- rollup-backed numbers
def won_revenue_from(t: Totals) -> WonRevenue:
    return WonRevenue(t.won_amount, t.deals_won, t.won_other_currency, t.source)


def win_rate_from(t: Totals) -> WinRate:
    return WinRate(t.deals_won, t.deals_lost, t.source)


def nps_from(t: Totals) -> Nps:
    return Nps(t.nps_responses, t.nps_promoters, t.nps_detractors, t.source)


def csat_from(t: Totals) -> Csat:
    return Csat(t.csat_responses, t.csat_sum, t.source)


def complaint_sla_from(t: Totals) -> ComplaintSla:
    return ComplaintSla(t.complaints_received, t.complaints_in_sla, t.source)


def won_revenue(scope: Scope, period: Period, *, source: str = Source.AUTO) -> WonRevenue:
    """SPEC 7: sum of won deals' amounts by close date (CNY; see ``facts``)."""
    return won_revenue_from(totals(scope, period, source=source))


def win_rate(scope: Scope, period: Period, *, source: str = Source.AUTO) -> WinRate:
    """SPEC 7: won ÷ (won + lost) among deals closed in the period."""
    return win_rate_from(totals(scope, period, source=source))


def nps(scope: Scope, period: Period, *, source: str = Source.AUTO) -> Nps:
    """SPEC 7: % promoters (9–10) − % detractors (0–6), answers submitted in the period."""
    return nps_from(totals(scope, period, source=source))


def csat(scope: Scope, period: Period, *, source: str = Source.AUTO) -> Csat:
    """Average CSAT score of the answers submitted in the period."""
    return csat_from(totals(scope, period, source=source))


def complaint_sla(scope: Scope, period: Period, *, source: str = Source.AUTO) -> ComplaintSla:
    """SPEC 7: share of the complaints received in the period answered within their SLA."""
    return complaint_sla_from(totals(scope, period, source=source))


def won_revenue_many(items: dict[Any, tuple[Scope, Period]]) -> dict[Any, Decimal]:
    """Won revenue of several (scope, period) pairs in one live query (filtered SUMs).

    For pages listing many targets; the same definition as ``won_revenue``: won
    deals' CNY amounts by close date, each counted for its owner's placement on
    that day. The deals are joined to those placements once (a team's or a
    line's condition is then a test on the joined row), rather than probing the
    placements again for every deal and every pair — which took over a second
    for an account manager's targets at 100,000 deals.
    """
    from pipeline.models import Deal, Stage
    from reports.models import Placement

    if not items:
        return {}
    ops = connection.ops
    q = ops.quote_name

    def day(value: date) -> Any:
        return ops.adapt_datefield_value(value)

    start = min(p.start for _s, p in items.values())
    end = max(p.end for _s, p in items.values())
    aliases = {f"s{i}": key for i, key in enumerate(items)}
    sums, params = [], []
    for alias, key in aliases.items():
        scope, period = items[key]
        condition = "d.closed_on >= %s AND d.closed_on < %s"
        params += [day(period.start), day(period.end)]
        if scope.kind != ScopeKind.COMPANY:
            placed, placed_params = scope.placed_sql("p", "d.owner_id")
            condition += f" AND {placed}"
            params += placed_params
        sums.append(f"COALESCE(SUM(d.amount) FILTER (WHERE {condition}), 0) AS {alias}")
    sql = (
        f"SELECT {', '.join(sums)} "  # noqa: S608 - our table names; values are parameters
        f"FROM {q(Deal._meta.db_table)} d "
        f"JOIN {q(Stage._meta.db_table)} s ON s.id = d.stage_id "
        f"LEFT JOIN {q(Placement._meta.db_table)} p ON p.user_id = d.owner_id "
        "AND p.valid_from <= d.closed_on AND p.valid_until > d.closed_on "
        "WHERE s.kind = %s AND d.currency = %s AND d.closed_on >= %s AND d.closed_on < %s"
    )
    params += [Stage.Kind.WON, cny(), day(start), day(end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return {
        key: Decimal(str(row[i] or 0)).quantize(Decimal("0.01"))
        for i, key in enumerate(aliases.values())
    }


# -------------------------------------------------------------- attainment
def target_for(scope: Scope, period: Period) -> Any:
    """The ``Target`` set for exactly this scope and period (month, quarter, year), if any."""
    from pipeline.models import Target

    if period.target_period is None or period != Period.containing(period.kind, period.start):
        return None
    qs = Target.objects.filter(period=period.target_period, period_start=period.start)
    if scope.kind == ScopeKind.PERSON:
        return qs.filter(user_id=scope.id).first()
    if scope.kind == ScopeKind.TEAM:
        return qs.filter(team_id=scope.id).first()
    if scope.kind == ScopeKind.COMPANY:
        return qs.filter(user__isnull=True, team__isnull=True).first()
    return None


def target_attainment(
    scope: Scope, period: Period, *, source: str = Source.AUTO, won: WonRevenue | None = None
) -> Attainment:
    """SPEC 7: won revenue ÷ the revenue target of the same scope and period.

    Targets exist for a person, a team or the company and a month, quarter or
    year; for any other scope or period the target is 0 and the ratio ``None``.
    """
    target = target_for(scope, period)
    if won is None:
        won = won_revenue(scope, period, source=source)
    return Attainment(
        target=target.revenue if target else ZERO,
        won=won.amount,
        target_id=target.pk if target else None,
    )


# ------------------------------------------------------ activities vs targets
def _members_on(scope: Scope, day: date) -> list[int]:
    from accounts.models import User
    from reports.models import Placement

    if scope.kind == ScopeKind.PERSON:
        return [scope.id] if scope.id is not None else []
    if scope.kind == ScopeKind.COMPANY:
        return list(User.objects.filter(is_active=True).values_list("pk", flat=True))
    return list(
        Placement.objects.filter(scope.placed_q(), valid_from__lte=day, valid_until__gt=day)
        .filter(user__is_active=True)
        .values_list("user_id", flat=True)
    )


def activity_vs_targets(
    scope: Scope,
    period: Period,
    *,
    source: str = Source.AUTO,
    today: date | None = None,
    counted: Totals | None = None,
) -> ActivityVsTargets:
    """Done calls, visits and demos against the activity targets of the scope's people.

    Each person's target is the month's that the period starts in, else the
    quarter's, else the year's (as on the targets page). Working days are
    Monday to Friday, counted up to today for a period still running.
    """
    from pipeline.models import Target

    today = _today(today)
    t = counted or totals(scope, period, source=source, today=today)
    members = _members_on(scope, min(period.last, today))
    starts = {kind: Period.containing(kind, period.start).start for kind in Target.Period}
    chosen: dict[int, Target] = {}
    rank = {Target.Period.MONTH: 0, Target.Period.QUARTER: 1, Target.Period.YEAR: 2}
    candidates = Target.objects.filter(
        user_id__in=members,
        period_start__in=set(starts.values()),
    ).only("user_id", "period", "period_start", *_ACTIVITY_TARGETS)
    for target in candidates:
        if target.period_start != starts[target.period]:
            continue
        best = chosen.get(target.user_id)
        if best is None or rank[target.period] < rank[best.period]:
            chosen[target.user_id] = target
    workdays = period.workdays(until=today + timedelta(days=1))
    weeks = Decimal(workdays) / 5

    def expected(field: str, per: Decimal) -> Decimal | None:
        rates = [getattr(t, field) for t in chosen.values() if getattr(t, field) is not None]
        if not rates:
            return None
        return (Decimal(sum(rates)) * per).quantize(Decimal("0.1"))

    return ActivityVsTargets(
        calls=t.calls,
        visits=t.act_visit,
        demos=t.act_demo,
        expected_calls=expected("calls_per_day", Decimal(workdays)),
        expected_visits=expected("visits_per_week", weeks),
        expected_demos=expected("demos_per_week", weeks),
        workdays=workdays,
        people_with_targets=len(chosen),
        source=t.source,
    )


_ACTIVITY_TARGETS = ("calls_per_day", "visits_per_week", "demos_per_week")


# ------------------------------------------------------------------------ funnel
def open_stages() -> list[Any]:
    """The open stages in board order (one query); a page drawing both the funnel and
    the stage conversion may read them once and pass them to both as ``stages``."""
    from pipeline.models import Stage

    return refcache.cached(
        "open-stages",
        lambda: list(Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("order", "pk")),
    )


_open_stages = open_stages


def _pipeline_sums() -> dict[str, Any]:
    """Open deals' count, CNY amount, weighted CNY amount and other-currency count.

    The weighted amount of a deal is round(amount × probability ÷ 100, 2), as
    in the pipeline snapshot, so the two always add up the same. (The sums are
    named apart from the fields: an annotation ``amount`` would shadow them.)
    """
    in_cny = Q(currency=cny())
    weighted = Round(F("amount") * F("probability") / Decimal("100"), 2)
    return {
        "deals": Count("pk"),
        "amount_sum": Sum("amount", filter=in_cny, default=ZERO),
        "weighted_sum": Sum(weighted, filter=in_cny, default=ZERO),
        "other_currency": Count("pk", filter=~in_cny),
    }


def funnel(
    scope: Scope,
    *,
    as_of: date | None = None,
    source: str = Source.AUTO,
    today: date | None = None,
    stages: Sequence[Any] | None = None,
) -> Funnel:
    """SPEC 7: count and amount of open deals by stage (and the weighted amount).

    Today (the default) from the deals themselves; an earlier day from the
    pipeline snapshot (the rollup, or rebuilt from the stage changes).
    ``stages``: ``open_stages()`` already read (saves a query).
    """
    from pipeline.models import Deal

    today = _today(today)
    as_of = as_of or today
    stages = _open_stages() if stages is None else stages
    if as_of >= today:
        sums = (
            Deal.objects.filter(stage__kind="open")
            .filter(in_scope(scope, "owner", today))
            .values("stage_id")
            .annotate(**_pipeline_sums())
            .order_by()
        )
        return _funnel(as_of, stages, _summed(sums, "stage_id"), "live")
    days, used = pipeline_snapshot(scope, [as_of], source=source)
    return _funnel(as_of, stages, days.get(as_of, {}), used)


def _summed(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """``_pipeline_sums`` rows (one or more per ``key``) added up by ``key``, in the
    pipeline snapshot's shape (``deals``, ``amount``, ``weighted_amount``, ``other_currency``)."""
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        empty = {"deals": 0, "amount": ZERO, "weighted_amount": ZERO, "other_currency": 0}
        sums = out.setdefault(r[key], empty)
        sums["deals"] += r["deals"]
        sums["amount"] += r["amount_sum"]
        sums["weighted_amount"] += r["weighted_sum"]
        sums["other_currency"] += r["other_currency"]
    return out


def _funnel(
    as_of: date, stages: Sequence[Any], rows: dict[int, dict[str, Any]], used: str
) -> Funnel:
    return Funnel(
        as_of=as_of,
        stages=tuple(
            FunnelStage(
                stage_id=s.pk,
                code=s.code,
                name=s.label,
                order=s.order,
                deals=int(rows.get(s.pk, {}).get("deals", 0)),
                amount=Decimal(rows.get(s.pk, {}).get("amount", 0)).quantize(Decimal("0.01")),
                weighted_amount=Decimal(rows.get(s.pk, {}).get("weighted_amount", 0)).quantize(
                    Decimal("0.01")
                ),
                other_currency=int(rows.get(s.pk, {}).get("other_currency", 0)),
            )
            for s in stages
            if s.is_active or s.pk in rows
        ),
        source=used,
    )


SnapshotDays = dict[date, dict[int, dict[str, Any]]]


def pipeline_snapshot(
    scope: Scope, days: Sequence[date], *, source: str = Source.AUTO
) -> tuple[SnapshotDays, str]:
    """The pipeline at the end of each day, and where it came from ("rollup" or "live").

    ``{day: {stage_id: {deals, amount, weighted_amount, other_currency}}}``:
    from the ``PipelineSnapshot`` rollup (one query) when all the days are
    rolled up, else rebuilt from the stage changes (one query per day).
    """
    from reports.models import PipelineSnapshot, RollupDay

    days = sorted(set(days))
    if not days:
        return {}, "live"
    use_rollup = source == Source.ROLLUP
    if source == Source.AUTO:
        built = RollupDay.objects.filter(day__in=days).count()
        use_rollup = built == len(days)
    if not use_rollup:
        return snapshot.live_snapshot(scope, days), "live"
    rows = (
        PipelineSnapshot.objects.filter(day__in=days)
        .filter(scope.placed_q())
        .values("day", "stage_id")
        .annotate(
            deals_sum=Sum("deals"),
            amount_sum=Sum("amount"),
            weighted_sum=Sum("weighted_amount"),
            other_sum=Sum("other_currency"),
        )
        .order_by()
    )
    out: SnapshotDays = {}
    for row in rows:
        out.setdefault(row["day"], {})[row["stage_id"]] = {
            "deals": row["deals_sum"],
            "amount": row["amount_sum"],
            "weighted_amount": row["weighted_sum"],
            "other_currency": row["other_sum"],
        }
    return out, "rollup"


def funnel_records(
    scope: Scope, *, viewer: User, stage_id: int | None = None, as_of: date | None = None
) -> Any:
    """The open deals behind the funnel (one stage's with ``stage_id``).

    Today's from the deals themselves; an earlier day's from the stage changes:
    the deals whose latest move up to that day's end was into an open stage.
    """
    from pipeline.models import Deal, DealStageChange, Stage

    today = timezone.localdate()
    as_of = as_of or today
    qs = Deal.objects.visible_to(viewer).filter(in_scope(scope, "owner", min(as_of, today)))
    if as_of >= today:
        qs = qs.filter(stage__kind="open")
        return qs.filter(stage_id=stage_id) if stage_id else qs
    latest = (
        DealStageChange.objects.filter(
            deal_id=OuterRef("pk"), changed_at__lt=local_midnight(as_of + timedelta(days=1))
        )
        .order_by("-changed_at", "-pk")
        .values("to_stage_id")[:1]
    )
    qs = qs.annotate(stage_then=Subquery(latest)).filter(
        stage_then__in=Stage.objects.filter(kind=Stage.Kind.OPEN).values("pk")
    )
    return qs.filter(stage_then=stage_id) if stage_id else qs


# ------------------------------------------------------------ stage conversion
def _stage_changes(
    scope: Scope, period: Period, manager: Any = None, *, stages: Sequence[Any] | None = None
) -> Any:
    """Moves into an open stage in the period (``stages``: the open stages, already read)."""
    from pipeline.models import DealStageChange

    manager = manager if manager is not None else DealStageChange.objects.all()
    # With the open stages at hand, their ids spare the join to the stage table.
    into_open = (
        Q(to_stage__kind="open") if stages is None else Q(to_stage_id__in=[s.pk for s in stages])
    )
    qs = manager.filter(
        into_open,
        changed_at__gte=period.local_start,
        changed_at__lt=period.local_end,
    )
    # ``owner`` is the deal's owner, copied onto the change (read from one index).
    return qs.filter(in_scope(scope, "owner", local_date(OuterRef("changed_at")), within=period))


def _advanced() -> Q:
    """The deal moved on since: to a further open stage, or won (``moved_on_at``)."""
    return Q(moved_on_at__isnull=False)


def stage_conversion(
    scope: Scope, period: Period, *, stages: Sequence[Any] | None = None
) -> StageConversion:
    """Stage-to-stage conversion from the stage changes.

    For each open stage: the deals that entered it in the period, and how many
    of those moved on to a further stage (or were won) since. The bottleneck is
    the stage with the lowest conversion.
    """
    stages = _open_stages() if stages is None else stages
    rows = {
        r["to_stage_id"]: r
        for r in _stage_changes(scope, period, stages=stages)
        .values("to_stage_id")
        .annotate(
            entered=Count("deal_id", distinct=True),
            moved_on=Count("deal_id", distinct=True, filter=_advanced()),
        )
        .order_by()
    }
    return StageConversion(
        steps=tuple(
            StageStep(
                stage_id=s.pk,
                code=s.code,
                name=s.label,
                order=s.order,
                entered=rows.get(s.pk, {}).get("entered", 0),
                advanced=rows.get(s.pk, {}).get("moved_on", 0),
            )
            for s in stages
            if s.is_active or s.pk in rows
        )
    )


def stage_conversion_records(
    scope: Scope, period: Period, *, viewer: User, stage_id: int, part: str = "entered"
) -> Any:
    """The deals that entered ``stage_id`` in the period (``part="advanced"``: and moved on)."""
    from pipeline.models import Deal

    changes = _stage_changes(scope, period).filter(to_stage_id=stage_id)
    if part == "advanced":
        changes = changes.filter(_advanced())
    return Deal.objects.visible_to(viewer).filter(pk__in=changes.values("deal_id"))


# ------------------------------------------------------------ visit conversion
def _prospect_visits(scope: Scope, period: Period) -> Any:
    """Done visits to clients that had no won deal before the visit's day."""
    from pipeline.models import Activity, Deal

    won_before = Deal.objects.filter(
        client_id=OuterRef("client_id"),
        stage__kind="won",
        closed_on__lt=local_date(OuterRef("start_at")),
    )
    return (
        Activity.objects.filter(
            type="visit",
            status="done",
            client__isnull=False,
            start_at__gte=period.local_start,
            start_at__lt=period.local_end,
        )
        .filter(in_scope(scope, "owner", local_date(OuterRef("start_at")), within=period))
        .filter(~Exists(won_before))
    )


def _visited_clients(scope: Scope, period: Period, manager: Any = None) -> Any:
    from clients.models import Client
    from pipeline.models import Deal

    visits = _prospect_visits(scope, period)
    first = (
        visits.filter(client_id=OuterRef("pk"))
        .order_by()
        .values("client_id")
        .annotate(first=Min("start_at"))
        .values("first")
    )
    won_since = Deal.objects.filter(
        client_id=OuterRef("pk"),
        stage__kind="won",
        closed_on__gte=local_date(OuterRef("first_visit")),
    )
    manager = manager if manager is not None else Client.objects.all()
    return (
        manager.filter(pk__in=visits.values("client_id"))
        .annotate(first_visit=Subquery(first))
        .annotate(converted=Exists(won_since))
    )


def visit_conversion(scope: Scope, period: Period) -> VisitConversion:
    """SPEC 7: prospects visited in the period that became a won deal ÷ prospects visited.

    A prospect is a client with no won deal before the visit; it converted when
    it has a won deal closed on or after its first such visit in the period
    (up to now). Visits count for the person who made them.
    """
    counts = dict(
        _visited_clients(scope, period)
        .values("converted")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("converted", "n")
    )
    return VisitConversion(visited=sum(counts.values()), converted=counts.get(True, 0))


def visit_conversion_records(
    scope: Scope, period: Period, *, viewer: User, part: str | None = None
) -> Any:
    from clients.models import Client

    qs = _visited_clients(scope, period, Client.objects.visible_to(viewer))
    if part == "converted":
        return qs.filter(converted=True)
    if part == "not_converted":
        return qs.filter(converted=False)
    return qs


# ----------------------------------------------------------- contract numbers
def negotiation_cycle_from(t: Totals) -> NegotiationCycle:
    return NegotiationCycle(t.negotiations, t.negotiation_days, t.source)


def average_contract_from(t: Totals) -> AverageContract:
    return AverageContract(
        t.contracts_signed, t.contracts_amount, t.contracts_other_currency, t.source
    )


def renewal_rate_from(t: Totals) -> RenewalRate:
    return RenewalRate(t.contracts_ended, t.contracts_renewed, t.source)


def negotiation_cycle(
    scope: Scope, period: Period, *, source: str = Source.AUTO
) -> NegotiationCycle:
    """SPEC 7: days from a deal entering negotiation to its contract's signature.

    Over new contracts (not renewals) signed in the period whose deal went
    through the negotiation stage (``SALESORG_NEGOTIATION_STAGE``, default
    "negotiation"); the first time it entered counts. Contracts count for
    their owner (the account manager who keeps them) on the day they were signed.
    """
    return negotiation_cycle_from(totals(scope, period, source=source))


def negotiation_cycle_records(scope: Scope, period: Period, *, viewer: User) -> Any:
    """The contracts behind the cycle, each annotated with ``cycle_days``."""
    return fact_records("negotiations", scope, period, viewer=viewer)


def average_contract(scope: Scope, period: Period, *, source: str = Source.AUTO) -> AverageContract:
    """Contracts signed in the period (new and renewals): count, CNY total, average."""
    return average_contract_from(totals(scope, period, source=source))


def average_contract_records(
    scope: Scope, period: Period, *, viewer: User, part: str | None = None
) -> Any:
    measure = "contracts_other_currency" if part == "other_currency" else "contracts_signed"
    return fact_records(measure, scope, period, viewer=viewer)


def renewal_counts(qs: Any, period: Period) -> RenewalRate:
    """Renewed ÷ ended among the contracts of ``qs`` that reached their end date in ``period``.

    A contract is renewed when its renewal was signed (status "renewed", see
    ``pipeline.services.contracts``); drafts and terminated contracts never
    ran to their end and are not counted. The same definition as the
    ``contracts_ended``/``contracts_renewed`` facts; one aggregate query.
    """
    source, ended = MEASURES["contracts_ended"]
    renewed = MEASURES["contracts_renewed"][1]
    row = qs.filter(source.where(), source.in_period(period)).aggregate(
        ended=ended.aggregate(), renewed=renewed.aggregate()
    )
    return RenewalRate(ended=row["ended"], renewed=row["renewed"])


def renewal_rate(scope: Scope, period: Period, *, source: str = Source.AUTO) -> RenewalRate:
    """SPEC 7: contracts renewed ÷ contracts that expired in the period (by their end date)."""
    return renewal_rate_from(totals(scope, period, source=source))


def renewal_rate_records(
    scope: Scope, period: Period, *, viewer: User, part: str | None = None
) -> Any:
    qs = fact_records("contracts_ended", scope, period, viewer=viewer)
    if part == "renewed":
        return qs.filter(status="renewed")
    if part == "not_renewed":
        return qs.exclude(status="renewed")
    return qs


# --------------------------------------------------------- weighted pipeline
def _pipeline_deals(scope: Scope, period: Period, manager: Any = None) -> Any:
    from pipeline.models import Deal

    manager = manager if manager is not None else Deal.objects.all()
    return manager.filter(
        stage__kind="open",
        expected_close_date__gte=period.start,
        expected_close_date__lt=period.end,
    ).filter(in_scope(scope, "owner", timezone.localdate()))


def weighted_pipeline(scope: Scope, period: Period) -> WeightedPipeline:
    """SPEC 7: Σ amount × probability of today's open deals, by expected close month.

    The deal's own probability counts (it starts as its stage's and is what
    the deal board shows); CNY only, other currencies counted apart. Deals
    expected to close within ``period``.
    """
    rows = (
        _pipeline_deals(scope, period)
        .annotate(month=DateTrunc("expected_close_date", "month"))
        .values("month")
        .annotate(**_pipeline_sums())
        .order_by("month")
    )
    return _weighted_pipeline(rows)


def _weighted_pipeline(rows: Iterable[dict[str, Any]]) -> WeightedPipeline:
    """``_pipeline_sums`` rows with a ``month`` (one or more per month) added up by month."""
    return WeightedPipeline(
        months=tuple(
            PipelineMonth(
                month=month,
                deals=m["deals"],
                amount=m["amount"],
                weighted_amount=Decimal(m["weighted_amount"]).quantize(Decimal("0.01")),
                other_currency=m["other_currency"],
            )
            for month, m in sorted(_summed(rows, "month").items())
        )
    )


def funnel_and_pipeline(
    scope: Scope,
    period: Period,
    *,
    today: date | None = None,
    stages: Sequence[Any] | None = None,
) -> tuple[Funnel, WeightedPipeline]:
    """``funnel(scope)`` today and ``weighted_pipeline(scope, period)``, in one read.

    Both sum today's open deals of the scope; the director's page shows both,
    and reading the 30,000 open deals of the company (and working out each
    one's weighted amount) once instead of twice saves a third of its time.
    The deals are summed by stage and close month (a month only when it falls
    in ``period``), and those few sums added up here each way.
    """
    from pipeline.models import Deal

    today = _today(today)
    stages = _open_stages() if stages is None else stages
    in_horizon = Q(expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    rows = list(
        Deal.objects.filter(stage__kind="open")
        .filter(in_scope(scope, "owner", today))
        .annotate(
            month=Case(
                When(in_horizon, then=DateTrunc("expected_close_date", "month")),
                default=None,
                output_field=DateField(),
            )
        )
        .values("stage_id", "month")
        .annotate(**_pipeline_sums())
        .order_by()
    )
    return (
        _funnel(today, stages, _summed(rows, "stage_id"), "live"),
        _weighted_pipeline(r for r in rows if r["month"] is not None),
    )


def weighted_pipeline_records(
    scope: Scope, period: Period, *, viewer: User, month: date | None = None
) -> Any:
    from pipeline.models import Deal

    qs = _pipeline_deals(scope, period, Deal.objects.visible_to(viewer))
    if month is not None:
        qs = qs.filter(expected_close_date__gte=month, expected_close_date__lt=_next_month(month))
    return qs


def _next_month(day: date) -> date:
    return Period.containing("month", day).end


# ------------------------------------------------------------------- cadence
def _cadence_clients(scope: Scope, as_of: date, manager: Any = None) -> Any:
    from clients.models import CADENCE_DAYS, Client
    from pipeline.models import Activity

    manager = manager if manager is not None else Client.objects.all()
    if as_of >= timezone.localdate():
        # A done visit cannot lie ahead, so the last one up to today is the
        # client's last visit, which every write of a visit keeps on the client
        # (``pipeline.services.activities``; the visit-cadence page reads it too).
        last_visit: Any = F("last_visit_at")
    else:
        last_visit = Subquery(
            Activity.objects.filter(
                client_id=OuterRef("pk"),
                type="visit",
                status="done",
                start_at__lt=local_midnight(as_of + timedelta(days=1)),
            )
            .order_by("-start_at")
            .values("start_at")[:1]
        )
    # On cadence: the last visit is on or after the first day of the client's
    # interval, a bound per cadence (none for "on demand").
    due_since = models.Case(
        *[
            models.When(cadence=cadence, then=models.Value(local_midnight(as_of - timedelta(days))))
            for cadence, days in CADENCE_DAYS.items()
            if days
        ],
        output_field=models.DateTimeField(),
    )
    return (
        manager.exclude(cadence="on_demand")
        .filter(client_in_scope(scope, as_of))
        .annotate(last_visit=last_visit)
        .annotate(last_visit_day=local_date("last_visit"))
        .annotate(
            on_cadence=models.Case(
                models.When(GreaterThanOrEqual(F("last_visit"), due_since), then=True),
                default=False,
            )
        )
    )


def cadence_compliance(scope: Scope, *, as_of: date | None = None) -> CadenceCompliance:
    """SPEC 7: share of clients visited within their cadence interval, as of a day.

    Every client with a scheduled cadence (weekly … quarterly; not "on demand")
    counts — as on the visit-cadence page — for its account manager, else its
    owner; it is on cadence when its last done visit up to that day is at most
    its interval old (never visited: overdue).
    """
    as_of = as_of or timezone.localdate()
    counts = dict(
        _cadence_clients(scope, as_of)
        .values("on_cadence")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("on_cadence", "n")
    )
    return CadenceCompliance(
        as_of=as_of, clients=sum(counts.values()), on_cadence=counts.get(True, 0)
    )


def cadence_records(
    scope: Scope, *, viewer: User, as_of: date | None = None, part: str | None = None
) -> Any:
    from clients.models import Client

    qs = _cadence_clients(scope, as_of or timezone.localdate(), Client.objects.visible_to(viewer))
    if part == "on_cadence":
        return qs.filter(on_cadence=True)
    if part == "overdue":
        return qs.filter(on_cadence=False)
    return qs


# ----------------------------------------------------------------------- RFM
#: The segments and their rule live with the clients, who store them (``clients.rfm``).
RFM_SEGMENTS = RFM_SEGMENT_LABELS


def _a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def rfm_scores_sql(as_of: date) -> tuple[str, list[Any]]:
    """Every client with a won deal up to ``as_of`` and its R, F and M scores (1–5).

    Recency: days since the last won deal; frequency: won deals in the twelve
    months up to ``as_of``; monetary: their CNY amount. Each is scored 1–5 by
    quintile over all such clients of the company (``CUME_DIST``, so ties
    share a score); 5 is best (most recent, most frequent, most spent).
    Columns: ``client_id``, ``recency``, ``frequency``, ``monetary`` (scores)
    and ``last_won``, ``won_deals``, ``won_amount`` (raw values).
    """
    from pipeline.models import Deal

    year_ago = _a_year_before(as_of)
    per_client = (
        Deal.objects.filter(stage__kind="won", closed_on__lte=as_of)
        .values("client_id")
        .annotate(
            last_won=Max("closed_on"),
            won_deals=Count("pk", filter=Q(closed_on__gt=year_ago)),
            won_amount=Sum(
                "amount", filter=Q(closed_on__gt=year_ago, currency=cny()), default=ZERO
            ),
        )
        .order_by()
    )
    inner, params = per_client.query.sql_with_params()
    sql = (
        "SELECT c.client_id, c.last_won, c.won_deals, c.won_amount, "  # noqa: S608
        "CAST(CEIL(CUME_DIST() OVER (ORDER BY c.last_won) * 5) AS INTEGER) AS recency, "
        "CAST(CEIL(CUME_DIST() OVER (ORDER BY c.won_deals) * 5) AS INTEGER) AS frequency, "
        "CAST(CEIL(CUME_DIST() OVER (ORDER BY c.won_amount) * 5) AS INTEGER) AS monetary "
        f"FROM ({inner}) c"
    )
    return sql, list(params)


def _rfm_scoped_sql(scope: Scope, as_of: date) -> tuple[str, list[Any]]:
    from clients.models import Client
    from reports.models import Placement

    scores, params = rfm_scores_sql(as_of)
    if scope.kind == ScopeKind.COMPANY:
        return scores, params  # every scored client: no need to look up whose it is
    client = connection.ops.quote_name(Client._meta.db_table)
    placement = connection.ops.quote_name(Placement._meta.db_table)
    condition, condition_params = scope.placed_sql(
        "p", "COALESCE(k.account_manager_id, k.owner_id)"
    )
    sql = (
        f"SELECT r.* FROM ({scores}) r JOIN {client} k ON k.id = r.client_id "  # noqa: S608
        f"LEFT JOIN {placement} p ON p.user_id = COALESCE(k.account_manager_id, k.owner_id) "
        "AND p.valid_from <= %s AND p.valid_until > %s "
        f"WHERE {condition}"
    )
    return sql, [*params, as_of, as_of, *condition_params]


def rfm_distribution(scope: Scope, *, as_of: date | None = None) -> RfmDistribution:
    """SPEC 7: the scope's clients by RFM score (one query); see ``rfm_scores_sql``.

    A client counts for its account manager, else its owner.
    """
    as_of = as_of or timezone.localdate()
    inner, params = _rfm_scoped_sql(scope, as_of)
    sql = (
        "SELECT s.recency, s.frequency, s.monetary, COUNT(*) "  # noqa: S608
        f"FROM ({inner}) s GROUP BY s.recency, s.frequency, s.monetary "
        "ORDER BY s.recency DESC, s.frequency DESC, s.monetary DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return RfmDistribution(
        as_of=as_of,
        cells=tuple(
            RfmCell(int(r), int(f), int(m), int(n), rfm_segment(int(r), int(f), int(m)))
            for r, f, m, n in rows
        ),
    )


def rfm_records(
    scope: Scope,
    *,
    viewer: User,
    as_of: date | None = None,
    recency: int | None = None,
    frequency: int | None = None,
    monetary: int | None = None,
    segment: str | None = None,
) -> Any:
    """The scope's scored clients the viewer may see, optionally one score or segment."""
    from clients.models import Client

    as_of = as_of or timezone.localdate()
    inner, params = _rfm_scoped_sql(scope, as_of)
    conditions, extra = [], []
    for name, value in (("recency", recency), ("frequency", frequency), ("monetary", monetary)):
        if value is not None:
            conditions.append(f"s.{name} = %s")
            extra.append(value)
    if segment is not None:
        if segment not in RFM_SEGMENTS:
            raise ValidationError({"segment": _("Unknown RFM segment.")})
        cells = [
            (r, f) for r in range(1, 6) for f in range(1, 6) if rfm_segment(r, f, 0) == segment
        ]
        conditions.append(
            "(" + " OR ".join("(s.recency = %s AND s.frequency = %s)" for _c in cells) + ")"
        )
        extra += [v for cell in cells for v in cell]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    ids = RawSQL(  # noqa: S611 - built from our SQL; every value is a parameter
        f"SELECT s.client_id FROM ({inner}) s{where}",  # noqa: S608 - values are params
        [*params, *extra],
    )
    return Client.objects.visible_to(viewer).filter(pk__in=ids)


# ------------------------------------------------------ records of fact measures
def fact_records(
    measure: str, scope: Scope, period: Period, *, viewer: User, condition: Q | None = None
) -> Any:
    """The records counted by one daily measure (``facts.FACT_FIELDS``) that the viewer sees."""
    try:
        source, spec = MEASURES[measure]
    except KeyError:
        raise ValidationError({"measure": _("Unknown measure.")}) from None
    wanted = spec.q() & condition if condition else spec.q()
    return source.records(scope, period, viewer=viewer, condition=wanted)


def won_revenue_records(
    scope: Scope, period: Period, *, viewer: User, part: str | None = None
) -> Any:
    """Won deals behind the revenue (``part="other_currency"``: those left out of it)."""
    measure = "won_other_currency" if part == "other_currency" else "won_amount"
    return fact_records(measure, scope, period, viewer=viewer)


def win_rate_records(scope: Scope, period: Period, *, viewer: User, part: str | None = None) -> Any:
    """Deals closed in the period: ``part`` "won", "lost" or both."""
    if part in ("won", "lost"):
        return fact_records(f"deals_{part}", scope, period, viewer=viewer)
    source, _m = MEASURES["deals_won"]
    return source.records(scope, period, viewer=viewer)


def nps_records(scope: Scope, period: Period, *, viewer: User, part: str | None = None) -> Any:
    from clients.survey_metrics import DETRACTOR_MAX, PROMOTER_MIN

    parts = {
        "promoters": Q(nps_score__gte=PROMOTER_MIN),
        "detractors": Q(nps_score__lte=DETRACTOR_MAX),
        "passives": Q(nps_score__gt=DETRACTOR_MAX, nps_score__lt=PROMOTER_MIN),
    }
    return fact_records("nps_responses", scope, period, viewer=viewer, condition=parts.get(part))


def csat_records(scope: Scope, period: Period, *, viewer: User) -> Any:
    return fact_records("csat_responses", scope, period, viewer=viewer)


def complaint_sla_records(
    scope: Scope, period: Period, *, viewer: User, part: str | None = None
) -> Any:
    qs = fact_records("complaints_received", scope, period, viewer=viewer)
    in_sla = MEASURES["complaints_in_sla"][1].q()
    if part == "in_sla":
        return qs.filter(in_sla)
    if part == "missed":
        return qs.exclude(in_sla)
    return qs


def activity_records(scope: Scope, period: Period, *, viewer: User, part: str | None = None) -> Any:
    """Done activities (``part``: a type, or "calls" for calls and follow-up calls)."""
    source, _m = MEASURES["act_call"]
    condition = None
    if part == "calls":
        condition = Q(type__in=("call", "follow_up"))
    elif part:
        condition = Q(type=part)
    return source.records(scope, period, viewer=viewer, condition=condition)
