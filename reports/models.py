"""Operations records (job runs), KPI rollups, and the managers' planning records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a scheduled job: when, what it did, and what went wrong.

    ``slot`` names the schedule slot a run belongs to (e.g. "2026-11-27" for a
    daily job, "2026-11-27T09:15" for a 15-minute one). It is unique per job,
    so when two beat processes send the same slot, or the broker redelivers
    it, only the first run claims it and the others do nothing.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    job = models.CharField(_("job"), max_length=80)
    slot = models.CharField(_("slot"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    summary = models.JSONField(_("what it did"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="jobrun_once_per_slot")]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="jobrun_job_idx"),
            # the operations page lists every run newest first
            models.Index(fields=["-started_at"], name="jobrun_started_idx"),
        ]
        permissions = [("view_operations", _("Can see the operations page (job runs)"))]

    def __str__(self) -> str:
        return f"{self.job} {self.slot}"

    @property
    def duration_seconds(self) -> float | None:
        """How long the run took (``None`` while it runs)."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 2)

    @property
    def error_line(self) -> str:
        """The last line of the traceback: the exception and its message."""
        lines = self.error.strip().splitlines()
        return lines[-1] if lines else ""


# --------------------------------------------------------------------------- KPI rollups
#: The first and last day a placement can cover: the first known place of a
#: person also stands for the days before the organisation was recorded, the
#: current one for every day from its start on.
BEGINNING = date(1, 1, 1)
FOREVER = date(9999, 12, 31)


class Placement(models.Model):
    """Where a person stood in the organisation over a range of days.

    Rebuilt from the people's and teams' history (``reports.kpis.tree``), so
    team and company figures can be summed over the tree as it was on each
    day: a rep who moved teams counts for the team they were in then. A day
    belongs to the place a person held at the end of it. ``path`` is the
    reporting path and ``team_path`` the team's path on those days (both
    materialised like ``accounts.tree``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="placements"
    )
    valid_from = models.DateField(_("valid from"), default=BEGINNING)
    valid_until = models.DateField(_("valid until"), default=FOREVER)  # exclusive
    path = models.CharField(max_length=255, blank=True, default="")
    reports_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    team_path = models.CharField(max_length=255, blank=True, default="")
    role = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["user", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["user", "valid_from"], name="placement_once_per_start"),
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="placement_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.valid_from}–{self.valid_until}: {self.team_path}"


class TreeHistoryState(models.Model):
    """Which people/team history the placements were last rebuilt from (one row)."""

    marker = models.CharField(max_length=80, blank=True, default="")
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("organisation history state")
        verbose_name_plural = _("organisation history states")

    def __str__(self) -> str:
        return self.marker


class PlacedRow(models.Model):
    """A rollup row: one person on one day, with their place in the tree that day."""

    day = models.DateField(_("day"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=255, blank=True, default="")
    reports_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    team_path = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        abstract = True


class DailyFact(PlacedRow):
    """What one person did on one (Asia/Shanghai) day, summed for the dashboards.

    Every column is defined in ``reports.kpis.facts`` and rebuilt from the
    source tables by ``reports.rollups``; re-running a day replaces its rows.
    """

    act_call = models.PositiveIntegerField(default=0)
    act_visit = models.PositiveIntegerField(default=0)
    act_demo = models.PositiveIntegerField(default=0)
    act_meeting = models.PositiveIntegerField(default=0)
    act_email = models.PositiveIntegerField(default=0)
    act_follow_up = models.PositiveIntegerField(default=0)
    act_other = models.PositiveIntegerField(default=0)
    leads_created = models.PositiveIntegerField(default=0)
    leads_converted = models.PositiveIntegerField(default=0)
    deals_created = models.PositiveIntegerField(default=0)
    deals_won = models.PositiveIntegerField(default=0)
    deals_lost = models.PositiveIntegerField(default=0)
    won_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    won_other_currency = models.PositiveIntegerField(default=0)
    complaints_received = models.PositiveIntegerField(default=0)
    complaints_in_sla = models.PositiveIntegerField(default=0)
    contracts_signed = models.PositiveIntegerField(default=0)
    contracts_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    contracts_other_currency = models.PositiveIntegerField(default=0)
    negotiations = models.PositiveIntegerField(default=0)
    negotiation_days = models.IntegerField(default=0)
    contracts_ended = models.PositiveIntegerField(default=0)
    contracts_renewed = models.PositiveIntegerField(default=0)
    survey_responses = models.PositiveIntegerField(default=0)
    nps_responses = models.PositiveIntegerField(default=0)
    nps_promoters = models.PositiveIntegerField(default=0)
    nps_detractors = models.PositiveIntegerField(default=0)
    csat_responses = models.PositiveIntegerField(default=0)
    csat_sum = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("daily fact")
        verbose_name_plural = _("daily facts")
        ordering = ["day", "user"]
        constraints = [
            models.UniqueConstraint(fields=["day", "user"], name="dailyfact_once_per_person_day")
        ]
        indexes = [models.Index(fields=["user", "day"], name="dailyfact_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id}"


class PipelineSnapshot(PlacedRow):
    """One person's open deals in one stage at the end of a day (count, CNY amount, weighted)."""

    stage = models.ForeignKey("pipeline.Stage", on_delete=models.CASCADE, related_name="+")
    deals = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    weighted_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    other_currency = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("pipeline snapshot")
        verbose_name_plural = _("pipeline snapshots")
        ordering = ["day", "user", "stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "user", "stage"], name="snapshot_once_per_person_stage_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.stage_id}"


class RollupDay(models.Model):
    """A day whose rollup rows are complete (facts and pipeline snapshot), and when built."""

    day = models.DateField(_("day"), primary_key=True)
    built_at = models.DateTimeField(_("built"))

    class Meta:
        verbose_name = _("rolled-up day")
        verbose_name_plural = _("rolled-up days")
        ordering = ["day"]

    def __str__(self) -> str:
        return str(self.day)


# ------------------------------------------------- planning and team tools (reports-planning)
# The manager's sales plans, market research, risk register, improvement actions,
# performance reviews, training records and skill profiles, and the rep's weekly
# sales report (SPEC sections 2 and 4). Business rules live in reports/planning.py,
# reports/teambuilding.py and reports/weekly.py; visibility rules in reports/access.py.
from django.conf import settings  # noqa: E402
from django.core.validators import MaxValueValidator, MinValueValidator  # noqa: E402
from django.db.models import F, Q  # noqa: E402
from django.utils.translation import pgettext_lazy  # noqa: E402

from accounts.visibility import FollowsParent, OwnedBy, VisibleQuerySet  # noqa: E402
from pipeline.models import Target  # noqa: E402
from reports.access import LineOnly, OwnedOrShared  # noqa: E402
from salesorg.lib.concurrency import VersionedModel  # noqa: E402

_MONEY = {"max_digits": 14, "decimal_places": 2}
_ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]
_PERCENT_SCORE = [MinValueValidator(0), MaxValueValidator(100)]


#: plans and reviews run over the same periods as targets
PlanPeriod = Target.Period


class SalesPlan(VersionedModel):
    """A sales plan and budget for a team subtree (or the company) over one period.

    Its targets are ``pipeline.Target`` rows (written through the target rules
    when the manager saves the proposal); the plan keeps the growth it was
    built on, the baseline it grew from, the execution plan (milestones), the
    resource allocation and the budget.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="sales_plans",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_plans",
        help_text=_("Empty: the whole company."),
    )
    period = models.CharField(_("period"), max_length=7, choices=PlanPeriod.choices)
    period_start = models.DateField(_("period start"))
    growth_percent = models.DecimalField(
        _("growth vs last period (%)"), max_digits=6, decimal_places=2, default=15
    )
    baseline_revenue = models.DecimalField(
        _("last period's won revenue"), **_MONEY, default=0, editable=False
    )
    target_revenue = models.DecimalField(
        _("revenue target"), **_MONEY, default=0, validators=[MinValueValidator(0)]
    )
    budget = models.DecimalField(
        _("budget"), **_MONEY, default=0, validators=[MinValueValidator(0)]
    )
    budget_notes = models.TextField(_("budget breakdown"), blank=True)
    resource_notes = models.TextField(_("resource allocation"), blank=True)
    market_notes = models.TextField(_("market analysis"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    shared = models.BooleanField(
        _("shared with the team"),
        default=False,
        help_text=_("Everyone in the team (or the company) can read the plan."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedOrShared("owner")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["-period_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "period", "period_start"],
                condition=Q(team__isnull=False),
                name="salesplan_once_per_team_period",
                violation_error_message=_("This team already has a plan for that period."),
            ),
            models.UniqueConstraint(
                fields=["period", "period_start"],
                condition=Q(team__isnull=True),
                name="salesplan_once_per_company_period",
                violation_error_message=_("The company already has a plan for that period."),
            ),
        ]
        indexes = [models.Index(fields=["owner", "-period_start"], name="salesplan_owner_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:plan-detail", args=[self.pk])


class PlanMilestone(models.Model):
    """A step of a plan's execution: what, who, by when, and how it stands."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")

    plan = models.ForeignKey(SalesPlan, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_milestones",
    )
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    notes = models.TextField(_("notes"), blank=True)

    visibility = FollowsParent("plan")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan milestone")
        verbose_name_plural = _("plan milestones")
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title


class Competitor(VersionedModel):
    """What we know about a competitor: strengths, weaknesses, pricing."""

    name = models.CharField(_("name"), max_length=200)
    website = models.URLField(_("website"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    pricing = models.TextField(_("pricing"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="competitor_notes",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who it is shared with; empty: the whole company."),
    )
    shared = models.BooleanField(_("shared with the team"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedOrShared("author")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:competitor-detail", args=[self.pk])


class MarketAnalysis(VersionedModel):
    """A structured market analysis: SWOT, PEST, Porter's five forces, a persona or segments.

    ``content`` holds the structured entries of its kind (see
    ``reports.planning.ANALYSIS_SCHEMA``): lists of points per quadrant or
    factor, ratings 1–5 per force.
    """

    class Kind(models.TextChoices):
        SWOT = "swot", _("SWOT")
        PEST = "pest", _("PEST")
        FIVE_FORCES = "five_forces", _("Porter's five forces")
        PERSONA = "persona", _("Customer persona")
        SEGMENTATION = "segmentation", _("Market segmentation")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    subject = models.CharField(
        _("market or subject"), max_length=200, blank=True, help_text=_("e.g. an industry")
    )
    content = models.JSONField(_("content"), default=dict, blank=True)
    summary = models.TextField(_("conclusions"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="market_analyses",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who it is shared with; empty: the whole company."),
    )
    shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedOrShared("author")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("market analysis")
        verbose_name_plural = _("market analyses")
        ordering = ["-updated_at", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:analysis-detail", args=[self.pk])


class Risk(VersionedModel):
    """An entry of the risk register: identify, assess (likelihood × impact), respond, monitor."""

    class Category(models.TextChoices):
        MARKET = "market", _("Market")
        COMPETITION = "competition", _("Competition")
        CUSTOMER = "customer", _("Customer")
        CREDIT = "credit", _("Credit and payment")
        DELIVERY = "delivery", _("Delivery")
        PEOPLE = "people", _("People")
        COMPLIANCE = "compliance", _("Legal and compliance")
        OTHER = "other", pgettext_lazy("risk category", "Other")

    class Response(models.TextChoices):
        AVOID = "avoid", _("Avoid")
        REDUCE = "reduce", _("Reduce")
        TRANSFER = "transfer", _("Transfer")
        ACCEPT = "accept", _("Accept")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MONITORING = "monitoring", _("Monitoring")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("risk"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    likelihood = models.PositiveSmallIntegerField(_("likelihood (1–5)"), validators=_ONE_TO_FIVE)
    impact = models.PositiveSmallIntegerField(_("impact (1–5)"), validators=_ONE_TO_FIVE)
    score = models.GeneratedField(
        expression=F("likelihood") * F("impact"),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
        verbose_name=_("score"),
    )
    response = models.CharField(_("response"), max_length=10, choices=Response.choices)
    response_plan = models.TextField(_("response plan"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="risks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_date = models.DateField(_("next review"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", "created_by", grants=False)
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        ordering = ["-score", "review_date", "pk"]
        indexes = [
            models.Index(fields=["owner", "status"], name="risk_owner_status_idx"),
            models.Index(fields=["created_by", "status"], name="risk_creator_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(likelihood__gte=1, likelihood__lte=5, impact__gte=1, impact__lte=5),
                name="risk_ratings_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:risk-detail", args=[self.pk])


class ImprovementAction(VersionedModel):
    """A continuous-improvement action, evaluated every month against its target metric."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DROPPED = "dropped", _("Dropped")

    title = models.CharField(_("action"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_metric = models.CharField(
        _("target metric"), max_length=200, help_text=_("e.g. visit conversion ≥ 30%")
    )
    starts_on = models.DateField(_("first month"))
    ends_on = models.DateField(_("last month"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", "created_by", grants=False)
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["-starts_on", "pk"]
        indexes = [models.Index(fields=["owner", "status"], name="improvement_owner_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:improvement-detail", args=[self.pk])


class ImprovementEvaluation(models.Model):
    """One month's evaluation of an improvement action (one per month)."""

    class Rating(models.IntegerChoices):
        OFF_TRACK = 1, _("Off track")
        BEHIND = 2, _("Behind")
        ON_TRACK = 3, _("On track")
        AHEAD = 4, _("Ahead")
        ACHIEVED = 5, _("Achieved")

    action = models.ForeignKey(
        ImprovementAction, on_delete=models.CASCADE, related_name="evaluations"
    )
    month = models.DateField(_("month"))
    result = models.CharField(_("result"), max_length=200)
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices)
    notes = models.TextField(_("notes"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    visibility = FollowsParent("action")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly evaluation")
        verbose_name_plural = _("monthly evaluations")
        ordering = ["-month", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "month"],
                name="improvement_evaluation_once_a_month",
                violation_error_message=_("This month is already evaluated."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.action_id} {self.month:%Y-%m}"


class PerformanceReviewQuerySet(VisibleQuerySet["PerformanceReview"]):
    def visible_to(self, user):  # type: ignore[no-untyped-def]
        """The person's line sees the review; the person only once it is shared with them."""
        qs = super().visible_to(user)
        return qs.exclude(person=user, status=PerformanceReview.Status.DRAFT)


class PerformanceReview(VersionedModel):
    """A periodic performance review with feedback, acknowledged by the person reviewed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SHARED = "shared", _("Shared with the person")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    class Rating(models.IntegerChoices):
        POOR = 1, _("1 – Unsatisfactory")
        FAIR = 2, _("2 – Needs improvement")
        GOOD = 3, _("3 – Meets expectations")
        STRONG = 4, _("4 – Exceeds expectations")
        EXCELLENT = 5, _("5 – Outstanding")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="performance_reviews",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="reviews_given",
    )
    period = models.CharField(_("period"), max_length=7, choices=PlanPeriod.choices)
    period_start = models.DateField(_("period start"))
    rating_results = models.PositiveSmallIntegerField(
        _("results vs targets"), choices=Rating.choices
    )
    rating_activity = models.PositiveSmallIntegerField(
        _("activity and discipline"), choices=Rating.choices
    )
    rating_customer = models.PositiveSmallIntegerField(
        _("customer relationships"), choices=Rating.choices
    )
    rating_teamwork = models.PositiveSmallIntegerField(_("teamwork"), choices=Rating.choices)
    rating_overall = models.PositiveSmallIntegerField(_("overall"), choices=Rating.choices)
    strengths = models.TextField(_("strengths"), blank=True)
    improvements = models.TextField(_("areas to improve"), blank=True)
    feedback = models.TextField(_("feedback"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    person_comment = models.TextField(_("comment of the person reviewed"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = LineOnly("person")
    objects = PerformanceReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("performance review")
        verbose_name_plural = _("performance reviews")
        ordering = ["-period_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "period_start"],
                name="review_once_per_person_period",
                violation_error_message=_("This person already has a review for that period."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.period_start:%Y-%m}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:review-detail", args=[self.pk])


class TrainingRecord(models.Model):
    """A course someone took: when, how long, and how it went."""

    class Result(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ATTENDED = "attended", _("Attended")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="training_records",
    )
    course = models.CharField(_("course"), max_length=200)
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    taken_on = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"), max_digits=5, decimal_places=1, validators=[MinValueValidator(0)]
    )
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    score = models.PositiveSmallIntegerField(
        _("score (0–100)"), null=True, blank=True, validators=_PERCENT_SCORE
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    visibility = LineOnly("person")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-taken_on", "pk"]
        indexes = [models.Index(fields=["person", "-taken_on"], name="training_person_idx")]

    def __str__(self) -> str:
        return f"{self.person} · {self.course}"


class SkillAssessment(models.Model):
    """A person's skill profile on one date; the newest one is their current profile."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="skill_assessments",
    )
    assessed_on = models.DateField(_("assessed on"))
    leadership = models.PositiveSmallIntegerField(_("leadership"), validators=_PERCENT_SCORE)
    communication = models.PositiveSmallIntegerField(_("communication"), validators=_PERCENT_SCORE)
    negotiation = models.PositiveSmallIntegerField(_("negotiation"), validators=_PERCENT_SCORE)
    analysis = models.PositiveSmallIntegerField(_("analysis"), validators=_PERCENT_SCORE)
    notes = models.TextField(_("notes"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    visibility = LineOnly("person")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("skill assessment")
        verbose_name_plural = _("skill assessments")
        ordering = ["-assessed_on", "-pk"]
        indexes = [models.Index(fields=["person", "-assessed_on"], name="skill_person_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "assessed_on"],
                name="skill_once_per_person_day",
                violation_error_message=_("This person was already assessed on that day."),
            ),
            models.CheckConstraint(
                condition=Q(leadership__lte=100)
                & Q(communication__lte=100)
                & Q(negotiation__lte=100)
                & Q(analysis__lte=100),
                name="skill_scores_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.assessed_on}"


class WeeklyReport(VersionedModel):
    """A rep's weekly sales report for one ISO week (one per rep per week).

    The week's activities, deals moved, results and new leads are computed
    from the pipeline (``reports.weekly.week_figures``) while it is a draft and
    frozen into ``figures`` when it is submitted, so the report the manager
    reads stays what the rep sent. After submission it is read-only; the
    manager and the rep talk in its comments.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.PROTECT,
        related_name="weekly_reports",
    )
    week_start = models.DateField(_("week"), help_text=_("The Monday of the ISO week."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    customer_feedback = models.TextField(_("customer feedback"), blank=True)
    market_info = models.TextField(_("market information"), blank=True)
    competitor_news = models.TextField(_("competitor news"), blank=True)
    next_week_forecast = models.TextField(_("next week's forecast"), blank=True)
    forecast_amount = models.DecimalField(
        _("revenue expected next week (CNY)"),
        **_MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    figures = models.JSONField(_("the week's figures"), default=dict, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", grants=False)
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("weekly sales report")
        verbose_name_plural = _("weekly sales reports")
        ordering = ["-week_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "week_start"],
                name="weekly_report_once_per_week",
                violation_error_message=_("There is already a report for this week."),
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(submitted_at__isnull=False),
                name="weekly_report_submitted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["week_start", "status"], name="weekly_report_week_idx")]
        permissions = [
            ("comment_weeklyreport", _("Can comment on the weekly reports of their team"))
        ]

    def __str__(self) -> str:
        year, week, _day = self.week_start.isocalendar()
        return f"{self.owner} · {year}-W{week:02d}"

    @property
    def iso_week(self) -> str:
        year, week, _day = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("reports:weekly-report-detail", args=[self.pk])


class WeeklyReportComment(models.Model):
    """A comment on a weekly report: the manager's feedback, the rep's answer."""

    report = models.ForeignKey(WeeklyReport, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    visibility = FollowsParent("report")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("weekly report comment")
        verbose_name_plural = _("weekly report comments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.body[:40]}"


# ------------------------------------------------- end of planning and team tools
