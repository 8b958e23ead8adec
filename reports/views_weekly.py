"""The weekly sales report pages.

- ``reports:weekly-report`` (``?week=2026-W48``, default this week): the
  signed-in rep's own report — the week's figures filled in from the
  pipeline, the rep's notes, save as draft or submit; read-only once
  submitted, with the manager's comments and the rep's answers;
- ``reports:weekly-team``: a manager's view of one week — who submitted,
  who has a draft, who is missing, with the week's calls, visits and wins;
- ``reports:weekly-report-list``: every report the user may see, filtered,
  sorted, paged and exported;
- ``reports:weekly-report-detail``: one report, to read and comment on.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from pipeline.models import Stage
from reports import weekly
from reports.models import WeeklyReport
from reports.planning_forms import CommentForm, WeeklyReportForm
from reports.views_common import (
    apply_errors,
    fetch,
    int_param,
    list_page,
    people_choices,
    require_perm,
    run_action,
    team_choices,
)
from salesorg.lib import refcache
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate


def _week(request: HttpRequest) -> date:
    chosen = weekly.parse_week(request.GET.get("week"))
    current = weekly.current_week_start()
    if chosen is None or chosen > current:
        return current
    return chosen


def _week_nav(monday: date) -> dict[str, Any]:
    current = weekly.current_week_start()
    nxt = monday + timedelta(days=7)
    return {
        "week_start": monday,
        "week_end": monday + timedelta(days=6),
        "week_label": weekly.week_label(monday),
        "prev_week": weekly.week_label(monday - timedelta(days=7)),
        "next_week": weekly.week_label(nxt) if nxt <= current else "",
        "is_current_week": monday == current,
    }


def _stages() -> dict[int, Stage]:
    """The stages by id, from the reference cache (``Stage`` is watched by refcache).

    The ``Stage`` objects are cached, not their labels: ``Stage.label`` depends
    on the language of the request that reads it.
    """
    return refcache.cached("stage-labels", lambda: {s.pk: s for s in Stage.objects.all()})


def _figures_context(figures: weekly.WeekFigures) -> dict[str, Any]:
    """Stage names for the moves, in the interface language."""
    stages = _stages() if figures.moves else {}

    def label(pk: int | None) -> str:
        stage = stages.get(pk)
        return stage.label if stage is not None else "?"

    moves = [
        {**m, "from_label": label(m["from"]), "to_label": label(m["to"])} for m in figures.moves
    ]
    return {"figures": figures, "moves": moves}


def _comments(report: WeeklyReport | None) -> list[Any]:
    if report is None or report.status != WeeklyReport.Status.SUBMITTED:
        return []
    return list(report.comments.select_related("author"))


# ---------------------------------------------------------------------- my report
@login_required
@require_http_methods(["GET", "POST"])
def weekly_report(request: HttpRequest) -> HttpResponse:
    """The signed-in person's report for one week: fill in, save, submit."""
    user = request.user
    if not user.has_perm("reports.add_weeklyreport"):
        if user.has_perm("reports.view_weeklyreport"):
            return redirect("reports:weekly-team")
        raise PermissionDenied
    monday = _week(request)
    report = WeeklyReport.objects.filter(owner=user, week_start=monday).first()
    editable = report is None or report.status == WeeklyReport.Status.DRAFT
    form = WeeklyReportForm(
        request.POST if request.method == "POST" else None,
        instance=report if report is not None else WeeklyReport(owner=user, week_start=monday),
    )
    if request.method == "POST":
        if not editable:
            messages.error(request, _("The report was submitted; it can no longer change."))
            return redirect(f"{reverse('reports:weekly-report')}?week={weekly.week_label(monday)}")
        if form.is_valid():
            try:
                report = weekly.report_save(
                    by=user,
                    week_start=monday,
                    expected_version=form.cleaned_data.get("version"),
                    **form.values(),
                )
                if request.POST.get("action") == "submit":
                    weekly.report_submit(by=user, report=report, expected_version=report.version)
            except (ValidationError, StaleWrite) as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Your report was submitted to your manager.")
                    if report.status == WeeklyReport.Status.SUBMITTED
                    else _("Your draft was saved."),
                )
                url = f"{reverse('reports:weekly-report')}?week={weekly.week_label(monday)}"
                return redirect(url)
    figures = weekly.figures_for(report, owner=user, week_start=monday, viewer=user)
    return render(
        request,
        "reports/weekly/report.html",
        {
            "report": report,
            "owner": user,
            "form": form if editable else None,
            "editable": editable,
            "comments": _comments(report),
            "comment_form": CommentForm()
            if report is not None and weekly.may_comment(user, report)
            else None,
            "mine": True,
            **_week_nav(monday),
            **_figures_context(figures),
        },
    )


@login_required
@require_GET
def weekly_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report as its readers see it; the rep's own draft opens in the editor."""
    access = fetch(request, WeeklyReport.objects.select_related("owner__team"), pk)
    report = access.obj
    user = request.user
    if report.owner_id == user.pk and report.status == WeeklyReport.Status.DRAFT:
        return redirect(f"{reverse('reports:weekly-report')}?week={report.iso_week}")
    figures = weekly.figures_for(
        report, owner=report.owner, week_start=report.week_start, viewer=user
    )
    return render(
        request,
        "reports/weekly/report.html",
        {
            "report": report,
            "owner": report.owner,
            "form": None,
            "editable": False,
            "comments": _comments(report),
            "comment_form": CommentForm() if weekly.may_comment(user, report) else None,
            "mine": report.owner_id == user.pk,
            **_week_nav(report.week_start),
            **_figures_context(figures),
        },
    )


@login_required
@require_POST
def weekly_report_comment(request: HttpRequest, pk: int) -> HttpResponse:
    report = fetch(request, WeeklyReport.objects.select_related("owner"), pk).obj
    if not weekly.may_comment(request.user, report):
        raise PermissionDenied
    form = CommentForm(request.POST)
    to = f"{report.get_absolute_url()}#comments"
    if not form.is_valid():
        messages.error(request, _("Write the comment."))
        return redirect(to)
    return run_action(
        request,
        lambda: weekly.report_comment(
            by=request.user, report=report, body=form.cleaned_data["body"]
        ),
        success=_("Your comment was added; %(who)s is notified.")
        % {
            "who": report.owner
            if report.owner_id != request.user.pk
            else (report.owner.reports_to or _("your manager"))
        },
        to=to,
    )


@login_required
@require_POST
def weekly_report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    report = fetch(request, WeeklyReport.objects.all(), pk).obj
    return run_action(
        request,
        lambda: weekly.report_delete(by=request.user, report=report),
        success=_("The draft was deleted."),
        to=reverse("reports:weekly-report-list"),
    )


# ------------------------------------------------------------------- all reports
REPORT_SORT = {
    "week": "week_start",
    "rep": ("owner__last_name", "owner__first_name", "owner__username"),
    "status": "status",
    "submitted": "submitted_at",
}


def _reports(request: HttpRequest) -> QuerySet[WeeklyReport]:
    qs = WeeklyReport.objects.visible_to(request.user).select_related("owner__team")
    week = weekly.parse_week(request.GET.get("week"))
    if week:
        qs = qs.filter(week_start=week)
    owner = int_param(request, "owner")
    if owner:
        qs = qs.filter(owner_id=owner)
    if request.GET.get("status") in WeeklyReport.Status.values:
        qs = qs.filter(status=request.GET["status"])
    team = int_param(request, "team")
    if team:
        qs = qs.filter(owner__team_id=team)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(customer_feedback__icontains=q)
            | Q(market_info__icontains=q)
            | Q(competitor_news__icontains=q)
            | Q(next_week_forecast__icontains=q)
        )
    return qs


def _export_row(r: WeeklyReport) -> tuple[Any, ...]:
    f = weekly.WeekFigures.from_json(r.figures)
    frozen = r.status == WeeklyReport.Status.SUBMITTED
    return (
        str(r.owner),
        r.owner.team.name if r.owner.team_id else "",
        r.iso_week,
        r.get_status_display(),
        timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M") if r.submitted_at else "",
        f.calls if frozen else "",
        f.visit_count if frozen else "",
        f.activities_total if frozen else "",
        f.moves_count if frozen else "",
        f.won_count if frozen else "",
        f.won_total if frozen else "",
        f.lost_count if frozen else "",
        f.leads_count if frozen else "",
        r.customer_feedback,
        r.market_info,
        r.competitor_news,
        r.next_week_forecast,
        r.forecast_amount,
    )


@login_required
@require_GET
def weekly_report_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_weeklyreport")
    header = [
        _("Rep"),
        _("Team"),
        _("Week"),
        _("Status"),
        _("Submitted"),
        _("Calls"),
        _("Visits"),
        _("Activities"),
        _("Deals moved"),
        _("Deals won"),
        _("Won revenue (CNY)"),
        _("Deals lost"),
        _("New leads"),
        _("Customer feedback"),
        _("Market information"),
        _("Competitor news"),
        _("Next week's forecast"),
        _("Revenue expected next week (CNY)"),
    ]
    return list_page(
        request,
        qs=_reports(request),
        sort_columns=REPORT_SORT,
        default_sort="-week",
        template="reports/weekly/list.html",
        context={
            "people": people_choices(request.user, weekly.reporters(request.user)),
            "teams": team_choices(request.user),
            "statuses": WeeklyReport.Status.choices,
            "can_write": request.user.has_perm("reports.add_weeklyreport"),
        },
        export_name="weekly-reports",
        export_header=header,
        export_row=_export_row,
    )


# -------------------------------------------------------------------- team's week
TEAM_SORT = {
    "name": ("last_name", "first_name", "username"),
    "status": ("status_order",),
    "submitted": "report_submitted_at",
    "team": "team__name",
}
TEAM_STATUSES = ("submitted", "draft", "missing")


def _team_people(request: HttpRequest, monday: date) -> QuerySet[User]:
    people = weekly.reporters(request.user).select_related("team")
    team = int_param(request, "team")
    if team:
        people = people.filter(team_id=team)
    q = request.GET.get("q", "").strip()
    if q:
        people = people.filter(
            Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(username__icontains=q)
        )
    people = weekly.with_week_report(people, monday).annotate(
        status_order=Case(
            When(report_status=WeeklyReport.Status.SUBMITTED, then=Value(2)),
            When(report_status=WeeklyReport.Status.DRAFT, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    return people


def _filter_status(request: HttpRequest, people: QuerySet[User]) -> QuerySet[User]:
    status = request.GET.get("status")
    if status == "missing":
        return people.filter(report_id__isnull=True)
    if status in WeeklyReport.Status.values:
        return people.filter(report_status=status)
    return people


@login_required
@require_GET
def weekly_team(request: HttpRequest) -> HttpResponse:
    """A week's reports of everyone the user sees: submitted, draft or missing."""
    require_perm(request, "reports.view_weeklyreport")
    monday = _week(request)
    people = _team_people(request, monday)
    listed = _filter_status(request, people)
    status_label = {
        "submitted": _("Submitted"),
        "draft": _("Draft"),
        "missing": _("Missing"),
    }

    def export_row(p: User) -> tuple[Any, ...]:
        f = weekly.WeekFigures.from_json(p.report_figures)
        submitted = p.report_status == WeeklyReport.Status.SUBMITTED
        return (
            str(p),
            p.team.name if p.team_id else "",
            weekly.week_label(monday),
            status_label[p.report_status or "missing"],
            timezone.localtime(p.report_submitted_at).strftime("%Y-%m-%d %H:%M")
            if p.report_submitted_at
            else "",
            f.calls if submitted else "",
            f.visit_count if submitted else "",
            f.won_count if submitted else "",
            f.won_total if submitted else "",
        )

    listed, sort = apply_sort(request, listed, TEAM_SORT, "status")
    if request.GET.get("export") == "csv":
        # only the export reads the frozen figures (the page counts live)
        listed = listed.annotate(report_figures=F("week_report__figures"))
        return csv_response(
            f"weekly-reports-{weekly.week_label(monday)}",
            [
                _("Rep"),
                _("Team"),
                _("Week"),
                _("Status"),
                _("Submitted"),
                _("Calls"),
                _("Visits"),
                _("Deals won"),
                _("Won revenue (CNY)"),
            ],
            (export_row(p) for p in listed.iterator(chunk_size=500)),
        )
    page = paginate(request, listed)
    rows = list(page)
    live = weekly.live_counts(
        viewer=request.user, owner_ids=[p.pk for p in rows], week_start=monday
    )
    for person in rows:
        person.live = live[person.pk]
    return render(
        request,
        "reports/weekly/team.html",
        {
            "page": page,
            "rows": rows,
            "sort": sort,
            "summary": weekly.week_summary(people),
            "teams": team_choices(request.user),
            "status_label": status_label,
            **_week_nav(monday),
        },
    )
