"""Rolling the daily facts and pipeline snapshots up into their tables.

Each rebuild replaces whole days: in one transaction per run of consecutive
days it deletes the days' ``DailyFact`` and ``PipelineSnapshot`` rows and
inserts them again with one set-based ``INSERT … SELECT … GROUP BY`` each, from
the same SQL that defines the live figures (``reports.kpis.facts`` and
``reports.kpis.snapshot``). Re-running a day therefore gives the same rows;
nothing is computed row by row in Python.

What gets rebuilt when:

- the nightly job (``jobs.kpi_rollup``): today and yesterday, the last
  ``RECENT_DAYS`` days (a late-logged or deleted activity), every day a record
  changed on since the previous run (an edited, reopened or backdated deal; a
  contract signed, renewed or expired; a complaint answered; a lead
  converted), and any day not rolled up yet since the first record (so a
  fresh install fills its history on the first night) — up to today: a
  contract's end date in the future is rolled up when that day comes;
- on demand: ``rebuild_days`` / ``rebuild_period`` (and the ``kpi_recompute``
  task for callers that want it off the request);
- by hand: ``manage.py kpi_backfill`` for any date range.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from reports.kpis import tree
from reports.kpis.facts import FACT_FIELDS, local_date, placed_sql
from reports.kpis.periods import Period
from reports.kpis.snapshot import SNAPSHOT_FIELDS, snapshot_sql
from reports.models import DailyFact, PipelineSnapshot, RollupDay

logger = logging.getLogger(__name__)

#: Days before yesterday the nightly job always rebuilds (late entries, deletions).
RECENT_DAYS = 7
PLACED_COLUMNS = ("path", "reports_to_id", "team_id", "team_path")


@dataclass(frozen=True)
class RebuildSummary:
    days: int
    fact_rows: int
    snapshot_rows: int
    seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "days": self.days,
            "fact_rows": self.fact_rows,
            "snapshot_rows": self.snapshot_rows,
            "seconds": round(self.seconds, 2),
        }


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


#: Runs of days closer than this are rebuilt as one (a day rebuilt twice is harmless,
#: and one set-based statement over a longer range is cheaper than several).
MERGE_GAP_DAYS = 14


def runs(days: Iterable[date], *, merge_gap: int = 0) -> list[Period]:
    """Sorted days as periods of consecutive days (runs ``merge_gap`` days apart joined)."""
    out: list[Period] = []
    start = end = None
    for day in sorted(set(days)):
        if end is not None and day <= end + timedelta(days=merge_gap):
            end = day + timedelta(days=1)
            continue
        if start is not None and end is not None:
            out.append(Period.between(start, end))
        start, end = day, day + timedelta(days=1)
    if start is not None and end is not None:
        out.append(Period.between(start, end))
    return out


def _insert_facts(period: Period) -> int:
    inner, params = placed_sql(period)
    columns = ["day", "user_id", *PLACED_COLUMNS, *FACT_FIELDS]
    sums = ", ".join(f"SUM(x.{_q(name)})" for name in FACT_FIELDS)
    sql = (
        f"INSERT INTO {_q(DailyFact._meta.db_table)} "  # noqa: S608 - names, values are params
        f"({', '.join(_q(c) for c in columns)}) "
        "SELECT x.day, x.person, COALESCE(x.path, ''), x.reports_to_id, x.team_id, "
        f"COALESCE(x.team_path, ''), {sums} FROM ({inner}) x "
        "GROUP BY x.day, x.person, x.path, x.reports_to_id, x.team_id, x.team_path"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _insert_snapshot(period: Period) -> int:
    inner, params = snapshot_sql(period)
    columns = ["day", "user_id", "stage_id", *PLACED_COLUMNS, *SNAPSHOT_FIELDS]
    sql = (
        f"INSERT INTO {_q(PipelineSnapshot._meta.db_table)} "  # noqa: S608
        f"({', '.join(_q(c) for c in columns)}) "
        "SELECT x.day, x.person, x.stage_id, COALESCE(x.path, ''), x.reports_to_id, x.team_id, "
        "COALESCE(x.team_path, ''), x.deals, x.amount, x.weighted_amount, x.other_currency "
        f"FROM ({inner}) x"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _without_jit() -> None:
    """PostgreSQL's JIT compiles these big-estimate queries for longer than they run."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def rebuild_period(period: Period) -> RebuildSummary:
    """Replace the rollup rows of every day in ``period`` (one transaction)."""
    started = time.monotonic()
    tree.ensure_fresh()
    with transaction.atomic():
        _without_jit()
        days = {"day__gte": period.start, "day__lt": period.end}
        DailyFact.objects.filter(**days).delete()
        PipelineSnapshot.objects.filter(**days).delete()
        facts = _insert_facts(period)
        snapshot = _insert_snapshot(period)
        RollupDay.objects.filter(**days).delete()
        built = timezone.now()
        RollupDay.objects.bulk_create([RollupDay(day=day, built_at=built) for day in period])
    summary = RebuildSummary(period.days, facts, snapshot, time.monotonic() - started)
    logger.info("rolled up %s: %s", period.label, summary.as_dict())
    return summary


def rebuild_days(days: Iterable[date]) -> RebuildSummary:
    """Replace the rollup rows of these days (and of short gaps between them), one
    transaction per run of days."""
    started = time.monotonic()
    total_days = facts = snapshot = 0
    for period in runs(days, merge_gap=MERGE_GAP_DAYS):
        summary = rebuild_period(period)
        total_days += summary.days
        facts += summary.fact_rows
        snapshot += summary.snapshot_rows
    return RebuildSummary(total_days, facts, snapshot, time.monotonic() - started)


# ------------------------------------------------------------------- what is due
def refresh_statistics() -> None:
    """After a rebuild of many days, the rollup tables cleaned and their planner
    statistics fresh.

    A backfill replaces most of their rows at once, which leaves the old rows
    behind as dead tuples and the statistics counting them. Until autovacuum
    (which may lag, or be off) gets there, the dashboards' reads scan the dead
    rows too (after four rebuilds, four times the rows the year has) and are
    planned on the old counts (a year's 17,000 fact rows estimated at 48,
    sorted instead of hashed). ``VACUUM (ANALYZE)`` of the three tables takes
    about a second. It cannot run inside a transaction (a test's, or a caller's
    ``atomic``): there the statistics alone are refreshed (``ANALYZE``).
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(_q(m._meta.db_table) for m in (DailyFact, PipelineSnapshot, RollupDay))
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {tables}")


def first_record_day() -> date | None:
    """The local day of the oldest record any fact or snapshot counts (indexed MINs)."""
    from clients.models import Complaint, SurveyResponse
    from pipeline.models import Activity, Contract, Deal, DealStageChange, Lead

    moments = [
        Activity.objects.aggregate(m=Min("start_at"))["m"],
        Lead.objects.aggregate(m=Min("created_at"))["m"],
        DealStageChange.objects.aggregate(m=Min("changed_at"))["m"],
        Complaint.objects.aggregate(m=Min("received_at"))["m"],
        SurveyResponse.objects.aggregate(m=Min("submitted_at"))["m"],
    ]
    days = [timezone.localdate(m) for m in moments if m is not None]
    for model, field in ((Deal, "closed_on"), (Contract, "signed_on"), (Contract, "end_date")):
        first = model.objects.aggregate(m=Min(field))["m"]
        if first is not None:
            days.append(first)
    return min(days) if days else None


def missing_days(today: date) -> set[date]:
    """Days from the first record to yesterday that have never been rolled up."""
    first = first_record_day()
    if first is None or first >= today:
        return set()
    built = set(
        RollupDay.objects.filter(day__gte=first, day__lt=today).values_list("day", flat=True)
    )
    return {d for d in Period.between(first, today) if d not in built}


def changed_days(since: datetime, today: date) -> set[date]:
    """Local days whose facts records changed since ``since`` (edits, moves, late entries).

    A deal's earlier versions (``HistoricalDeal``) give the close date it had
    before being reopened or re-dated, so the day it left is rebuilt too.
    """
    from clients.models import Complaint, SurveyResponse
    from pipeline.models import Activity, Contract, Deal, Lead

    days: set[date] = set()

    def add(values: Iterable[date | None]) -> None:
        days.update(d for d in values if d is not None)

    def local_days(qs, field: str) -> Iterable[date | None]:
        return (
            qs.filter(**{f"{field}__isnull": False})
            .annotate(d=local_date(field))
            .values_list("d", flat=True)
            .distinct()
            .order_by()
        )

    activities = Activity.objects.filter(updated_at__gte=since)
    add(local_days(activities, "start_at"))
    leads = Lead.objects.filter(updated_at__gte=since)
    add(local_days(leads, "created_at"))
    add(local_days(leads, "converted_at"))
    deals = Deal.objects.filter(updated_at__gte=since)
    add(local_days(deals, "created_at"))
    add(deals.values_list("closed_on", flat=True).distinct().order_by())
    history = Deal.history.model.objects.filter(  # type: ignore[attr-defined]
        Q(history_date__gte=since) | Q(id__in=deals.values("pk"))
    )
    add(history.values_list("closed_on", flat=True).distinct().order_by())
    add(local_days(history, "created_at"))
    contracts = Contract.objects.filter(updated_at__gte=since)
    contract_history = Contract.history.model.objects.filter(  # type: ignore[attr-defined]
        Q(history_date__gte=since) | Q(id__in=contracts.values("pk"))
    )
    for qs in (contracts, contract_history):
        add(qs.values_list("signed_on", flat=True).distinct().order_by())
        add(qs.values_list("end_date", flat=True).distinct().order_by())
    add(local_days(Complaint.objects.filter(updated_at__gte=since), "received_at"))
    add(local_days(SurveyResponse.objects.filter(submitted_at__gte=since), "submitted_at"))
    return {d for d in days if d <= today}


def nightly_days(now: datetime, since: datetime | None) -> set[date]:
    """Everything the nightly job rebuilds (see the module docstring)."""
    today = timezone.localdate(now)
    days = {today - timedelta(days=n) for n in range(RECENT_DAYS + 2)}
    if since is not None:
        days |= changed_days(since, today)
    days |= missing_days(today)
    return days
