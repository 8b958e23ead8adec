"""``manage.py kpi_backfill``: rebuild the KPI rollups for a range of days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reports import rollups
from reports.kpis.periods import Period


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Rebuild the daily KPI facts and pipeline snapshots for a range of days "
        "(default: from the first record to today). Re-running replaces the days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=_day, help="first day (YYYY-MM-DD)")
        parser.add_argument(
            "--to", dest="end", type=_day, help="last day, included (default: today)"
        )
        parser.add_argument("--missing", action="store_true", help="only the days never rolled up")
        parser.add_argument(
            "--chunk-days",
            type=int,
            default=0,
            help="rebuild in transactions of this many days (default: the whole range at once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        end = options["end"] or today
        if end > today:
            raise CommandError("The rollup cannot run for days that have not happened yet.")
        if options["missing"]:
            days = sorted(d for d in rollups.missing_days(today + timedelta(days=1)) if d <= end)
            if options["start"]:
                days = [d for d in days if d >= options["start"]]
        else:
            start = options["start"] or rollups.first_record_day() or end
            if start > end:
                raise CommandError("--from is after --to.")
            days = list(Period.custom(start, end))
        if not days:
            self.stdout.write("Nothing to roll up.")
            return
        chunk = options["chunk_days"]
        periods = rollups.runs(days)
        if chunk > 0:
            periods = [
                Period.between(
                    p.start + timedelta(days=i), min(p.end, p.start + timedelta(days=i + chunk))
                )
                for p in periods
                for i in range(0, p.days, chunk)
            ]
        total_days = facts = snapshot = 0
        seconds = 0.0
        for period in periods:
            summary = rollups.rebuild_period(period)
            total_days += summary.days
            facts += summary.fact_rows
            snapshot += summary.snapshot_rows
            seconds += summary.seconds
            self.stdout.write(
                f"  {period.label}: {summary.fact_rows} fact rows, "
                f"{summary.snapshot_rows} snapshot rows ({summary.seconds:.1f} s)"
            )
        rollups.refresh_statistics()
        self.stdout.write(
            self.style.SUCCESS(
                f"Rolled up {total_days} days: {facts} fact rows, {snapshot} snapshot rows "
                f"in {seconds:.1f} s."
            )
        )
