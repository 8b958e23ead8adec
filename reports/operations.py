"""The operations page: what the scheduled jobs did, and whether workers and beat run.

For the director and staff (``reports.view_operations`` or ``is_staff``).
Shows each job's latest run, every run (filtered, sorted, paged, exported),
one job's history, and a "run now" button that enqueues the job under a fresh
manual slot (``manual-<time>``), so it runs even when today's slot is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import crontab, schedule
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from reports.models import JobRun
from salesorg.beat import beat_lock_holder
from salesorg.celery import app as celery_app
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

RUN_SORT = {
    "started": "started_at",
    "job": ("job", "started_at"),
    "status": ("status", "started_at"),
}


def can_view_operations(user: Any) -> bool:
    return user.is_authenticated and (user.is_staff or user.has_perm("reports.view_operations"))


def _require(request: HttpRequest) -> None:
    if not can_view_operations(request.user):
        raise PermissionDenied


# ------------------------------------------------------------------------ catalog
_DAYS = {
    "0": gettext_lazy("Sundays"),
    "1": gettext_lazy("Mondays"),
    "2": gettext_lazy("Tuesdays"),
    "3": gettext_lazy("Wednesdays"),
    "4": gettext_lazy("Thursdays"),
    "5": gettext_lazy("Fridays"),
    "6": gettext_lazy("Saturdays"),
}
_DAY_NAMES = {"sun": "0", "mon": "1", "tue": "2", "wed": "3", "thu": "4", "fri": "5", "sat": "6"}


def describe_schedule(when: Any) -> str:
    """A schedule in words ("daily at 08:00", "every 15 minutes", "Mondays at 09:00")."""
    if isinstance(when, int | float):
        return _("every %(seconds)d seconds") % {"seconds": when}
    if isinstance(when, crontab):
        minute, hour = str(when._orig_minute), str(when._orig_hour)
        dow = str(when._orig_day_of_week).lower()
        if minute.startswith("*/") and hour == "*":
            return _("every %(n)s minutes") % {"n": minute[2:]}
        if hour == "*" and minute.isdigit():
            return _("every hour at :%(minute)02d") % {"minute": int(minute)}
        if hour.isdigit() and minute.isdigit():
            at = f"{int(hour):02d}:{int(minute):02d}"
            if dow == "*":
                return _("daily at %(time)s") % {"time": at}
            day = _DAYS.get(_DAY_NAMES.get(dow, dow))
            if day:
                return _("%(days)s at %(time)s") % {"days": day, "time": at}
        return f"cron {minute} {hour} {when._orig_day_of_month} {when._orig_month_of_year} {dow}"
    if isinstance(when, schedule):
        return _("every %(seconds)d seconds") % {"seconds": when.run_every.total_seconds()}
    return str(when)


@dataclass
class Job:
    name: str  # as recorded in JobRun ("visit_reminders")
    task: str  # the Celery task name ("jobs.visit_reminders")
    schedule: str
    registered: bool
    latest: JobRun | None = None
    runs_week: int = 0
    failed_week: int = 0


def job_catalog() -> list[Job]:
    """Every scheduled job: those in the beat schedule, and any other ``jobs.*`` task."""
    autodiscover_modules("tasks")
    registered = {name for name in celery_app.tasks if name.startswith("jobs.")}
    jobs: dict[str, Job] = {}
    for entry in celery_app.conf.beat_schedule.values():
        task = entry["task"]
        if task.startswith("jobs."):
            jobs[task] = Job(
                name=task.removeprefix("jobs."),
                task=task,
                schedule=describe_schedule(entry["schedule"]),
                registered=task in registered,
            )
    for task in sorted(registered - set(jobs)):
        jobs[task] = Job(task.removeprefix("jobs."), task, _("not scheduled"), True)
    return list(jobs.values())


def with_latest_runs(jobs: list[Job], *, now: datetime) -> list[Job]:
    """Each job's latest run (one query, one index lookup per job) and its week's tally."""
    if not jobs:
        return jobs
    latest_q = Q()
    for job in jobs:
        latest_q |= Q(
            pk=Subquery(
                JobRun.objects.filter(job=job.name).order_by("-started_at", "-pk").values("pk")[:1]
            )
        )
    latest = {run.job: run for run in JobRun.objects.filter(latest_q)}
    tally = {
        row["job"]: row
        for row in JobRun.objects.filter(started_at__gte=now - timedelta(days=7))
        .order_by()
        .values("job")
        .annotate(runs=Count("pk"), failed=Count("pk", filter=Q(status=JobRun.Status.FAILED)))
    }
    for job in jobs:
        job.latest = latest.get(job.name)
        job.runs_week = tally.get(job.name, {}).get("runs", 0)
        job.failed_week = tally.get(job.name, {}).get("failed", 0)
    return jobs


def _runs(request: HttpRequest, qs: QuerySet[JobRun]) -> tuple[QuerySet[JobRun], Any]:
    status = request.GET.get("status", "")
    if status in JobRun.Status.values:
        qs = qs.filter(status=status)
    job = request.GET.get("job", "")
    if job:
        qs = qs.filter(job=job)
    return apply_sort(request, qs, RUN_SORT, "-started")


def _export(runs: QuerySet[JobRun]) -> HttpResponse:
    return csv_response(
        "job-runs",
        [
            _("Job"),
            _("Slot"),
            _("Status"),
            _("Started"),
            _("Finished"),
            _("Seconds"),
            _("Attempts"),
            _("What it did"),
            _("Error"),
        ],
        (
            (
                r.job,
                r.slot,
                r.get_status_display(),
                timezone.localtime(r.started_at).strftime("%Y-%m-%d %H:%M:%S"),
                timezone.localtime(r.finished_at).strftime("%Y-%m-%d %H:%M:%S")
                if r.finished_at
                else "",
                r.duration_seconds,
                r.attempts,
                r.summary,
                r.error_line,
            )
            for r in runs.iterator(chunk_size=500)
        ),
    )


# -------------------------------------------------------------------------- pages
@login_required
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    """Every job with its latest run, and the list of all runs."""
    _require(request)
    runs, sort = _runs(request, JobRun.objects.all())
    if request.GET.get("export") == "csv":
        return _export(runs)
    jobs = with_latest_runs(job_catalog(), now=timezone.now())
    page = paginate(request, runs)
    return render(
        request,
        "reports/operations/index.html",
        {
            "jobs": jobs,
            "page": page,
            "sort": sort,
            "statuses": JobRun.Status.choices,
            "job_names": [j.name for j in jobs],
        },
    )


@login_required
@require_GET
def job_history(request: HttpRequest, job: str) -> HttpResponse:
    """One job's runs, newest first, with what each did and its full error."""
    _require(request)
    catalog = {j.name: j for j in job_catalog()}
    if job not in catalog and not JobRun.objects.filter(job=job).exists():
        raise Http404
    runs, sort = _runs(request, JobRun.objects.filter(job=job))
    if request.GET.get("export") == "csv":
        return _export(runs)
    info = catalog.get(job) or Job(job, f"jobs.{job}", _("not scheduled"), False)
    return render(
        request,
        "reports/operations/job.html",
        {
            "job": with_latest_runs([info], now=timezone.now())[0],
            "page": paginate(request, runs),
            "sort": sort,
            "statuses": JobRun.Status.choices,
        },
    )


@login_required
@require_POST
def job_run_now(request: HttpRequest, job: str) -> HttpResponse:
    """Enqueue the job now under a fresh manual slot (after this request commits)."""
    _require(request)
    catalog = {j.name: j for j in job_catalog()}
    info = catalog.get(job)
    if info is None:
        raise Http404
    if not info.registered:
        messages.error(request, _("This job is not installed in this version of salesorg."))
        return redirect("reports:operations-job", job=job)
    slot = f"manual-{timezone.localtime():%Y%m%dT%H%M%S}"
    celery_app.tasks[info.task].apply_async_on_commit(kwargs={"slot_name": slot})
    messages.success(
        request,
        _("%(job)s is queued (slot %(slot)s); its run appears here when a worker starts it.")
        % {"job": job, "slot": slot},
    )
    return redirect("reports:operations-job", job=job)


@login_required
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Worker and beat health, loaded by htmx (pinging workers can take a second)."""
    _require(request)
    from salesorg.health import health_report

    report = health_report()
    beat = report["worker"].get("last_heartbeat")
    beat_at = parse_datetime(beat) if beat else None
    age = (timezone.now() - beat_at).total_seconds() if beat_at else None
    return render(
        request,
        "reports/operations/_health.html",
        {
            "report": report,
            "heartbeat_at": beat_at,
            "heartbeat_age": age,
            # beat sends the heartbeat every minute and a worker runs it
            "heartbeat_ok": age is not None and age < 180,
            "beat_holder": beat_lock_holder(),
        },
    )
