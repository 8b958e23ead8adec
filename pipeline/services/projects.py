"""Delivery projects: after a won deal, milestones with owners and due dates, tasks,
progress computed in SQL, and the hand-off to the post-project survey.

Progress is "done items ÷ all items" over tasks and milestones together, as an
integer percentage, annotated in the database (``with_progress``) so a list of
projects costs one query however many tasks they have.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from pipeline.models import Contract, Deal, Milestone, Project, Stage, Task
from salesorg.lib.concurrency import StaleWrite

Status = Project.Status

#: Which status a project may move to from each status.
PROJECT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.PLANNED: (Status.IN_PROGRESS, Status.ON_HOLD, Status.CANCELLED),
    Status.IN_PROGRESS: (Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED),
    Status.ON_HOLD: (Status.IN_PROGRESS, Status.CANCELLED),
    Status.COMPLETED: (),
    Status.CANCELLED: (),
}
OPEN_STATUSES = (Status.PLANNED, Status.IN_PROGRESS, Status.ON_HOLD)
EDITABLE_FIELDS = ("name", "goals", "owner", "contract", "start_date", "due_date")


def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _locked(project: Project, expected_version: int | None = None) -> Project:
    fresh = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise StaleWrite(fresh)
    return fresh


# -------------------------------------------------------------------- reading
def _count(model: type[Milestone] | type[Task], condition: Q | None = None) -> Coalesce:
    qs = model.objects.filter(project=OuterRef("pk"))
    if condition is not None:
        qs = qs.filter(condition)
    counted = qs.order_by().values("project").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_progress(qs: QuerySet[Project], *, today: date | None = None) -> QuerySet[Project]:
    """Annotate counts of tasks and milestones, ``progress`` (0–100) and ``overdue_count``."""
    today = today or timezone.localdate()
    qs = qs.annotate(
        tasks_total=_count(Task),
        tasks_done=_count(Task, Q(done=True)),
        milestones_total=_count(Milestone),
        milestones_done=_count(Milestone, Q(status=Milestone.Status.DONE)),
        overdue_count=_count(Milestone, Q(due_date__lt=today) & ~Q(status=Milestone.Status.DONE)),
    )
    items = F("tasks_total") + F("milestones_total")
    done = F("tasks_done") + F("milestones_done")
    return qs.annotate(
        progress=Case(
            When(status=Status.COMPLETED, then=Value(100)),
            When(Q(tasks_total=0) & Q(milestones_total=0), then=Value(0)),
            default=done * 100 / items,
            output_field=IntegerField(),
        )
    )


def overdue_milestones(qs: QuerySet[Milestone], *, today: date | None = None) -> QuerySet:
    """Milestones past their due date and not done, in projects still running."""
    today = today or timezone.localdate()
    return qs.filter(due_date__lt=today, project__status__in=OPEN_STATUSES).exclude(
        status=Milestone.Status.DONE
    )


def default_owner(deal: Deal) -> User:
    manager = deal.client.account_manager
    return manager if manager is not None and manager.is_active else deal.owner


def _check_dates(start: date | None, due: date | None) -> None:
    if start and due and due < start:
        raise ValidationError({"due_date": _("The project is due after it starts.")})


def _check_contract(contract: Contract | None, client_id: int) -> None:
    if contract is not None and contract.client_id != client_id:
        raise ValidationError({"contract": _("Choose a contract of the same client.")})


# -------------------------------------------------------------------- projects
@transaction.atomic
def project_create_from_deal(
    *,
    deal: Deal,
    by: User,
    name: str = "",
    owner: User | None = None,
    contract: Contract | None = None,
    goals: str = "",
    start_date: date | None = None,
    due_date: date | None = None,
) -> Project:
    """A planned delivery project for a won deal, kept by the client's account manager."""
    _require(by, "pipeline.add_project")
    if deal.stage.kind != Stage.Kind.WON:
        raise ValidationError(_("A delivery project follows a won deal; this deal is not won yet."))
    _check_dates(start_date, due_date)
    _check_contract(contract, deal.client_id)
    return Project.objects.create(
        client=deal.client,
        deal=deal,
        contract=contract,
        owner=owner or default_owner(deal),
        name=name or deal.title,
        goals=goals,
        start_date=start_date or timezone.localdate(),
        due_date=due_date,
    )


@transaction.atomic
def project_update(
    *, project: Project, by: User, expected_version: int | None, **fields: Any
) -> Project:
    _require(by, "pipeline.change_project")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable project fields: {sorted(unknown)}")
    project = _locked(project, expected_version)
    if project.status not in OPEN_STATUSES:
        raise ValidationError(_("A completed or cancelled project is not changed any more."))
    for name, value in fields.items():
        setattr(project, name, value)
    _check_dates(project.start_date, project.due_date)
    _check_contract(project.contract, project.client_id)
    project.save_versioned(expected_version=project.version)
    return project


def after_project_completed(project_id: int) -> None:
    """Runs once a project's completion has committed.

    Hook for the scheduled-jobs issue: enqueue the post-project satisfaction
    survey here (``task.delay_on_commit(project_id)``). The survey job should
    also be idempotent on its own, keyed on ``Project.completed_on``.
    """


@transaction.atomic
def project_transition(
    *, project: Project, to_status: str, by: User, expected_version: int | None = None
) -> Project:
    """Start, hold, resume, complete or cancel a project along ``PROJECT_TRANSITIONS``."""
    _require(by, "pipeline.change_project")
    project = _locked(project, expected_version)
    if to_status not in Status.values:
        raise ValidationError(
            {"status": _("“%(status)s” is not a project status.") % {"status": to_status}}
        )
    if to_status not in PROJECT_TRANSITIONS[project.status]:
        raise ValidationError(
            {
                "status": _("A project that is “%(from)s” cannot become “%(to)s”.")
                % {"from": project.get_status_display(), "to": Status(to_status).label}
            }
        )
    project.status = to_status
    if to_status == Status.COMPLETED:
        project.completed_on = timezone.localdate()
    project.save_versioned(expected_version=project.version)
    if to_status == Status.COMPLETED:
        pk = project.pk
        transaction.on_commit(lambda: after_project_completed(pk))
    return project


def project_complete(*, project: Project, by: User, expected_version: int | None = None) -> Project:
    """Complete the project: sets ``completed_on`` and calls ``after_project_completed``."""
    return project_transition(
        project=project, to_status=Status.COMPLETED, by=by, expected_version=expected_version
    )


@transaction.atomic
def project_delete(*, project: Project, by: User) -> None:
    _require(by, "pipeline.delete_project")
    project.delete()


# ------------------------------------------------------------------ milestones
def _open_project(project: Project) -> None:
    if project.status not in OPEN_STATUSES:
        raise ValidationError(_("A completed or cancelled project is not changed any more."))


MILESTONE_FIELDS = ("name", "owner", "due_date", "status", "position")


@transaction.atomic
def milestone_save(
    *, project: Project, by: User, milestone: Milestone | None = None, **fields: Any
) -> Milestone:
    """Add a milestone to a project or change one; "done" records the completion date."""
    _require(by, "pipeline.change_milestone" if milestone else "pipeline.add_milestone")
    unknown = set(fields) - set(MILESTONE_FIELDS)
    if unknown:
        raise TypeError(f"Not milestone fields: {sorted(unknown)}")
    _open_project(project)
    if milestone is None:
        milestone = Milestone(project=project)
    elif milestone.project_id != project.pk:
        raise ValidationError(_("This milestone belongs to another project."))
    else:  # work on the stored row: a bound form may already have changed the instance
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    was_done = milestone.status == Milestone.Status.DONE and milestone.pk is not None
    for name, value in fields.items():
        setattr(milestone, name, value)
    if milestone.status == Milestone.Status.DONE and not was_done:
        milestone.completed_on = timezone.localdate()
    elif milestone.status != Milestone.Status.DONE:
        milestone.completed_on = None
    milestone.full_clean(exclude=["project"])
    milestone.save()
    return milestone


@transaction.atomic
def milestone_delete(*, milestone: Milestone, by: User) -> None:
    _require(by, "pipeline.delete_milestone")
    _open_project(milestone.project)
    milestone.delete()


# ------------------------------------------------------------------------ tasks
TASK_FIELDS = ("title", "owner", "due_date", "milestone", "done")


@transaction.atomic
def task_save(*, project: Project, by: User, task: Task | None = None, **fields: Any) -> Task:
    """Add a task (optionally under a milestone of the same project) or change one."""
    _require(by, "pipeline.change_task" if task else "pipeline.add_task")
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"Not task fields: {sorted(unknown)}")
    _open_project(project)
    if task is None:
        task = Task(project=project)
    elif task.project_id != project.pk:
        raise ValidationError(_("This task belongs to another project."))
    else:
        task = Task.objects.select_for_update().get(pk=task.pk)
    was_done = task.done and task.pk is not None
    for name, value in fields.items():
        setattr(task, name, value)
    if task.milestone is not None and task.milestone.project_id != project.pk:
        raise ValidationError({"milestone": _("Choose a milestone of this project.")})
    if task.done and not was_done:
        task.done_at = timezone.now()
    elif not task.done:
        task.done_at = None
    task.full_clean(exclude=["project"])
    task.save()
    return task


@transaction.atomic
def task_delete(*, task: Task, by: User) -> None:
    _require(by, "pipeline.delete_task")
    _open_project(task.project)
    task.delete()
