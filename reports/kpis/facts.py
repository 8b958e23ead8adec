"""The daily facts: what each person did on each local day, defined once.

Every count and sum the dashboards add up over days — activities by type,
leads created and converted, deals created, won and lost, won revenue,
contracts signed (and their amounts), negotiation cycles, contracts ended and
renewed, complaints received and answered within their SLA, survey answers —
is a *measure* of a *fact source* below. A source says which records count
(``where``), which moment dates them (``moment``, turned into an Asia/Shanghai
day), whose they are (``person``) and how each measure aggregates them.

The same definitions produce

- the rollup rows (``reports.rollups`` inserts ``placed_sql`` grouped by day
  and person into ``DailyFact``),
- the live figures (``live_totals``/``live_groups``: the same SQL, filtered by
  the scope's condition on the placement instead of on the stored row), and
- the records behind a number (``FactSource.records``: the same filter as a
  queryset, visibility-scoped, for drill-down),

so a rollup can be checked against the live definition at any time.

Money is counted in CNY (``settings.DEFAULT_CURRENCY``), as on the deal board
and in ``client_refresh_spend``: the product keeps no exchange rates, so an
amount in another currency is left out of the sums rather than added as if it
were yuan, and counted in ``won_other_currency`` so the gap shows.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, models
from django.db.models import Count, ExpressionWrapper, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.survey_metrics import DETRACTOR_MAX, PROMOTER_MIN
from reports.kpis.periods import Period
from reports.kpis.scopes import Scope, ScopeKind, in_scope
from salesorg.lib.sql import DateTrunc

if TYPE_CHECKING:
    from accounts.models import User

MONEY_FIELD = models.DecimalField(max_digits=16, decimal_places=2)


@cache
def zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_date(expression: Any) -> TruncDate:
    """The local (``TIME_ZONE``) calendar day of a datetime expression, in SQL.

    ``expression`` may be a field name, an expression or an ``OuterRef`` (for
    the day of the outer row inside a subquery).
    """
    if isinstance(expression, OuterRef):
        expression = ExpressionWrapper(expression, output_field=models.DateTimeField())
    return TruncDate(expression, tzinfo=zone())


def cny() -> str:
    return settings.DEFAULT_CURRENCY


# --------------------------------------------------------------------------- measures
@dataclass(frozen=True)
class Measure:
    """A ``DailyFact`` column: a count (or a sum of ``sum_of``) of the records matching ``q``."""

    name: str
    label: Any
    q: Callable[[], Q] = Q
    sum_of: str | None = None

    whole: bool = False  # a sum of whole numbers (days), not money

    def aggregate(self) -> models.Aggregate:
        condition = self.q()
        condition = condition if condition else None
        if self.sum_of and self.whole:
            return Sum(self.sum_of, filter=condition, default=0)
        if self.sum_of:
            return Sum(
                self.sum_of, filter=condition, default=Decimal("0"), output_field=MONEY_FIELD
            )
        return Count("pk", filter=condition)


def _won() -> Q:
    return Q(stage__kind="won")


@dataclass(frozen=True)
class FactSource:
    """Records of one model that facts are counted from (see the module docstring)."""

    name: str
    model_label: str
    moment: str
    measures: tuple[Measure, ...]
    where: Callable[[], Q] = Q
    person: str | Callable[[], Any] = "owner"
    moment_is_date: bool = False
    #: Annotations ``where`` needs (e.g. when a contract's deal entered negotiation).
    prepare: Callable[[models.QuerySet[Any]], models.QuerySet[Any]] | None = None

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def person_expression(self) -> Any:
        return F(self.person) if isinstance(self.person, str) else self.person()

    def day_expression(self) -> Any:
        return F(self.moment) if self.moment_is_date else local_date(self.moment)

    def in_period(self, period: Period) -> Q:
        if self.moment_is_date:
            return Q(**{f"{self.moment}__gte": period.start, f"{self.moment}__lt": period.end})
        return Q(
            **{f"{self.moment}__gte": period.local_start, f"{self.moment}__lt": period.local_end}
        )

    def base(self, queryset: models.QuerySet[Any], period: Period) -> models.QuerySet[Any]:
        """The source's records in ``period``, annotated with ``fact_day`` and ``fact_person``."""
        if self.prepare is not None:
            queryset = self.prepare(queryset)
        return (
            queryset.filter(self.where())
            .filter(self.in_period(period))
            .annotate(fact_day=self.day_expression(), fact_person=self.person_expression())
        )

    def scope_q(self, scope: Scope, period: Period | None = None) -> Q:
        """``in_scope`` on this source's records (a base queryset for the person annotation),
        ``period``: the one the records were picked from (``in_period``)."""
        person = self.person if isinstance(self.person, str) else "fact_person"
        day = OuterRef(self.moment) if self.moment_is_date else local_date(OuterRef(self.moment))
        return in_scope(scope, person, day, within=period)

    def measure(self, name: str) -> Measure:
        for measure in self.measures:
            if measure.name == name:
                return measure
        raise KeyError(name)

    def records(
        self, scope: Scope, period: Period, *, viewer: User, condition: Q | None = None
    ) -> models.QuerySet[Any]:
        """The records behind this source's measures that ``viewer`` may see.

        ``condition`` narrows to one measure (``measure(name).q()``) or a part of it.
        """
        qs = self.base(self.model._default_manager.visible_to(viewer), period)  # type: ignore[attr-defined]
        qs = qs.filter(self.scope_q(scope, period))
        if condition:
            qs = qs.filter(condition)
        return qs


class DaysBetween(models.Func):
    """Whole days from the date ``start`` to the date ``end`` (``end - start``), in SQL."""

    output_field = models.IntegerField()
    arity = 2

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
        )


def negotiation_stage_code() -> str:
    return getattr(settings, "SALESORG_NEGOTIATION_STAGE", "negotiation")


def with_negotiation(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """Contracts annotated with when their deal first entered negotiation and the cycle."""
    from pipeline.models import DealStageChange

    entered = (
        DealStageChange.objects.filter(
            deal_id=OuterRef("deal_id"), to_stage__code=negotiation_stage_code()
        )
        .order_by()
        .values("deal_id")
        .annotate(first=Min("changed_at"))
        .values("first")
    )
    return queryset.annotate(negotiation_day=local_date(Subquery(entered))).annotate(
        cycle_days=DaysBetween(F("signed_on"), F("negotiation_day"))
    )


#: Statuses of a contract that ran to its end date (the renewal rate's denominator).
RAN_TO_END_STATUSES = ("active", "expired", "renewed")

ACTIVITY_TYPES = ("call", "visit", "demo", "meeting", "email", "follow_up", "other")


def _activity_measure(kind: str, label: Any) -> Measure:
    return Measure(f"act_{kind}", label, lambda: Q(type=kind))


SOURCES: tuple[FactSource, ...] = (
    FactSource(
        "activities",
        "pipeline.Activity",
        "start_at",
        where=lambda: Q(status="done"),
        measures=(
            _activity_measure("call", _("Calls")),
            _activity_measure("visit", _("Visits")),
            _activity_measure("demo", _("Demos")),
            _activity_measure("meeting", _("Meetings")),
            _activity_measure("email", _("E-mails")),
            _activity_measure("follow_up", _("Follow-up calls")),
            _activity_measure("other", _("Other activities")),
        ),
    ),
    FactSource(
        "leads_created",
        "pipeline.Lead",
        "created_at",
        measures=(Measure("leads_created", _("Leads created")),),
    ),
    FactSource(
        "leads_converted",
        "pipeline.Lead",
        "converted_at",
        where=lambda: Q(converted_at__isnull=False),
        measures=(Measure("leads_converted", _("Leads converted")),),
    ),
    FactSource(
        "deals_created",
        "pipeline.Deal",
        "created_at",
        measures=(Measure("deals_created", _("Deals created")),),
    ),
    FactSource(
        "deals_closed",
        "pipeline.Deal",
        "closed_on",
        moment_is_date=True,
        where=lambda: Q(stage__kind__in=("won", "lost")),
        measures=(
            Measure("deals_won", _("Deals won"), _won),
            Measure("deals_lost", _("Deals lost"), lambda: Q(stage__kind="lost")),
            Measure(
                "won_amount",
                _("Won revenue"),
                lambda: _won() & Q(currency=cny()),
                sum_of="amount",
            ),
            Measure(
                "won_other_currency",
                _("Won deals in other currencies"),
                lambda: _won() & ~Q(currency=cny()),
            ),
        ),
    ),
    FactSource(
        "complaints",
        "clients.Complaint",
        "received_at",
        measures=(
            Measure("complaints_received", _("Complaints received")),
            Measure(
                "complaints_in_sla",
                _("Complaints answered within the SLA"),
                lambda: Q(first_response_at__isnull=False, first_response_at__lte=F("sla_due_at")),
            ),
        ),
    ),
    FactSource(
        "contracts_signed",
        "pipeline.Contract",
        "signed_on",
        moment_is_date=True,
        where=lambda: Q(signed_on__isnull=False),
        measures=(
            Measure("contracts_signed", _("Contracts signed")),
            Measure(
                "contracts_amount",
                _("Contract amounts (CNY)"),
                lambda: Q(currency=cny()),
                sum_of="amount",
            ),
            Measure(
                "contracts_other_currency",
                _("Contracts in other currencies"),
                lambda: ~Q(currency=cny()),
            ),
        ),
    ),
    FactSource(
        "negotiations",
        "pipeline.Contract",
        "signed_on",
        moment_is_date=True,
        prepare=with_negotiation,
        # New contracts (not renewals) whose deal went through negotiation first.
        where=lambda: Q(
            signed_on__isnull=False,
            renews__isnull=True,
            deal__isnull=False,
            negotiation_day__isnull=False,
            negotiation_day__lte=F("signed_on"),
        ),
        measures=(
            Measure("negotiations", _("Contracts after a negotiation")),
            Measure("negotiation_days", _("Days in negotiation"), sum_of="cycle_days", whole=True),
        ),
    ),
    FactSource(
        "contracts_ended",
        "pipeline.Contract",
        "end_date",
        moment_is_date=True,
        # Active ones too: past their end, the nightly job has not flipped them yet.
        where=lambda: Q(status__in=RAN_TO_END_STATUSES, end_date__lte=timezone.localdate()),
        measures=(
            Measure("contracts_ended", _("Contracts ended")),
            Measure("contracts_renewed", _("Contracts renewed"), lambda: Q(status="renewed")),
        ),
    ),
    FactSource(
        "surveys",
        "clients.SurveyResponse",
        "submitted_at",
        # Answers count for the client's account manager, else its owner.
        person=lambda: Coalesce(F("client__account_manager"), F("client__owner")),
        measures=(
            Measure("survey_responses", _("Survey responses")),
            Measure("nps_responses", _("NPS answers"), lambda: Q(nps_score__isnull=False)),
            Measure("nps_promoters", _("Promoters (9–10)"), lambda: Q(nps_score__gte=PROMOTER_MIN)),
            Measure(
                "nps_detractors", _("Detractors (0–6)"), lambda: Q(nps_score__lte=DETRACTOR_MAX)
            ),
            Measure("csat_responses", _("CSAT answers"), lambda: Q(csat_score__isnull=False)),
            Measure("csat_sum", _("CSAT total"), sum_of="csat_score"),
        ),
    ),
)

#: Every measure's name, in ``DailyFact`` column order.
FACT_FIELDS: tuple[str, ...] = tuple(m.name for s in SOURCES for m in s.measures)
MONEY_FIELDS = frozenset(m.name for s in SOURCES for m in s.measures if m.sum_of and not m.whole)
MEASURES: dict[str, tuple[FactSource, Measure]] = {
    m.name: (s, m) for s in SOURCES for m in s.measures
}


# ----------------------------------------------------------------------------- totals
@dataclass(frozen=True)
class Totals:
    """Every daily measure summed over a scope and period, with the figures built on them.

    ``source`` says where the numbers came from: ``"rollup"``, ``"live"`` or
    ``"rollup+live"`` (past days from the rollup, today live).
    """

    act_call: int = 0
    act_visit: int = 0
    act_demo: int = 0
    act_meeting: int = 0
    act_email: int = 0
    act_follow_up: int = 0
    act_other: int = 0
    leads_created: int = 0
    leads_converted: int = 0
    deals_created: int = 0
    deals_won: int = 0
    deals_lost: int = 0
    won_amount: Decimal = Decimal("0")
    won_other_currency: int = 0
    complaints_received: int = 0
    complaints_in_sla: int = 0
    contracts_signed: int = 0
    contracts_amount: Decimal = Decimal("0")
    contracts_other_currency: int = 0
    negotiations: int = 0
    negotiation_days: int = 0
    contracts_ended: int = 0
    contracts_renewed: int = 0
    survey_responses: int = 0
    nps_responses: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    csat_responses: int = 0
    csat_sum: Decimal = Decimal("0")
    source: str = field(default="live", compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], source: str) -> Totals:
        values = {}
        for name in FACT_FIELDS:
            value = row.get(name)
            if name in MONEY_FIELDS:
                values[name] = Decimal(value or 0).quantize(Decimal("0.01"))
            else:
                values[name] = int(value or 0)
        return cls(**values, source=source)

    def __add__(self, other: Totals) -> Totals:
        values = {name: getattr(self, name) + getattr(other, name) for name in FACT_FIELDS}
        return Totals(**values, source=f"{self.source}+{other.source}")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # ------------------------------------------------------ figures on top
    @property
    def calls(self) -> int:
        """Calls against a "calls a day" target: calls and follow-up calls."""
        return self.act_call + self.act_follow_up

    @property
    def activities(self) -> int:
        return sum(getattr(self, f"act_{kind}") for kind in ACTIVITY_TYPES)

    @property
    def deals_closed(self) -> int:
        return self.deals_won + self.deals_lost


# ------------------------------------------------------------------------- SQL pieces
def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _source_sql(source: FactSource, period: Period, scope: Scope | None) -> tuple[str, list[Any]]:
    qs = source.base(source.model._default_manager.all(), period)
    if scope is not None and scope.kind == ScopeKind.PERSON:
        qs = qs.filter(fact_person=scope.id)
    elif scope is not None and scope.uses_tree:
        # Everyone who was ever in the scope: the exact day check is on the placement.
        qs = qs.filter(fact_person__in=scope.members_ever())
    qs = (
        qs.values("fact_day", "fact_person")
        .annotate(**{m.name: m.aggregate() for m in source.measures})
        .order_by()
    )
    sql, params = qs.query.sql_with_params()
    own = {m.name for m in source.measures}
    columns = ", ".join(
        f"s.{_q(name)} AS {_q(name)}" if name in own else f"0 AS {_q(name)}" for name in FACT_FIELDS
    )
    return (
        f"SELECT s.{_q('fact_day')} AS fact_day, s.{_q('fact_person')} AS fact_person, "  # noqa: S608
        f"{columns} FROM ({sql}) s",
        list(params),
    )


def placed_sql(period: Period, scope: Scope | None = None) -> tuple[str, list[Any]]:
    """One row per source, day and person with every measure, joined to the person's place.

    Columns: ``day``, ``person``, ``path``, ``reports_to_id``, ``team_id``,
    ``team_path`` and every name in ``FACT_FIELDS`` — the shape of
    ``DailyFact``. ``scope`` only narrows the scan (for live figures); the
    exact condition is the caller's, on the placement columns.
    """
    sql, params = _placed_sql(
        connection.vendor,
        timezone.localdate(),
        period.kind,
        period.start,
        period.end,
        None if scope is None else scope.kind,
        None if scope is None else scope.id,
    )
    return sql, list(params)


@lru_cache(maxsize=256)
def _placed_sql(
    vendor: str,
    today: date,
    period_kind: str,
    start: date,
    end: date,
    scope_kind: str | None,
    scope_id: int | None,
) -> tuple[str, tuple[Any, ...]]:
    """``placed_sql`` compiled once per database, period and scope.

    Compiling the ten source querysets takes longer than running them for a
    day's live figures (about 30 ms of a dashboard's time). The SQL depends on
    the arguments, on today's date (contracts count as ended up to today, so
    ``today`` is part of the key though only ``where`` reads it) and on the
    settings (cleared when a setting changes), never on the data, so a compiled
    copy stays right.
    """
    from reports.models import Placement

    period = Period(period_kind, start, end)
    scope = None if scope_kind is None else Scope(scope_kind, scope_id)
    parts = [_source_sql(source, period, scope) for source in SOURCES]
    union = " UNION ALL ".join(sql for sql, _params in parts)
    params = [p for _sql, ps in parts for p in ps]
    measures = ", ".join(f"f.{_q(name)}" for name in FACT_FIELDS)
    placement = _q(Placement._meta.db_table)
    sql = (
        "SELECT f.fact_day AS day, f.fact_person AS person, p.path AS path, "  # noqa: S608
        "p.reports_to_id AS reports_to_id, p.team_id AS team_id, p.team_path AS team_path, "
        f"{measures} FROM ({union}) f LEFT JOIN {placement} p ON p.user_id = f.fact_person "
        "AND p.valid_from <= f.fact_day AND p.valid_until > f.fact_day"
    )
    return sql, tuple(params)


@receiver(setting_changed)
def _forget_compiled_sql(**kwargs: Any) -> None:
    """A test that overrides a setting (the currency, the negotiation stage) gets fresh SQL."""
    _placed_sql.cache_clear()


def _sums() -> str:
    return ", ".join(f"SUM(x.{_q(name)}) AS {_q(name)}" for name in FACT_FIELDS)


def live_totals(scope: Scope, period: Period) -> Totals:
    """Every measure for ``scope`` over ``period``, straight from the records (one query)."""
    inner, params = placed_sql(period, scope)
    condition, condition_params = scope.placed_sql("x", "x.person")
    sql = f"SELECT {_sums()} FROM ({inner}) x WHERE {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *condition_params])
        columns = [c[0] for c in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    return Totals.from_row(row, "live")


#: What ``live_groups``/``rollup_groups`` can group by (a column of the placed rows).
GROUP_COLUMNS = {"person": "person", "day": "day", "team_path": "team_path"}


def live_groups(scope: Scope, period: Period, by: str | tuple[str, ...]) -> dict[Any, Totals]:
    """Every measure per person, day or team path for ``scope`` over ``period`` (one query).

    ``by`` may name two columns (``("day", "team_path")``): the keys are then pairs.
    """
    names = (by,) if isinstance(by, str) else by
    columns = [GROUP_COLUMNS[name] for name in names]
    keys = ", ".join(f"x.{column} AS grp{i}" for i, column in enumerate(columns))
    inner, params = placed_sql(period, scope)
    condition, condition_params = scope.placed_sql("x", "x.person")
    sql = (
        f"SELECT {keys}, {_sums()} FROM ({inner}) x "  # noqa: S608
        f"WHERE {condition} GROUP BY {', '.join(f'x.{column}' for column in columns)}"
    )
    out: dict[Any, Totals] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *condition_params])
        described = [c[0] for c in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(described, values, strict=True))
            key = tuple(_group_key(name, row.pop(f"grp{i}")) for i, name in enumerate(names))
            out[key[0] if isinstance(by, str) else key] = Totals.from_row(row, "live")
    return out


def _group_key(name: str, value: Any) -> Any:
    if name == "day" and isinstance(value, str):
        return date.fromisoformat(value)  # SQLite
    if name == "team_path" and value is None:
        return ""  # placed nowhere that day
    return value


def rollup_totals(scope: Scope, period: Period) -> Totals:
    """Every measure for ``scope`` over ``period`` from the ``DailyFact`` rollup (one query)."""
    from reports.models import DailyFact

    row = (
        DailyFact.objects.filter(day__gte=period.start, day__lt=period.end)
        .filter(scope.rollup_q())
        .aggregate(**{name: Sum(name) for name in FACT_FIELDS})
    )
    return Totals.from_row(row, "rollup")


#: Time buckets the rollup sums in SQL (each keyed by its first day, a Monday for weeks).
_ROLLUP_BUCKETS = ("week", "month", "quarter")


def rollup_groups(scope: Scope, period: Period, by: str | tuple[str, ...]) -> dict[Any, Totals]:
    """Every measure per person, day, team path, or week/month/quarter from the rollup.

    A year by month is twelve rows summed by the database, not 365 days summed here.
    ``by`` may name two groupings (``("month", "team_path")``): the keys are then pairs.
    """
    from reports.models import DailyFact

    rows = DailyFact.objects.filter(day__gte=period.start, day__lt=period.end).filter(
        scope.rollup_q()
    )
    columns = []
    for name in (by,) if isinstance(by, str) else by:
        if name in _ROLLUP_BUCKETS:
            rows = rows.annotate(**{f"{name}_bucket": DateTrunc("day", name)})
            columns.append(f"{name}_bucket")
        else:
            columns.append({"person": "user_id", "day": "day", "team_path": "team_path"}[name])
    rows = rows.values(*columns).annotate(**{name: Sum(name) for name in FACT_FIELDS}).order_by()
    out: dict[Any, Totals] = {}
    for row in rows:
        key = tuple(row.pop(column) for column in columns)
        out[key[0] if isinstance(by, str) else key] = Totals.from_row(row, "rollup")
    return out


def regroup(pairs: Iterable[tuple[Any, Totals]]) -> dict[Any, Totals]:
    """Groups added up under new keys: ``(key, totals)`` pairs, equal keys summed."""
    out: dict[Any, Totals] = {}
    for key, totals in pairs:
        out[key] = out[key] + totals if key in out else totals
    return out


def merge_groups(*groups: Mapping[Any, Totals]) -> dict[Any, Totals]:
    return regroup(pair for group in groups for pair in group.items())
