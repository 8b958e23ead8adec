"""The rep's weekly sales report (SPEC section 4, "sales reports").

A report covers one ISO week, Monday 00:00 to the next Monday 00:00 in the
company's time zone (``TIME_ZONE``, Asia/Shanghai by default). Its figures
come from the pipeline, computed in SQL by ``week_figures``:

- the week's done activities, counted by type, and the visits made;
- the deals moved: stage changes of the rep's deals in the week (a deal's
  creation counts as "deals created", not as a move);
- results: the rep's deals won and lost with a close date in the week — the
  sums are in CNY, like SPEC 7's won revenue (other currencies are listed but
  not added as if they were yuan);
- new leads the rep got in the week, by source.

While the report is a draft the figures are live; submitting freezes them in
``WeeklyReport.figures`` so the manager reads what the rep sent, and makes
the report read-only. The rep writes the rest: customer feedback, market
information, competitor news and next week's forecast. The manager (and
anyone above) comments; submission and comments notify the other side.

One report per rep per week (a unique constraint). Who is expected to report
is ``reporter_roles()`` (reps, unless ``SALESORG_WEEKLY_REPORT_ROLES`` says
otherwise); ``reporters_missing`` lists who has not submitted, for reminders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.notifications import notify
from accounts.visibility import Relation, access_for
from pipeline.models import Activity, ActivityType, Deal, DealStageChange, Lead, LeadSource, Stage
from reports.kpis.periods import Period, PeriodKind
from reports.models import WeeklyReport, WeeklyReportComment

#: visits and stage moves listed on a report (the counts cover all of them)
LIST_LIMIT = 100
#: the parts of ``WeekFigures`` that list records rather than count them
LISTED_FIGURES = ("visits", "moves", "closed")
TEXT_FIELDS = (
    "customer_feedback",
    "market_info",
    "competitor_news",
    "next_week_forecast",
    "forecast_amount",
)


# -------------------------------------------------------------------------- weeks
def _week(day: date) -> Period:
    return Period.containing(PeriodKind.WEEK, day)


def monday_of(day: date) -> date:
    return _week(day).start


def current_week_start() -> date:
    return monday_of(timezone.localdate())


def parse_week(raw: str | None) -> date | None:
    """``2026-W48`` (or any date in the week, ``2026-11-26``) as the week's Monday."""
    raw = (raw or "").strip()
    try:
        if "-W" in raw.upper():
            year, week = raw.upper().split("-W", 1)
            return date.fromisocalendar(int(year), int(week), 1)
        return monday_of(date.fromisoformat(raw)) if raw else None
    except ValueError:
        return None


def week_label(monday: date) -> str:
    """``2026-W48``: the ISO week of ``monday`` (like ``WeeklyReport.iso_week``)."""
    return _week(monday).label


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """Local midnight of the Monday and of the next Monday, as aware datetimes."""
    week = _week(monday)
    return week.local_start, week.local_end


def reporter_roles() -> tuple[str, ...]:
    return tuple(getattr(settings, "SALESORG_WEEKLY_REPORT_ROLES", (Role.REP,)))


# ------------------------------------------------------------------------ figures
@dataclass
class WeekFigures:
    """What a week's report says about the pipeline; JSON-serialisable as stored."""

    activities: dict[str, int] = field(default_factory=dict)
    visits: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    moves_count: int = 0
    deals_created: int = 0
    won_count: int = 0
    won_amount: str = "0.00"
    lost_count: int = 0
    lost_amount: str = "0.00"
    closed: list[dict[str, Any]] = field(default_factory=list)
    leads_count: int = 0
    leads_by_source: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> WeekFigures:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    # --- for templates and exports
    @property
    def activity_rows(self) -> list[tuple[str, str, int]]:
        return [
            (value, label, self.activities.get(value, 0)) for value, label in ActivityType.choices
        ]

    @property
    def activities_total(self) -> int:
        return sum(self.activities.values())

    @property
    def calls(self) -> int:
        return self.activities.get(ActivityType.CALL, 0) + self.activities.get(
            ActivityType.FOLLOW_UP, 0
        )

    @property
    def visit_count(self) -> int:
        return self.activities.get(ActivityType.VISIT, 0)

    @property
    def won_total(self) -> Decimal:
        return Decimal(self.won_amount)

    @property
    def lost_total(self) -> Decimal:
        return Decimal(self.lost_amount)

    @property
    def lead_rows(self) -> list[tuple[str, int]]:
        labels = dict(LeadSource.choices)
        return [
            (str(labels.get(source, source)), n)
            for source, n in sorted(self.leads_by_source.items(), key=lambda kv: -kv[1])
        ]


def week_figures(*, owner: User, week_start: date, viewer: User) -> WeekFigures:
    """The week's figures of ``owner``'s pipeline, read through what ``viewer`` may see.

    Seven queries whatever the volume: activity counts by type, the visits,
    the stage moves (with their count), deals created, results (one
    aggregate) and the closed deals, new leads by source.
    """
    start, end = week_bounds(week_start)
    figures = WeekFigures()
    done = Activity.objects.visible_to(viewer).filter(
        owner=owner, status=Activity.Status.DONE, start_at__gte=start, start_at__lt=end
    )
    figures.activities = {
        row["type"]: row["n"]
        for row in done.order_by().values("type").annotate(n=Count("pk"))
        if row["n"]
    }
    figures.visits = [
        {
            "id": a.pk,
            "at": timezone.localtime(a.start_at).isoformat(timespec="minutes"),
            "client": a.client.name if a.client_id else "",
            "client_id": a.client_id,
            "lead": str(a.lead) if a.lead_id else "",
            "subject": a.subject,
            "outcome": a.outcome[:300],
        }
        for a in done.filter(type=ActivityType.VISIT)
        .select_related("client", "lead")
        .order_by("start_at", "pk")[:LIST_LIMIT]
    ]
    changes = DealStageChange.objects.visible_to(viewer).filter(
        deal__owner=owner, changed_at__gte=start, changed_at__lt=end
    )
    counted = changes.order_by().aggregate(
        moves=Count("pk", filter=Q(from_stage__isnull=False)),
        created=Count("pk", filter=Q(from_stage__isnull=True)),
    )
    figures.moves_count = counted["moves"]
    figures.deals_created = counted["created"]
    figures.moves = [
        {
            "deal_id": c.deal_id,
            "deal": c.deal.title,
            "client": c.deal.client.name,
            "from": c.from_stage_id,
            "to": c.to_stage_id,
            "at": timezone.localtime(c.changed_at).isoformat(timespec="minutes"),
            "amount": f"{c.amount:.2f}",
        }
        for c in changes.filter(from_stage__isnull=False)
        .select_related("deal__client")
        .order_by("changed_at", "pk")[:LIST_LIMIT]
    ]
    closed = Deal.objects.visible_to(viewer).filter(
        owner=owner,
        stage__kind__in=(Stage.Kind.WON, Stage.Kind.LOST),
        closed_on__gte=week_start,
        closed_on__lt=week_start + timedelta(days=7),
    )
    cny = Q(currency=settings.DEFAULT_CURRENCY)
    won, lost = Q(stage__kind=Stage.Kind.WON), Q(stage__kind=Stage.Kind.LOST)
    results = closed.order_by().aggregate(
        won_count=Count("pk", filter=won),
        won_amount=Sum("amount", filter=won & cny, default=Decimal("0")),
        lost_count=Count("pk", filter=lost),
        lost_amount=Sum("amount", filter=lost & cny, default=Decimal("0")),
    )
    figures.won_count = results["won_count"]
    figures.lost_count = results["lost_count"]
    figures.won_amount = f"{results['won_amount']:.2f}"
    figures.lost_amount = f"{results['lost_amount']:.2f}"
    figures.closed = [
        {
            "deal_id": d.pk,
            "deal": d.title,
            "client": d.client.name,
            "won": d.stage.kind == Stage.Kind.WON,
            "amount": f"{d.amount:.2f}",
            "currency": d.currency,
            "closed_on": d.closed_on.isoformat(),
            "reason": d.lost_reason,
        }
        for d in closed.select_related("client", "stage").order_by("closed_on", "pk")[:LIST_LIMIT]
    ]
    leads = (
        Lead.objects.visible_to(viewer)
        .filter(owner=owner, created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("source")
        .annotate(n=Count("pk"))
    )
    figures.leads_by_source = {row["source"]: row["n"] for row in leads}
    figures.leads_count = sum(figures.leads_by_source.values())
    return figures


def figures_for(report: WeeklyReport | None, *, owner: User, week_start: date, viewer: User):
    """The frozen figures of a submitted report, else the live ones."""
    if report is not None and report.status == WeeklyReport.Status.SUBMITTED:
        return WeekFigures.from_json(report.figures)
    return week_figures(owner=owner, week_start=week_start, viewer=viewer)


# ---------------------------------------------------------------------- workflows
def _check_week(week_start: date) -> date:
    monday = monday_of(week_start)
    if monday > current_week_start():
        raise ValidationError({"week_start": _("A week is reported once it has begun.")})
    return monday


@transaction.atomic
def report_save(
    *, by: User, week_start: date, expected_version: int | None = None, **fields: Any
) -> WeeklyReport:
    """Save ``by``'s own report for the week as a draft (created on first save)."""
    monday = _check_week(week_start)
    unknown = set(fields) - set(TEXT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    report = WeeklyReport.objects.select_for_update().filter(owner=by, week_start=monday).first()
    if report is None:
        if not by.has_perm("reports.add_weeklyreport"):
            raise PermissionDenied
        report = WeeklyReport(owner=by, week_start=monday, **fields)
        report.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:
            raise ValidationError(
                {"week_start": _("There is already a report for this week.")}
            ) from None
        return report
    return report_update(by=by, report=report, expected_version=expected_version, **fields)


@transaction.atomic
def report_update(
    *, by: User, report: WeeklyReport, expected_version: int | None, **fields: Any
) -> WeeklyReport:
    """Change a draft report; only its owner writes it, and not once it is submitted."""
    if report.owner_id != by.pk or not by.has_perm("reports.change_weeklyreport"):
        raise PermissionDenied
    if report.status == WeeklyReport.Status.SUBMITTED:
        raise ValidationError(_("The report was submitted; it can no longer change."))
    unknown = set(fields) - set(TEXT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        setattr(report, name, value)
    report.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
    report.save_versioned(expected_version=expected_version)
    return report


def _manager_of(user: User) -> list[User]:
    boss = user.reports_to
    return [boss] if boss is not None and boss.is_active else []


@transaction.atomic
def report_submit(*, by: User, report: WeeklyReport, expected_version: int | None) -> WeeklyReport:
    """Freeze the week's figures into the report, make it read-only, tell the manager."""
    if report.owner_id != by.pk or not by.has_perm("reports.change_weeklyreport"):
        raise PermissionDenied
    if report.status == WeeklyReport.Status.SUBMITTED:
        raise ValidationError(_("The report was already submitted."))
    report.figures = week_figures(owner=by, week_start=report.week_start, viewer=by).to_json()
    report.status = WeeklyReport.Status.SUBMITTED
    report.submitted_at = timezone.now()
    report.save_versioned(expected_version=expected_version)
    notify(
        recipients=_manager_of(by),
        kind="weekly_report_submitted",
        subject=_("Weekly report %(week)s from %(who)s") % {"week": report.iso_week, "who": by},
        message=_("%(who)s submitted the weekly sales report for %(week)s.")
        % {"who": by, "week": report.iso_week},
        url=report.get_absolute_url(),
        dedupe_key=f"weekly-report:{report.pk}:submitted",
    )
    return report


@transaction.atomic
def report_delete(*, by: User, report: WeeklyReport) -> None:
    """A rep may throw away their own draft; a submitted report stays."""
    if report.owner_id != by.pk or not by.has_perm("reports.delete_weeklyreport"):
        raise PermissionDenied
    if report.status == WeeklyReport.Status.SUBMITTED:
        raise ValidationError(_("A submitted report cannot be deleted."))
    report.delete()


def may_comment(by: User, report: WeeklyReport) -> bool:
    """The rep on their own report; above them, whoever holds ``comment_weeklyreport``."""
    if report.status != WeeklyReport.Status.SUBMITTED:
        return False
    if report.owner_id == by.pk:
        return True
    relation = access_for(by, report).relation
    return by.has_perm("reports.comment_weeklyreport") and relation in (
        Relation.COMPANY,
        Relation.LINE,
    )


@transaction.atomic
def report_comment(*, by: User, report: WeeklyReport, body: str) -> WeeklyReportComment:
    """Comment on a submitted report and tell the other side.

    The manager's comment goes to the rep; the rep's answer goes to their
    manager and to everyone else who commented.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the comment.")})
    if not may_comment(by, report):
        if report.status != WeeklyReport.Status.SUBMITTED:
            raise ValidationError(_("Comments come once the report is submitted."))
        raise PermissionDenied
    comment = WeeklyReportComment.objects.create(report=report, author=by, body=body)
    owner = report.owner
    if by.pk == owner.pk:
        others = User.objects.filter(pk__in=report.comments.exclude(author=owner).values("author"))
        recipients = [*_manager_of(owner), *others]
        subject = _("%(who)s answered on the weekly report %(week)s")
    else:
        recipients = [owner]
        subject = _("%(who)s commented on your weekly report %(week)s")
    notify(
        recipients=[u for u in recipients if u.pk != by.pk],
        kind="weekly_report_comment",
        subject=subject % {"who": by, "week": report.iso_week},
        message=body,
        url=report.get_absolute_url(),
        dedupe_key=f"weekly-report-comment:{comment.pk}",
    )
    return comment


# ------------------------------------------------------------------- team's week
def reporters(viewer: User) -> QuerySet[User]:
    """Active people expected to report whose weekly reports ``viewer`` may see.

    The people of ``WeeklyReport.objects.visible_to`` (``OwnedBy("owner")``):
    the viewer and everyone below them, a support person's region, everyone
    for the director — not the viewer's own bosses, whom ``User.visible_to``
    includes but whose reports the viewer does not read.
    """
    people = User.objects.active().filter(role__in=reporter_roles())
    if not viewer.is_authenticated or not viewer.is_active:
        return people.none()
    scope = viewer.visibility_scope
    if scope.everything:
        return people
    return people.filter(pk__in=sorted(scope.user_ids))


def with_week_report(people: QuerySet[User], week_start: date) -> QuerySet[User]:
    """Each person with their report of the week, if any (one LEFT JOIN, unique per week)."""
    return people.annotate(
        week_report=FilteredRelation(
            "weekly_reports", condition=Q(weekly_reports__week_start=week_start)
        )
    ).annotate(
        report_id=F("week_report__id"),
        report_status=F("week_report__status"),
        report_submitted_at=F("week_report__submitted_at"),
    )


def week_summary(people: QuerySet[User]) -> dict[str, int]:
    """How many submitted, drafted or missing, over ``with_week_report`` rows (one query)."""
    return people.order_by().aggregate(
        total=Count("pk"),
        submitted=Count("pk", filter=Q(report_status=WeeklyReport.Status.SUBMITTED)),
        draft=Count("pk", filter=Q(report_status=WeeklyReport.Status.DRAFT)),
        missing=Count("pk", filter=Q(report_id__isnull=True)),
    )


def live_counts(
    *, viewer: User, owner_ids: list[int], week_start: date
) -> dict[int, dict[str, Any]]:
    """Calls, visits and won revenue of the week per person, for a page of people
    (two grouped queries, through what ``viewer`` may see)."""
    if not owner_ids:
        return {}
    start, end = week_bounds(week_start)
    out: dict[int, dict[str, Any]] = {
        pk: {"calls": 0, "visits": 0, "won": Decimal("0")} for pk in owner_ids
    }
    rows = (
        Activity.objects.visible_to(viewer)
        .filter(
            owner_id__in=owner_ids,
            status=Activity.Status.DONE,
            start_at__gte=start,
            start_at__lt=end,
        )
        .order_by()
        .values("owner_id")
        .annotate(
            calls=Count("pk", filter=Q(type__in=(ActivityType.CALL, ActivityType.FOLLOW_UP))),
            visits=Count("pk", filter=Q(type=ActivityType.VISIT)),
        )
    )
    for row in rows:
        out[row["owner_id"]].update(calls=row["calls"], visits=row["visits"])
    won = (
        Deal.objects.visible_to(viewer)
        .filter(
            owner_id__in=owner_ids,
            stage__kind=Stage.Kind.WON,
            currency=settings.DEFAULT_CURRENCY,
            closed_on__gte=week_start,
            closed_on__lt=week_start + timedelta(days=7),
        )
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("amount"))
    )
    for row in won:
        out[row["owner_id"]]["won"] = row["total"] or Decimal("0")
    return out


def reporters_missing(week_start: date) -> QuerySet[User]:
    """Everyone expected to report who has not submitted the week's report (for reminders)."""
    submitted = WeeklyReport.objects.filter(
        week_start=monday_of(week_start), status=WeeklyReport.Status.SUBMITTED
    ).values("owner_id")
    return User.objects.active().filter(role__in=reporter_roles()).exclude(pk__in=submitted)
