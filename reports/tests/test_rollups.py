"""The rollups equal the live definitions, re-running replaces, and the jobs keep them current."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from django.utils import timezone

from pipeline.models import Deal
from pipeline.services import deals as deal_services
from reports import kpis, rollups
from reports.kpis import Period, Scope, Totals
from reports.models import DailyFact, JobRun, PipelineSnapshot, RollupDay
from reports.tasks import kpi_rollup
from reports.tests import factories as f
from reports.tests.dataset import generate
from reports.tests.factories import at

SEED = 20261127


@pytest.fixture
def history(past_org):
    """60 days of random work ending about 10 weeks ago; the rep moves North on day 30."""
    today = timezone.localdate()
    start = today - timedelta(days=130)
    generate(past_org, start=start, days=60, seed=SEED, move_on=start + timedelta(days=30))
    # Everything that happened, deals closing up to ~45 days after the last day included.
    return past_org, Period.between(start - timedelta(days=3), today)


def _scopes(org) -> list[Scope]:
    people = [org.rep, org.peer_rep, org.am, org.manager, org.peer_am, org.outsider, org.director]
    return [
        Scope.company(),
        *(Scope.team(t) for t in (org.east, org.north, org.east_team, org.north_team)),
        *(Scope.line(p) for p in people),
        *(Scope.person(p) for p in people),
    ]


def _random_period(rng: random.Random, span: Period) -> Period:
    kind = rng.choice(["day", "week", "month", "quarter", "custom", "custom"])
    day = span.start + timedelta(days=rng.randrange(span.days))
    if kind != "custom":
        return Period.containing(kind, day)
    last = min(span.last, day + timedelta(days=rng.randrange(1, 80)))
    return Period.custom(day, last)


def _rows(model, period: Period) -> set[tuple]:
    names = [f.name for f in model._meta.concrete_fields if f.name != "id"]
    attnames = [model._meta.get_field(n).attname for n in names]
    return set(
        model.objects.filter(day__gte=period.start, day__lt=period.end).values_list(*attnames)
    )


def test_rollup_equals_live_for_random_scopes_and_periods(history):
    org, span = history
    rollups.rebuild_period(span)
    rng = random.Random(SEED)
    scopes = _scopes(org)
    checked_money = 0
    for _ in range(40):
        scope = rng.choice(scopes)
        period = _random_period(rng, span)
        live = kpis.totals(scope, period, source="live")
        rolled = kpis.totals(scope, period, source="rollup")
        assert rolled == live, (scope, period)
        assert rolled.source == "rollup" and live.source == "live"
        # And the records a drill-down lists add up to the same numbers.
        won = kpis.won_revenue_records(scope, period, viewer=org.director)
        assert (won.aggregate(s=Sum("amount"))["s"] or Decimal("0")) == live.won_amount
        done = kpis.activity_records(scope, period, viewer=org.director)
        assert done.count() == live.activities
        checked_money += live.won_amount > 0
    assert checked_money >= 10, "the sample should hit periods with revenue"

    # Weeks, months and quarters are summed by the database from the rollup.
    for by in ("person", "day", "week", "month", "quarter"):
        for _ in range(3):
            scope = rng.choice(scopes)
            period = _random_period(rng, span)
            assert kpis.breakdown(scope, period, by=by, source="rollup") == kpis.breakdown(
                scope, period, by=by, source="live"
            ), (by, scope, period)
    for scope in (Scope.company(), Scope.team(org.east)):
        by_team = kpis.breakdown(scope, span, by="team", source="rollup")
        assert by_team == kpis.breakdown(scope, span, by="team", source="live")
        assert sum(t.activities for t in by_team.values()) == kpis.totals(scope, span).activities
        # By team and month in one read: each month's teams as ``by="team"`` of the
        # month, and every team of a month adds up to ``by="month"``'s month.
        months = Period.between(
            Period.containing("month", span.start).start, Period.containing("month", span.last).end
        )
        for source in ("rollup", "live"):
            cells = kpis.breakdown_by_team_and_month(scope, months, source=source)
            by_month = kpis.breakdown(scope, months, by="month", source="live")
            assert {m for _t, m in cells} == set(by_month)
            for month, totals in by_month.items():
                teams = {t: v for (t, m), v in cells.items() if m == month}
                one = Period.containing("month", month)
                assert teams == kpis.breakdown(scope, one, by="team", source="live"), month
                assert sum(teams.values(), Totals()) == totals, month


def test_pipeline_snapshot_rollup_equals_the_reconstruction(history):
    org, span = history
    rng = random.Random(SEED + 1)
    days = sorted({span.start + timedelta(days=rng.randrange(span.days)) for _ in range(8)})
    rollups.rebuild_days(days)
    for scope in (Scope.company(), Scope.team(org.east_team), Scope.line(org.peer_manager)):
        rolled, source = kpis.pipeline_snapshot(scope, days, source="rollup")
        live, live_source = kpis.pipeline_snapshot(scope, days, source="live")
        assert (source, live_source) == ("rollup", "live")
        assert rolled == live, scope
        assert sum(s["deals"] for day in rolled.values() for s in day.values()) > 0
    # The funnel of a past day reads the same snapshot, and lists the same deals.
    company, _source = kpis.pipeline_snapshot(Scope.company(), days)
    for day in days:
        funnel = kpis.funnel(Scope.company(), as_of=day)
        assert funnel.source == "rollup"
        assert funnel.deals == sum(v["deals"] for v in company.get(day, {}).values())
        for stage in funnel.stages:
            records = kpis.funnel_records(
                Scope.company(), viewer=org.director, stage_id=stage.stage_id, as_of=day
            )
            assert records.count() == stage.deals, (day, stage.code)


def test_rerunning_a_day_replaces_it(history):
    _org, span = history
    rollups.rebuild_period(span)
    facts, snapshots = _rows(DailyFact, span), _rows(PipelineSnapshot, span)
    assert facts and snapshots
    middle = Period.between(span.start + timedelta(days=40), span.start + timedelta(days=47))
    for _ in range(2):
        rollups.rebuild_period(middle)
        rollups.rebuild_days([span.start + timedelta(days=45), span.start + timedelta(days=90)])
    assert _rows(DailyFact, span) == facts
    assert _rows(PipelineSnapshot, span) == snapshots
    duplicates = (
        DailyFact.objects.values("day", "user").annotate(n=Count("pk")).filter(n__gt=1).exists()
    )
    assert not duplicates
    assert RollupDay.objects.count() == span.days


def test_the_backfill_command_rebuilds_a_range(history):
    _org, span = history
    first, last = span.start + timedelta(days=10), span.start + timedelta(days=19)
    out = StringIO()
    call_command("kpi_backfill", "--from", str(first), "--to", str(last), stdout=out)
    assert "Rolled up 10 days" in out.getvalue()
    assert set(RollupDay.objects.values_list("day", flat=True)) == set(Period.custom(first, last))
    period = Period.custom(first, last)
    assert kpis.totals(Scope.company(), period, source="rollup") == kpis.totals(
        Scope.company(), period, source="live"
    )
    # --missing fills the rest from the first record, in chunks.
    out = StringIO()
    call_command("kpi_backfill", "--missing", "--chunk-days", "30", stdout=out)
    built = set(RollupDay.objects.values_list("day", flat=True))
    assert built >= set(Period.between(span.start + timedelta(days=3), span.end))
    call_command("kpi_backfill", "--missing", stdout=(out := StringIO()))
    assert "Nothing to roll up" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("kpi_backfill", "--to", str(timezone.localdate() + timedelta(days=1)))
    with pytest.raises(CommandError):
        call_command("kpi_backfill", "--from", "yesterday")


def test_the_backfill_leaves_the_planner_counting_the_rebuilt_rows(history):
    """PostgreSQL plans the dashboards' reads by the tables' statistics; a backfill
    refreshes them instead of leaving the old row counts until autovacuum runs."""
    from django.db import connection

    _org, span = history
    call_command(
        "kpi_backfill", "--from", str(span.start), "--to", str(span.end), stdout=StringIO()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = %s", [DailyFact._meta.db_table]
        )
        (estimated,) = cursor.fetchone()
    assert DailyFact.objects.count() > 100
    assert estimated == DailyFact.objects.count()


@pytest.mark.django_db(transaction=True)
def test_a_backfill_outside_a_transaction_vacuums_what_it_replaced():
    """Run as the command runs (autocommit), a backfill vacuums the rollup tables:
    the dashboards then read this rebuild's rows, not every rebuild's leftovers."""
    from django.db import connection

    from tests.personas import build_org

    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        org = build_org()
    today = timezone.localdate()
    for back in range(1, 6):
        f.activity(org.rep, when=at(today - timedelta(days=back), 10))
    tables = [m._meta.db_table for m in (DailyFact, PipelineSnapshot, RollupDay)]

    def vacuums() -> dict[str, int]:
        # (a kept test database may carry earlier runs' vacuums: compare counts)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                [tables],
            )
            return dict(cursor.fetchall())

    before = vacuums()
    call_command("kpi_backfill", "--from", str(today - timedelta(days=10)), stdout=StringIO())
    after = vacuums()
    assert DailyFact.objects.filter(user=org.rep).count() == 5
    assert all(after[name] > before.get(name, 0) for name in tables), (before, after)


def test_the_nightly_job_rolls_up_and_follows_late_changes(past_org):
    org = past_org
    today = timezone.localdate()
    long_ago = today - timedelta(days=40)
    won = f.deal(
        org.rep,
        created=at(long_ago - timedelta(days=10)),
        path=[("negotiation", at(long_ago - timedelta(days=5))), ("won", at(long_ago))],
        amount="250000",
    )
    f.activity(org.rep, when=at(today - timedelta(days=20)))
    assert kpi_rollup.apply(kwargs={"slot_name": "night-1"}).get()["days"] >= 40
    assert kpi_rollup.apply(kwargs={"slot_name": "night-1"}).get() is None  # once per slot
    assert JobRun.objects.get(job="kpi_rollup", slot="night-1").status == JobRun.Status.OK
    month = Period.containing("month", long_ago)
    assert kpis.won_revenue(Scope.person(org.rep), month, source="rollup").amount == Decimal(
        "250000"
    )

    # Later: the deal is reopened, and a visit from three weeks ago is logged late.
    won.refresh_from_db()
    deal_services.deal_reopen(by=org.rep, deal=won, expected_version=won.version)
    late = today - timedelta(days=21)
    f.activity(org.rep, type="visit", when=at(late))
    stale = kpis.totals(Scope.person(org.rep), Period.containing("day", late), source="rollup")
    assert stale.act_visit == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        summary = kpi_rollup.apply(kwargs={"slot_name": "night-2"}).get()
    assert summary["days"] < 40  # only what changed, and the last days
    for period in (month, Period.containing("day", late), Period.containing("month", today)):
        scope = Scope.person(org.rep)
        assert kpis.totals(scope, period, source="rollup") == kpis.totals(
            scope, period, source="live"
        )
    assert not Deal.objects.get(pk=won.pk).closed_on
    assert kpis.won_revenue(Scope.person(org.rep), month, source="rollup").amount == 0


def test_auto_reads_the_rollup_for_past_days_and_today_live(past_org):
    rep = past_org.rep
    today = timezone.localdate()
    f.activity(rep, when=at(today - timedelta(days=2)))
    f.activity(rep, when=timezone.now() - timedelta(minutes=5))
    week = Period.between(today - timedelta(days=6), today + timedelta(days=1))
    not_built = kpis.totals(Scope.person(rep), week)
    assert (not_built.source, not_built.act_call) == ("live", 2)
    rollups.rebuild_period(Period.between(week.start, today))
    mixed = kpis.totals(Scope.person(rep), week)
    assert (mixed.source, mixed.act_call) == ("rollup+live", 2)
    past = Period.between(week.start, today)
    assert kpis.totals(Scope.person(rep), past).source == "rollup"
    assert kpis.rolled_up(past) and not kpis.rolled_up(week)


def test_a_recompute_task_rebuilds_the_days_it_is_given(past_org):
    from reports.tasks import kpi_recompute

    day = timezone.localdate() - timedelta(days=3)
    f.activity(past_org.rep, when=at(day))
    result = kpi_recompute.apply(args=[[day.isoformat(), "2999-01-01"]]).get()
    assert result["days"] == 1
    assert DailyFact.objects.get(day=day, user=past_org.rep).act_call == 1
