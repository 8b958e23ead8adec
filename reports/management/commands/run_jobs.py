"""``manage.py run_jobs``: run the scheduled jobs now, in this process, and show what they did.

For a demo, a check after a deploy, or catching up by hand. Each job claims its
slot in ``JobRun`` like a run sent by beat: without ``--slot`` a job whose
slot is already done does nothing (say so with ``--slot manual-…`` to force a
fresh run). ``--worker`` sends them to the workers instead (after commit) and
waits for their runs.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from reports.models import JobRun
from reports.operations import job_catalog


class Command(BaseCommand):
    help = "Run the scheduled jobs now and print each one's JobRun summary."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("jobs", nargs="*", help="job names (default: every installed job)")
        parser.add_argument("--slot", help="slot name for every run (default: each job's own)")
        parser.add_argument(
            "--worker", action="store_true", help="send to the workers and wait for them"
        )
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait (--worker)")

    def handle(self, *args: Any, **options: Any) -> None:
        from salesorg.celery import app

        catalog = [j for j in job_catalog() if j.registered and not j.name.startswith("test_")]
        wanted = options["jobs"] or [j.name for j in catalog]
        known = {j.name: j for j in catalog}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise CommandError(f"Unknown or not installed: {', '.join(unknown)}")
        kwargs = {"slot_name": options["slot"]} if options["slot"] else {}
        started = timezone.now()
        for name in wanted:
            task = app.tasks[known[name].task]
            if options["worker"]:
                with transaction.atomic():
                    task.apply_async_on_commit(kwargs=kwargs)
                continue
            clock = time.monotonic()
            result = task.apply(kwargs=kwargs)
            took = time.monotonic() - clock
            if result.failed():
                self.stdout.write(self.style.ERROR(f"{name}: failed ({took:.2f} s)"))
            elif result.result is None:
                self.stdout.write(f"{name}: slot already done, nothing to do ({took:.2f} s)")
            else:
                self.stdout.write(f"{name}: ok ({took:.2f} s)")
        if options["worker"]:
            self._wait(wanted, started, options["timeout"])
        self._show(wanted, started)

    def _wait(self, names: list[str], since: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished = JobRun.objects.filter(
                job__in=names, started_at__gte=since, finished_at__isnull=False
            ).count()
            if finished >= len(names):
                return
            time.sleep(1)
        self.stdout.write(self.style.WARNING("Not every job finished before the timeout."))

    def _show(self, names: list[str], since: Any) -> None:
        self.stdout.write("")
        self.stdout.write("JobRun rows of this run:")
        runs = JobRun.objects.filter(job__in=names, started_at__gte=since).order_by("started_at")
        for run in runs:
            seconds = f"{run.duration_seconds:.2f} s" if run.duration_seconds is not None else "—"
            self.stdout.write(
                f"  {run.job:<26} {run.slot:<22} {run.get_status_display():<10} {seconds:>8}  "
                f"{json.dumps(run.summary, ensure_ascii=False, sort_keys=True)}"
            )
            if run.error:
                self.stdout.write(self.style.ERROR(f"    {run.error_line}"))
