"""Team-building pages: performance reviews, training records, the team skill
matrix and each person's skill radar.

Personnel records are visible to the person and everyone above them
(``reports.access.LineOnly``); writes go through ``reports.teambuilding``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, User
from accounts.services import assignable_managers
from pipeline.models import Target
from pipeline.services import targets as target_rules
from reports import teambuilding
from reports.models import PerformanceReview, SkillAssessment, TrainingRecord
from reports.planning_forms import AcknowledgeForm, ReviewForm, SkillForm, TrainingForm
from reports.views_common import (
    delete_page,
    edit_page,
    fetch,
    form_page,
    int_param,
    list_page,
    posted_version,
    require_perm,
    run_action,
    team_choices,
)

FORM = "reports/planning/form.html"


def line_people(user: User) -> QuerySet[User]:
    """The people whose personnel records ``user`` may see: themselves and everyone
    below, former staff included (the active ones: ``assignable_managers``)."""
    people = User.objects.visible_to(user)
    if user.sees_everything:
        return people
    return people.filter(path__startswith=user.path)


# ========================================================================= reviews
REVIEW_SORT = {
    "period": ("period_start", "period"),
    "person": ("person__last_name", "person__username"),
    "reviewer": ("reviewer__last_name", "reviewer__username"),
    "overall": "rating_overall",
    "status": "status",
}


def _reviews(request: HttpRequest) -> QuerySet[PerformanceReview]:
    qs = PerformanceReview.objects.visible_to(request.user).select_related("person", "reviewer")
    person = int_param(request, "person")
    if person:
        qs = qs.filter(person_id=person)
    if request.GET.get("status") in PerformanceReview.Status.values:
        qs = qs.filter(status=request.GET["status"])
    if request.GET.get("period") in Target.Period.values:
        qs = qs.filter(period=request.GET["period"])
    team = int_param(request, "team")
    if team:
        qs = qs.filter(person__team_id=team)
    return qs


@login_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_performancereview")
    ratings = dict(PerformanceReview.Rating.choices)
    return list_page(
        request,
        qs=_reviews(request),
        sort_columns=REVIEW_SORT,
        default_sort="-period",
        template="reports/team/review_list.html",
        context={
            "people": assignable_managers(request.user).order_by("path"),
            "statuses": PerformanceReview.Status.choices,
            "periods": Target.Period.choices,
            "teams": team_choices(request.user),
            "can_create": request.user.has_perm("reports.add_performancereview"),
        },
        export_name="performance-reviews",
        export_header=[
            _("Person"),
            _("Period"),
            _("Reviewer"),
            _("Results vs targets"),
            _("Activity and discipline"),
            _("Customer relationships"),
            _("Teamwork"),
            _("Overall"),
            _("Strengths"),
            _("Areas to improve"),
            _("Feedback"),
            _("Status"),
            _("Acknowledged"),
        ],
        export_row=lambda r: (
            str(r.person),
            target_rules.period_label(r.period, r.period_start),
            str(r.reviewer),
            r.rating_results,
            r.rating_activity,
            r.rating_customer,
            r.rating_teamwork,
            ratings.get(r.rating_overall, r.rating_overall),
            r.strengths,
            r.improvements,
            r.feedback,
            r.get_status_display(),
            timezone.localtime(r.acknowledged_at).strftime("%Y-%m-%d") if r.acknowledged_at else "",
        ),
    )


@login_required
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, PerformanceReview.objects.select_related("person", "reviewer"), pk)
    review = access.obj
    is_person = review.person_id == request.user.pk
    return render(
        request,
        "reports/team/review_detail.html",
        {
            "review": review,
            "access": access,
            "can_change": access.can_change
            and not is_person
            and review.status != PerformanceReview.Status.ACKNOWLEDGED,
            "can_delete": access.can_delete and not is_person,
            "period_label": target_rules.period_label(review.period, review.period_start),
            "ratings": [
                (review._meta.get_field(name).verbose_name, getattr(review, name))
                for name in teambuilding.RATING_FIELDS
            ],
            "ack_form": AcknowledgeForm()
            if is_person and review.status == PerformanceReview.Status.SHARED
            else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_performancereview")
    today = timezone.localdate()
    initial = {
        "period": Target.Period.QUARTER,
        "period_start": target_rules.period_start_for(Target.Period.QUARTER, today),
        "person": int_param(request, "person"),
    }
    form = ReviewForm(request.POST or None, by=request.user, initial=initial)
    return form_page(
        request,
        form=form,
        save=lambda f: teambuilding.review_create(
            by=request.user, share=f.cleaned_data.get("share", False), **f.values()
        ),
        template=FORM,
        context={"title": _("New performance review"), "cancel": reverse("reports:review-list")},
        success=_("The review was saved."),
        to=lambda r: r.get_absolute_url(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = fetch(request, PerformanceReview.objects.select_related("person"), pk, change=True).obj
    if review.person_id == request.user.pk:
        raise PermissionDenied
    form = ReviewForm(request.POST or None, instance=review, by=request.user)
    return form_page(
        request,
        form=form,
        save=lambda f: teambuilding.review_update(
            by=request.user,
            review=review,
            expected_version=f.cleaned_data.get("version"),
            share=f.cleaned_data.get("share", False),
            **f.values(*teambuilding.REVIEW_FIELDS),
        ),
        template=FORM,
        context={
            "title": _("Review of %(person)s") % {"person": review.person},
            "cancel": review.get_absolute_url(),
        },
        success=_("The review was saved."),
        to=lambda r: r.get_absolute_url(),
    )


@login_required
@require_POST
def review_share(request: HttpRequest, pk: int) -> HttpResponse:
    review = fetch(request, PerformanceReview.objects.select_related("person"), pk, change=True).obj
    return run_action(
        request,
        lambda: teambuilding.review_share(
            by=request.user, review=review, expected_version=posted_version(request)
        ),
        success=_("The review was shared with %(person)s.") % {"person": review.person},
        to=review.get_absolute_url(),
    )


@login_required
@require_POST
def review_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    review = fetch(request, PerformanceReview.objects.select_related("reviewer"), pk).obj
    if review.person_id != request.user.pk:
        raise PermissionDenied
    form = AcknowledgeForm(request.POST)
    form.is_valid()
    return run_action(
        request,
        lambda: teambuilding.review_acknowledge(
            by=request.user,
            review=review,
            expected_version=posted_version(request),
            comment=form.cleaned_data.get("comment", ""),
        ),
        success=_("You acknowledged the review."),
        to=review.get_absolute_url(),
    )


@login_required
@require_POST
def review_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request,
        PerformanceReview.objects.all(),
        pk,
        refuse=lambda review: review.person_id == request.user.pk,
        delete=lambda review: teambuilding.review_delete(by=request.user, review=review),
        success=_("The review was deleted."),
        to="reports:review-list",
    )


# ======================================================================== training
TRAINING_SORT = {
    "date": "taken_on",
    "person": ("person__last_name", "person__username"),
    "course": "course",
    "hours": "hours",
    "result": "result",
}


def _training(request: HttpRequest) -> QuerySet[TrainingRecord]:
    qs = TrainingRecord.objects.visible_to(request.user).select_related("person")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(course__icontains=q) | Q(provider__icontains=q))
    person = int_param(request, "person")
    if person:
        qs = qs.filter(person_id=person)
    if request.GET.get("result") in TrainingRecord.Result.values:
        qs = qs.filter(result=request.GET["result"])
    year = int_param(request, "year")
    if year:
        qs = qs.filter(taken_on__year=year)
    return qs


@login_required
@require_GET
def training_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_trainingrecord")
    return list_page(
        request,
        qs=_training(request),
        sort_columns=TRAINING_SORT,
        default_sort="-date",
        template="reports/team/training_list.html",
        context={
            "people": assignable_managers(request.user).order_by("path"),
            "results": TrainingRecord.Result.choices,
            "can_create": request.user.has_perm("reports.add_trainingrecord"),
            "can_change": request.user.has_perm("reports.change_trainingrecord"),
        },
        export_name="training",
        export_header=[
            _("Person"),
            _("Course"),
            _("Provider"),
            _("Date"),
            _("Hours"),
            _("Result"),
            _("Score"),
            _("Notes"),
        ],
        export_row=lambda t: (
            str(t.person),
            t.course,
            t.provider,
            t.taken_on,
            t.hours,
            t.get_result_display(),
            t.score,
            t.notes,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_trainingrecord")
    form = TrainingForm(
        request.POST or None,
        by=request.user,
        initial={"person": int_param(request, "person"), "taken_on": timezone.localdate()},
    )
    return form_page(
        request,
        form=form,
        save=lambda f: teambuilding.training_save(by=request.user, **f.values()),
        template=FORM,
        context={"title": _("New training record"), "cancel": reverse("reports:training-list")},
        success=_("The training was recorded."),
        to=lambda t: reverse("reports:training-list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(
        request,
        TrainingRecord.objects.select_related("person"),
        pk,
        form_class=TrainingForm,
        name="course",
        save=lambda f, record: teambuilding.training_save(
            by=request.user, record=record, **f.values()
        ),
        cancel=reverse("reports:training-list"),
        extra=lambda access: {
            "delete_url": reverse("reports:training-delete", args=[access.obj.pk])
            if access.can_delete
            else ""
        },
        success=_("The training record was saved."),
        to=lambda t: reverse("reports:training-list"),
    )


@login_required
@require_POST
def training_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request,
        TrainingRecord.objects.all(),
        pk,
        success=_("The training record was deleted."),
        to="reports:training-list",
    )


# ========================================================================== skills
SKILL_KEYS = [key for key, _label in teambuilding.SKILLS]
SKILL_SORT = {
    "name": ("last_name", "first_name", "username"),
    "assessed": "skill_assessed_on",
    **{key: f"skill_{key}" for key in SKILL_KEYS},
}


def _matrix_people(request: HttpRequest) -> QuerySet[User]:
    """The people of the matrix with their newest assessment's scores (correlated
    subqueries on the page's rows, no per-person queries)."""
    qs = (
        assignable_managers(request.user)
        .exclude(role=Role.SUPPORT)
        .select_related("team")
        .annotate(**teambuilding.latest_skill_columns())
    )
    team = int_param(request, "team")
    if team:
        qs = qs.filter(team_id=team)
    if request.GET.get("role") in Role.values:
        qs = qs.filter(role=request.GET["role"])
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(username__icontains=q)
        )
    if request.GET.get("assessed") == "0":
        qs = qs.filter(~Exists(SkillAssessment.objects.filter(person=OuterRef("pk"))))
    return qs


@login_required
@require_GET
def skill_matrix(request: HttpRequest) -> HttpResponse:
    """People × skills, coloured against the ideal manager; a team average row."""
    require_perm(request, "reports.view_skillassessment")
    qs = _matrix_people(request)
    return list_page(
        request,
        qs=qs,
        sort_columns=SKILL_SORT,
        default_sort="name",
        template="reports/team/skill_matrix.html",
        context={
            "skills": teambuilding.SKILLS,
            "ideal": teambuilding.ideal_profile(),
            "teams": team_choices(request.user),
            "roles": [(r.value, r.label) for r in Role if r != Role.SUPPORT],
            "average": qs.order_by().aggregate(**{key: Avg(f"skill_{key}") for key in SKILL_KEYS})
            if request.GET.get("export") != "csv"
            else {},
            "can_assess": request.user.has_perm("reports.add_skillassessment"),
        },
        export_name="skill-matrix",
        export_header=[
            _("Person"),
            _("Role"),
            _("Team"),
            _("Assessed on"),
            *[str(label) for _key, label in teambuilding.SKILLS],
        ],
        export_row=lambda p: (
            str(p),
            p.get_role_display(),
            p.team.name if p.team_id else "",
            p.skill_assessed_on,
            *[getattr(p, f"skill_{key}") for key in SKILL_KEYS],
        ),
        decorate=_decorate_matrix,
    )


def _decorate_matrix(people: list[Any]) -> None:
    for person in people:
        person.cells = teambuilding.skill_cells(person, prefix="skill_")


@login_required
@require_GET
def skill_person(request: HttpRequest, user_pk: int) -> HttpResponse:
    """One person's skill radar against the ideal, their assessments and training."""
    person = line_people(request.user).select_related("team").filter(pk=user_pk).first()
    if person is None:
        raise Http404
    assessments = list(
        SkillAssessment.objects.visible_to(request.user)
        .filter(person=person)
        .select_related("assessed_by")[:12]
    )
    latest = assessments[0] if assessments else None
    ideal = teambuilding.ideal_profile()
    labels = [str(label) for _key, label in teambuilding.SKILLS]
    return render(
        request,
        "reports/team/skill_person.html",
        {
            "person": person,
            "latest": latest,
            "cells": teambuilding.skill_cells(latest),
            "assessments": assessments,
            "skills": teambuilding.SKILLS,
            "training": list(
                TrainingRecord.objects.visible_to(request.user).filter(person=person)[:10]
            ),
            "chart": {
                "labels": labels,
                "person": [getattr(latest, key) for key in SKILL_KEYS] if latest else [],
                "previous": [getattr(assessments[1], key) for key in SKILL_KEYS]
                if len(assessments) > 1
                else [],
                "ideal": [ideal[key] for key in SKILL_KEYS],
                "person_label": f"{person} · {latest.assessed_on:%Y-%m-%d}" if latest else "",
                "previous_label": f"{assessments[1].assessed_on:%Y-%m-%d}"
                if len(assessments) > 1
                else "",
                "ideal_label": _("Ideal manager"),
            },
            "can_assess": request.user.has_perm("reports.add_skillassessment")
            and person.pk != request.user.pk,
            "can_delete": request.user.has_perm("reports.delete_skillassessment")
            and person.pk != request.user.pk,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def skill_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_skillassessment")
    form = SkillForm(
        request.POST or None,
        by=request.user,
        initial={"person": int_param(request, "person"), "assessed_on": timezone.localdate()},
    )
    return form_page(
        request,
        form=form,
        save=lambda f: teambuilding.skill_assess(by=request.user, **f.values()),
        template=FORM,
        context={"title": _("Assess skills"), "cancel": reverse("reports:skill-matrix")},
        success=_("The skill profile was saved."),
        to=lambda a: reverse("reports:skill-person", args=[a.person_id]),
    )


@login_required
@require_POST
def skill_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request,
        SkillAssessment.objects.all(),
        pk,
        refuse=lambda assessment: assessment.person_id == request.user.pk,
        success=_("The assessment was deleted."),
        to=lambda assessment: reverse("reports:skill-person", args=[assessment.person_id]),
    )
