"""Team building: performance reviews, training records and skill profiles (SPEC section 2).

These are personnel records: a person's are visible to them and everyone
above them, nobody else (``reports.access.LineOnly``). A manager writes them
for the people below them; the person reads their reviews once shared and
acknowledges them, with a comment if they wish.

The skill profile scores leadership, communication, negotiation and analysis
from 0 to 100; the course's ideal sales manager (**85 / 90 / 78 / 82**) is the
reference line on the matrix and the radar chart
(``SALESORG_IDEAL_SKILLS`` overrides it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.notifications import notify
from accounts.services import assignable_managers
from pipeline.services import targets as target_rules
from reports.models import PerformanceReview, PlanPeriod, SkillAssessment, TrainingRecord
from reports.planning import _apply, _full_clean, require_change, require_delete, require_perm

SKILLS: tuple[tuple[str, Any], ...] = (
    ("leadership", gettext_lazy("Leadership")),
    ("communication", gettext_lazy("Communication")),
    ("negotiation", gettext_lazy("Negotiation")),
    ("analysis", gettext_lazy("Analysis")),
)
IDEAL_SKILLS = {"leadership": 85, "communication": 90, "negotiation": 78, "analysis": 82}
#: a score this close below the ideal is "near" it (amber), further below is a gap (red)
NEAR_IDEAL = 10


def ideal_profile() -> dict[str, int]:
    return dict(getattr(settings, "SALESORG_IDEAL_SKILLS", IDEAL_SKILLS))


def reviewable_people(by: User) -> QuerySet[User]:
    """The people ``by`` writes personnel records for: the active people below them."""
    return assignable_managers(by).exclude(pk=by.pk)


def _check_reviewable(by: User, person: User | None) -> None:
    if person is None or not reviewable_people(by).filter(pk=person.pk).exists():
        raise ValidationError({"person": _("Choose someone below you in the organisation.")})


# ------------------------------------------------------------------------ reviews
REVIEW_FIELDS = (
    "rating_results",
    "rating_activity",
    "rating_customer",
    "rating_teamwork",
    "rating_overall",
    "strengths",
    "improvements",
    "feedback",
)
RATING_FIELDS = REVIEW_FIELDS[:5]


@transaction.atomic
def review_create(
    *,
    by: User,
    person: User,
    period: str,
    period_start: date,
    share: bool = False,
    **fields: Any,
) -> PerformanceReview:
    """A new review of someone below ``by``, written by ``by``; shared at once if ``share``."""
    require_perm(by, "reports.add_performancereview")
    _check_reviewable(by, person)
    if period not in PlanPeriod.values:
        raise ValidationError({"period": _("Choose a month, a quarter or a year.")})
    review = PerformanceReview(
        person=person,
        reviewer=by,
        period=period,
        period_start=target_rules.period_start_for(period, period_start),
    )
    _apply(review, fields, REVIEW_FIELDS)
    _full_clean(review)
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:
        raise ValidationError(
            {"period_start": _("This person already has a review for that period.")}
        ) from None
    if share:
        review_share(by=by, review=review, expected_version=review.version)
    return review


@transaction.atomic
def review_update(
    *,
    by: User,
    review: PerformanceReview,
    expected_version: int | None,
    share: bool = False,
    **changes: Any,
) -> PerformanceReview:
    """Change a review until the person has acknowledged it."""
    require_change(by, review)
    if review.person_id == by.pk:
        raise PermissionDenied
    if review.status == PerformanceReview.Status.ACKNOWLEDGED:
        raise ValidationError(_("The review was acknowledged; it can no longer change."))
    _apply(review, changes, REVIEW_FIELDS)
    _full_clean(review)
    review.save_versioned(expected_version=expected_version)
    if share and review.status == PerformanceReview.Status.DRAFT:
        review_share(by=by, review=review, expected_version=review.version)
    return review


@transaction.atomic
def review_share(
    *, by: User, review: PerformanceReview, expected_version: int | None
) -> PerformanceReview:
    """Show the review to the person reviewed and tell them."""
    require_change(by, review)
    if review.status != PerformanceReview.Status.DRAFT:
        return review
    review.status = PerformanceReview.Status.SHARED
    review.save_versioned(expected_version=expected_version)
    notify(
        recipients=[review.person],
        kind="performance_review",
        subject=_("Your performance review for %(period)s")
        % {"period": target_rules.period_label(review.period, review.period_start)},
        message=_("%(who)s shared your performance review. Read it and acknowledge it.")
        % {"who": by},
        url=review.get_absolute_url(),
        dedupe_key=f"review:{review.pk}:shared",
    )
    return review


@transaction.atomic
def review_acknowledge(
    *, by: User, review: PerformanceReview, expected_version: int | None, comment: str = ""
) -> PerformanceReview:
    """The person reviewed confirms they read the review (and may add a comment)."""
    if review.person_id != by.pk:
        raise PermissionDenied
    if review.status != PerformanceReview.Status.SHARED:
        raise ValidationError(_("Only a review shared with you can be acknowledged."))
    review.status = PerformanceReview.Status.ACKNOWLEDGED
    review.acknowledged_at = timezone.now()
    review.person_comment = comment.strip()
    review.save_versioned(expected_version=expected_version)
    notify(
        recipients=[review.reviewer],
        kind="performance_review",
        subject=_("%(who)s acknowledged their performance review") % {"who": by},
        message=review.person_comment,
        url=review.get_absolute_url(),
        dedupe_key=f"review:{review.pk}:acknowledged",
    )
    return review


@transaction.atomic
def review_delete(*, by: User, review: PerformanceReview) -> None:
    require_delete(by, review)
    if review.person_id == by.pk:
        raise PermissionDenied
    review.delete()


# ----------------------------------------------------------------------- training
TRAINING_FIELDS = ("person", "course", "provider", "taken_on", "hours", "result", "score", "notes")


@transaction.atomic
def training_save(
    *, by: User, record: TrainingRecord | None = None, **fields: Any
) -> TrainingRecord:
    """Record a course someone below ``by`` took, or correct the record."""
    if record is None:
        require_perm(by, "reports.add_trainingrecord")
        record = TrainingRecord(recorded_by=by)
    else:
        require_change(by, record)
    _apply(record, fields, TRAINING_FIELDS)
    if record.pk is None or "person" in fields:
        _check_reviewable(by, record.person if record.person_id else None)
    _full_clean(record, exclude=["recorded_by"])
    record.save()
    return record


# ------------------------------------------------------------------------- skills
SKILL_FIELDS = ("leadership", "communication", "negotiation", "analysis", "notes")


@transaction.atomic
def skill_assess(*, by: User, person: User, assessed_on: date, **scores: Any) -> SkillAssessment:
    """Record someone's skill profile on a day (a second one that day corrects the first)."""
    require_perm(by, "reports.add_skillassessment")
    _check_reviewable(by, person)
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": _("An assessment cannot be in the future.")})
    assessment = SkillAssessment.objects.filter(person=person, assessed_on=assessed_on).first()
    if assessment is None:
        assessment = SkillAssessment(person=person, assessed_on=assessed_on)
    _apply(assessment, scores, SKILL_FIELDS)
    assessment.assessed_by = by
    _full_clean(assessment, exclude=["assessed_by"])
    assessment.save()
    return assessment


def latest_assessments(qs: QuerySet[SkillAssessment]) -> QuerySet[SkillAssessment]:
    """Each person's newest assessment (an anti-join: no newer one exists), one query."""
    newer = SkillAssessment.objects.filter(person=OuterRef("person")).filter(
        Q(assessed_on__gt=OuterRef("assessed_on"))
        | Q(assessed_on=OuterRef("assessed_on"), pk__gt=OuterRef("pk"))
    )
    return qs.filter(~Exists(newer))


def _newest_first(base: QuerySet[SkillAssessment] | None, person: str) -> QuerySet[SkillAssessment]:
    """The outer person row's assessments (among ``base``), the newest first."""
    base = SkillAssessment.objects.all() if base is None else base
    return base.filter(person=OuterRef(person)).order_by("-assessed_on", "-pk")


def latest_skill_profile(
    base: QuerySet[SkillAssessment] | None = None, person: str = "pk"
) -> Subquery:
    """The newest assessment of each person row as one JSON object (``assessed_on``
    as text and each skill's score), or null.

    One correlated subquery where ``latest_skill_columns`` has five: a page that
    only shows the profile (the manager's dashboard) builds and runs one.
    """
    latest = _newest_first(base, person)
    return Subquery(
        latest.values(
            json=JSONObject(
                assessed_on=Cast("assessed_on", output_field=CharField()),
                **{key: key for key, _label in SKILLS},
            )
        )[:1]
    )


def latest_skill_columns(
    base: QuerySet[SkillAssessment] | None = None, person: str = "pk"
) -> dict[str, Subquery]:
    """Annotations giving each person row (``person``: its id field) the newest
    assessment's date (``skill_assessed_on``) and scores (``skill_<key>``).

    Correlated subqueries, so a page listing people reads their profiles in the
    same query (the skill matrix); ``base`` narrows the
    assessments (e.g. to what the viewer may see).
    """
    latest = _newest_first(base, person)
    return {
        "skill_assessed_on": Subquery(latest.values("assessed_on")[:1]),
        **{f"skill_{key}": Subquery(latest.values(key)[:1]) for key, _label in SKILLS},
    }


def skill_level(value: int | None, ideal: int) -> str:
    """ "meets" the ideal, "near" it (within ``NEAR_IDEAL``), or a "gap"."""
    if value is None:
        return "none"
    if value >= ideal:
        return "meets"
    if value >= ideal - NEAR_IDEAL:
        return "near"
    return "gap"


@dataclass
class SkillCell:
    key: str
    value: int | None
    ideal: int

    @property
    def level(self) -> str:
        return skill_level(self.value, self.ideal)

    @property
    def gap(self) -> int | None:
        return None if self.value is None else self.value - self.ideal


def skill_cells(source: Any, prefix: str = "") -> list[SkillCell]:
    """The cells of an assessment (``source`` may be None), or of a person row
    annotated by ``latest_skill_columns`` (``prefix="skill_"``)."""
    ideal = ideal_profile()
    return [
        SkillCell(key, getattr(source, f"{prefix}{key}") if source else None, ideal[key])
        for key, _label in SKILLS
    ]
