"""The pipeline as it stood at the end of each day, per person and stage.

A deal's state at the end of a local day is its latest stage change up to
then (``DealStageChange`` keeps every move with the amount and probability of
that moment). For the deal's current stage — its latest change — the deal's
*current* amount and probability count, so today's snapshot equals the live
funnel and the deal board even after an amount was edited without a move.
The deal counts for its current owner, placed in the tree as on that day.

Measures per (day, person, stage): open deals, their amount in CNY, their
weighted amount in CNY (Σ round(amount × probability ÷ 100, 2) — the deal's
own probability, which starts as its stage's and is what the board shows) and
the number of deals in other currencies (left out of the sums).

``snapshot_sql`` is the one definition: the rollup inserts it into
``PipelineSnapshot``, ``live_snapshot`` reads it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import Lead

from reports.kpis.facts import cny, local_date
from reports.kpis.periods import Period
from reports.kpis.scopes import Scope

SNAPSHOT_FIELDS = ("deals", "amount", "weighted_amount", "other_currency")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _intervals_sql(period: Period) -> tuple[str, list[Any]]:
    """Each stage change with the local day it starts and the day the next one starts.

    Only deals that can have been open during ``period`` are read: those open
    now and those that changed stage since the period began (a deal open on
    some day of it either still is, or moved after that day).
    """
    from pipeline.models import DealStageChange

    moved_since = DealStageChange.objects.filter(
        deal_id=OuterRef("deal_id"), changed_at__gte=period.local_start
    )
    qs = (
        DealStageChange.objects.filter(Q(deal__stage__kind="open") | Exists(moved_since))
        .annotate(
            start_day=local_date("changed_at"),
            end_day=Window(
                Lead(local_date("changed_at")),
                partition_by=[F("deal_id")],
                order_by=[F("changed_at").asc(), F("pk").asc()],
            ),
        )
        .values("deal_id", "to_stage_id", "amount", "probability", "start_day", "end_day")
        .order_by()
    )
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def _days_sql(period: Period) -> tuple[str, list[Any]]:
    parts = " UNION ALL ".join("SELECT %s AS day" for _day in period)
    return parts, list(period)


def snapshot_sql(period: Period, deal_ids_sql: str = "") -> tuple[str, list[Any]]:
    """Rows (day, person, stage_id, placement columns, measures) for every day of ``period``."""
    from pipeline.models import Deal, Stage
    from reports.models import Placement

    intervals, params = _intervals_sql(period)
    deal = _q(Deal._meta.db_table)
    stage = _q(Stage._meta.db_table)
    placement = _q(Placement._meta.db_table)
    amount = "CASE WHEN i.end_day IS NULL THEN d.amount ELSE i.amount END"
    probability = "CASE WHEN i.end_day IS NULL THEN d.probability ELSE i.probability END"
    if connection.vendor == "postgresql":
        days = (
            "CROSS JOIN LATERAL generate_series(GREATEST(i.start_day, %s::date), "
            "LEAST(COALESCE(i.end_day, %s::date), %s::date) - 1, interval '1 day') AS g(day)"
        )
        day = "g.day::date"
        day_params: list[Any] = [period.start, period.end, period.end]
    else:
        days_sql, day_params = _days_sql(period)
        days = (
            f"JOIN ({days_sql}) g ON i.start_day <= g.day "
            "AND (i.end_day IS NULL OR i.end_day > g.day)"
        )
        day = "g.day"
    currency = "%s"
    sql = (
        f"SELECT {day} AS day, d.owner_id AS person, i.to_stage_id AS stage_id, "  # noqa: S608
        "p.path AS path, p.reports_to_id AS reports_to_id, p.team_id AS team_id, "
        "p.team_path AS team_path, "
        "COUNT(*) AS deals, "
        f"SUM(CASE WHEN d.currency = {currency} THEN {amount} ELSE 0 END) AS amount, "
        f"SUM(CASE WHEN d.currency = {currency} THEN ROUND({amount} * {probability} / 100.0, 2) "
        "ELSE 0 END) AS weighted_amount, "
        f"SUM(CASE WHEN d.currency = {currency} THEN 0 ELSE 1 END) AS other_currency "
        f"FROM ({intervals}) i "
        f"JOIN {stage} s ON s.id = i.to_stage_id AND s.kind = 'open' "
        f"JOIN {deal} d ON d.id = i.deal_id "
        f"{days} "
        f"LEFT JOIN {placement} p ON p.user_id = d.owner_id "
        f"AND p.valid_from <= {day} AND p.valid_until > {day} "
        "WHERE i.start_day < %s AND (i.end_day IS NULL OR i.end_day > %s) "
        f"{deal_ids_sql}"
        f"GROUP BY {day}, d.owner_id, i.to_stage_id, p.path, p.reports_to_id, p.team_id, "
        "p.team_path"
    )
    all_params = [
        cny(),
        cny(),
        cny(),
        *params,
        *day_params,
        period.end,
        period.start,
    ]
    return sql, all_params


def live_snapshot(scope: Scope, days: Sequence[date]) -> dict[date, dict[int, dict[str, Any]]]:
    """``{day: {stage_id: {deals, amount, weighted_amount, other_currency}}}`` from the records."""
    out: dict[date, dict[int, dict[str, Any]]] = {}
    for day in sorted(set(days)):
        inner, params = snapshot_sql(Period.between(day, _next(day)))
        condition, condition_params = scope.placed_sql("x", "x.person")
        sql = (
            "SELECT x.day, x.stage_id, SUM(x.deals), SUM(x.amount), "  # noqa: S608
            f"SUM(x.weighted_amount), SUM(x.other_currency) FROM ({inner}) x "
            f"WHERE {condition} GROUP BY x.day, x.stage_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *condition_params])
            for _day, stage_id, deals, amount, weighted, other in cursor.fetchall():
                out.setdefault(day, {})[stage_id] = {
                    "deals": int(deals or 0),
                    "amount": Decimal(amount or 0).quantize(Decimal("0.01")),
                    "weighted_amount": Decimal(weighted or 0).quantize(Decimal("0.01")),
                    "other_currency": int(other or 0),
                }
    return out


def _next(day: date) -> date:
    from datetime import timedelta

    return day + timedelta(days=1)
