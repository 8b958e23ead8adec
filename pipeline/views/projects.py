"""Delivery project pages: the list, a project with milestones and tasks, its
timeline, the create / edit forms, and overdue milestones for AMs and managers."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.visibility import Access
from pipeline.models import Milestone, Project, Stage, Task
from pipeline.services import projects as service
from pipeline.views.delivery_common import (
    apply_errors,
    fetch,
    fetch_deal,
    history_rows,
    posted_version,
    require_perm,
    run_action,
)
from pipeline.views.project_forms import MilestoneForm, ProjectForm, TaskForm
from pipeline.views.quotes import pick_deal
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

PROJECT_SORT = {
    "name": "name",
    "client": "client__name",
    "owner": ("owner__last_name", "owner__username"),
    "status": "status",
    "due": "due_date",
    "progress": "progress",
    "created": "created_at",
}
MILESTONE_SORT = {
    "due": "due_date",
    "project": "project__name",
    "client": "project__client__name",
    "owner": ("owner__last_name", "owner__username"),
}


def _project_qs(user) -> QuerySet[Project]:
    return Project.objects.visible_to(user).select_related("client", "owner", "contract", "deal")


# ------------------------------------------------------------------------ lists
def _filtered(request: HttpRequest) -> QuerySet[Project]:
    qs = service.with_progress(_project_qs(request.user))
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(client__name__icontains=q))
    status = request.GET.get("status")
    if status == "open":
        qs = qs.filter(status__in=service.OPEN_STATUSES)
    elif status in Project.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("overdue") == "1":
        qs = qs.filter(overdue_count__gt=0)
    if request.GET.get("mine") == "1":
        qs = qs.filter(Q(owner=request.user) | Q(client__account_manager=request.user))
    return qs


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "pipeline.view_project")
    qs, sort = apply_sort(request, _filtered(request), PROJECT_SORT, "-created")
    if request.GET.get("export") == "csv":
        return csv_response(
            "projects",
            [
                _("Name"),
                _("Client"),
                _("Owner"),
                _("Status"),
                _("Start"),
                _("Due"),
                _("Completed on"),
                _("Progress (%)"),
                _("Overdue milestones"),
                _("Contract"),
            ],
            (
                (
                    p.name,
                    p.client.name,
                    str(p.owner),
                    p.get_status_display(),
                    p.start_date,
                    p.due_date,
                    p.completed_on,
                    p.progress,
                    p.overdue_count,
                    p.contract.number if p.contract_id else "",
                )
                for p in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/projects/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "statuses": Project.Status.choices,
            "can_create": request.user.has_perm("pipeline.add_project"),
        },
    )


@login_required
@require_GET
def milestones_overdue(request: HttpRequest) -> HttpResponse:
    """Milestones past due in running projects the user sees (their own, their team's)."""
    require_perm(request.user, "pipeline.view_milestone")
    today = timezone.localdate()
    qs = service.overdue_milestones(
        Milestone.objects.visible_to(request.user).select_related(
            "project__client", "project__owner", "owner"
        ),
        today=today,
    )
    if request.GET.get("mine") == "1":
        qs = qs.filter(
            Q(owner=request.user)
            | Q(project__owner=request.user)
            | Q(project__client__account_manager=request.user)
        )
    qs, sort = apply_sort(request, qs, MILESTONE_SORT, "due")
    if request.GET.get("export") == "csv":
        return csv_response(
            "overdue-milestones",
            [_("Milestone"), _("Project"), _("Client"), _("Owner"), _("Due"), _("Days overdue")],
            (
                (
                    m.name,
                    m.project.name,
                    m.project.client.name,
                    str(m.owner),
                    m.due_date,
                    (today - m.due_date).days,
                )
                for m in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/projects/overdue.html",
        {"page": paginate(request, qs), "sort": sort, "today": today},
    )


# ----------------------------------------------------------------------- detail
def _project_access(request: HttpRequest, pk: int, *, change: bool = False) -> Access[Project]:
    return fetch(
        request,
        _project_qs(request.user).select_related("client__account_manager"),
        pk,
        change=change,
    )


def _milestones(project: Project) -> list[Milestone]:
    return list(
        project.milestones.select_related("owner").prefetch_related(
            Prefetch("tasks", queryset=Task.objects.select_related("owner"))
        )
    )


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    today = timezone.localdate()
    access = fetch(
        request,
        service.with_progress(_project_qs(request.user), today=today).select_related(
            "client__account_manager"
        ),
        pk,
    )
    project = progress = access.obj
    user = request.user
    milestones = _milestones(project)
    loose_tasks = list(project.tasks.filter(milestone__isnull=True).select_related("owner"))
    can_change = access.can_change and project.status in service.OPEN_STATUSES
    history = list(project.history.select_related("history_user")[:30])
    return render(
        request,
        "pipeline/projects/detail.html",
        {
            "project": project,
            "access": access,
            "progress": progress,
            "milestones": milestones,
            "loose_tasks": loose_tasks,
            "today": today,
            "can_change": can_change,
            "transitions": [
                (s, Project.Status(s).label) for s in service.PROJECT_TRANSITIONS[project.status]
            ]
            if access.can_change
            else [],
            "can_delete": access.can_delete,
            "milestone_form": MilestoneForm(actor=user, prefix="m") if can_change else None,
            "task_form": TaskForm(actor=user, project=project, prefix="t") if can_change else None,
            "history": history_rows(
                history, ("status", "name", "start_date", "due_date", "completed_on")
            ),
        },
    )


def timeline_points(
    start: date | None, end: date | None, milestones: list[Milestone], today: date
) -> dict[str, Any]:
    """Place milestones on a time axis from the project's start to its end (percentages)."""
    dates = [m.due_date for m in milestones] + [d for d in (start, end, today) if d]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)

    def pct(day: date) -> float:
        return round((day - first).days * 100 / span, 2)

    points = [
        {
            "milestone": m,
            "left": pct(m.due_date),
            "overdue": m.due_date < today and m.status != Milestone.Status.DONE,
            "done": m.status == Milestone.Status.DONE,
        }
        for m in milestones
    ]
    return {"first": first, "last": last, "today_left": pct(today), "points": points}


@login_required
@require_GET
def project_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_access(request, pk).obj
    today = timezone.localdate()
    milestones = list(project.milestones.select_related("owner"))
    axis = (
        timeline_points(project.start_date, project.due_date, milestones, today)
        if milestones
        else None
    )
    return render(
        request,
        "pipeline/projects/timeline.html",
        {"project": project, "axis": axis, "today": today, "milestones": milestones},
    )


# ------------------------------------------------------------------- create/edit
@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest, deal_pk: int) -> HttpResponse:
    require_perm(request.user, "pipeline.add_project")
    deal = fetch_deal(request, deal_pk).obj
    if deal.stage.kind != Stage.Kind.WON:
        messages.error(
            request, _("A delivery project follows a won deal; this deal is not won yet.")
        )
        return redirect("pipeline:project-list")
    instance = Project(client=deal.client, deal=deal, owner=service.default_owner(deal))
    form = ProjectForm(
        request.POST or None,
        instance=instance,
        actor=request.user,
        client_id=deal.client_id,
        initial={
            "name": deal.title,
            "start_date": timezone.localdate(),
            "contract": deal.contracts.order_by("-start_date").values_list("pk", flat=True).first(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = service.project_create_from_deal(deal=deal, by=request.user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The delivery project was created."))
            return redirect(project.get_absolute_url())
    return render(
        request, "pipeline/projects/form.html", {"form": form, "deal": deal, "project": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_access(request, pk, change=True).obj
    form = ProjectForm(
        request.POST or None, instance=project, actor=request.user, client_id=project.client_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            service.project_update(
                project=project,
                by=request.user,
                expected_version=form.cleaned_data.get("version"),
                **form.values(),
            )
        except (ValidationError, StaleWrite) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The delivery project was saved."))
            return redirect(project.get_absolute_url())
    return render(
        request,
        "pipeline/projects/form.html",
        {"form": form, "deal": project.deal, "project": project},
    )


@login_required
@require_POST
def project_transition(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_access(request, pk, change=True).obj
    to_status = request.POST.get("status", "")
    label = Project.Status(to_status).label if to_status in Project.Status.values else to_status
    return run_action(
        request,
        lambda: service.project_transition(
            project=project,
            to_status=to_status,
            by=request.user,
            expected_version=posted_version(request),
        ),
        success=_("The project is now “%(status)s”.") % {"status": label},
        to=project.get_absolute_url(),
    )


@login_required
@require_POST
def project_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access = _project_access(request, pk)
    if not access.can_delete:
        raise PermissionDenied
    service.project_delete(project=access.obj, by=request.user)
    messages.success(request, _("The delivery project was deleted."))
    return redirect("pipeline:project-list")


@login_required
@require_GET
def project_new(request: HttpRequest) -> HttpResponse:
    return pick_deal(
        request,
        perm="pipeline.add_project",
        won_only=True,
        title=_("New delivery project: choose the won deal"),
        target="pipeline:project-create",
    )


# ------------------------------------------------------------ milestones, tasks
def _form_error_message(form: Any) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {error}".lstrip(": ")
        for name, errors in form.errors.items()
        for error in errors
    )


@login_required
@require_POST
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_access(request, pk, change=True).obj
    form = MilestoneForm(request.POST, actor=request.user, prefix="m")
    if form.is_valid():
        try:
            service.milestone_save(project=project, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The milestone was added."))
    else:
        messages.error(request, _form_error_message(form))
    return redirect(project.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _changeable_child(request, Milestone, pk)
    project = milestone.project
    form = MilestoneForm(request.POST or None, instance=milestone, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            service.milestone_save(
                project=project, by=request.user, milestone=milestone, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The milestone was saved."))
            return redirect(project.get_absolute_url())
    return render(
        request,
        "pipeline/projects/item_form.html",
        {"form": form, "project": project, "title": _("Edit milestone")},
    )


@login_required
@require_POST
def milestone_done(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _changeable_child(request, Milestone, pk)
    status = request.POST.get("status", Milestone.Status.DONE)
    if status not in Milestone.Status.values:
        status = Milestone.Status.DONE
    return run_action(
        request,
        lambda: service.milestone_save(
            project=milestone.project, by=request.user, milestone=milestone, status=status
        ),
        success=_("The milestone is now “%(status)s”.")
        % {"status": Milestone.Status(status).label},
        to=milestone.project.get_absolute_url(),
    )


@login_required
@require_POST
def milestone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _changeable_child(request, Milestone, pk)
    project = milestone.project
    return run_action(
        request,
        lambda: service.milestone_delete(milestone=milestone, by=request.user),
        success=_("The milestone was removed."),
        to=project.get_absolute_url(),
    )


def _changeable_child(request: HttpRequest, model: type[Milestone] | type[Task], pk: int) -> Any:
    """A milestone or task: visible through its project, changeable when the project is."""
    access = fetch(
        request,
        model.objects.select_related("project__client", "project__owner"),
        pk,
    )
    project_access = fetch(request, _project_qs(request.user), access.obj.project_id)
    if not project_access.can_change:
        raise PermissionDenied
    access.obj.project = project_access.obj
    return access.obj


@login_required
@require_POST
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_access(request, pk, change=True).obj
    form = TaskForm(request.POST, actor=request.user, project=project, prefix="t")
    if form.is_valid():
        try:
            service.task_save(project=project, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The task was added."))
    else:
        messages.error(request, _form_error_message(form))
    return redirect(project.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = _changeable_child(request, Task, pk)
    project = task.project
    form = TaskForm(request.POST or None, instance=task, actor=request.user, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            service.task_save(project=project, by=request.user, task=task, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The task was saved."))
            return redirect(project.get_absolute_url())
    return render(
        request,
        "pipeline/projects/item_form.html",
        {"form": form, "project": project, "title": _("Edit task")},
    )


@login_required
@require_POST
def task_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick a task done (or not); with htmx only the task's row is re-rendered."""
    task = _changeable_child(request, Task, pk)
    project = task.project
    try:
        task = service.task_save(
            project=project, by=request.user, task=task, done=request.POST.get("done") == "1"
        )
    except ValidationError as exc:
        if not request.htmx:
            messages.error(request, " ".join(exc.messages))
            return redirect(project.get_absolute_url())
        return HttpResponse(" ".join(exc.messages), status=400)
    if request.htmx:
        return render(
            request,
            "pipeline/projects/_task.html",
            {"task": task, "can_change": True, "today": timezone.localdate()},
        )
    return redirect(project.get_absolute_url())


@login_required
@require_POST
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _changeable_child(request, Task, pk)
    project = task.project
    return run_action(
        request,
        lambda: service.task_delete(task=task, by=request.user),
        success=_("The task was removed."),
        to=project.get_absolute_url(),
    )
