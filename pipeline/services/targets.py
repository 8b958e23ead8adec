"""Targets, and the KPIs measured against them.

A target is set for a person, a team or the company over a month, quarter or
year (SPEC section 2). Managers set targets below themselves: for the people
under them in the reporting tree and for the teams under the teams they lead
(``pipeline.set_target``). Their own target and their region's come from
above — the director, who also sets the company's.

The KPI definitions follow SPEC section 7 and are written once, in
``reports.kpis``; the functions here hand targets to them:

- **won revenue** of a scope in a period: the sum of won deals' amounts by
  close date (``closed_on``), in CNY (amounts in other currencies are not
  converted, so they are left out rather than added as if they were yuan);
  a person's scope is the deals they own, a team's everyone who was in the
  team's subtree on the close date, the company's every deal;
- **target attainment**: won revenue ÷ the revenue target of the same scope
  and period.

Several scopes cost one query with filtered aggregates (``SUM(...) FILTER
(WHERE ...)``), so a page of targets or a breakdown costs the same however
many rows it shows (plus one tiny query making sure the organisation's
history is current when a team is among them).

The revenue behind a target is reported for the target's whole scope: whoever
may see a target (``Target.objects.visible_to``) may see how far it is met.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, Team, User
from accounts.tree import path_pks
from pipeline.models import Activity, ActivityType, Target
from pipeline.services.activities import CALL_TYPES
from reports import kpis
from reports.kpis.results import Attainment
from reports.kpis.tree import ensure_fresh as ensure_tree_fresh

if TYPE_CHECKING:
    from accounts.models import TeamQuerySet, UserQuerySet

K = TypeVar("K")
Period = Target.Period
PERIOD_MONTHS = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}
ACTIVITY_TARGET_FIELDS = ("calls_per_day", "visits_per_week", "demos_per_week")


# --------------------------------------------------------------------- periods
def period_start_for(period: str, day: date) -> date:
    """The first day of the month, quarter or year that ``day`` falls in."""
    if period == Period.MONTH:
        return day.replace(day=1)
    if period == Period.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if period == Period.YEAR:
        return date(day.year, 1, 1)
    raise ValueError(f"unknown period {period!r}")


def period_bounds(period: str, start: date) -> tuple[date, date]:
    """``[start, end)`` of the period beginning on ``start``."""
    start = period_start_for(period, start)
    months = start.month - 1 + PERIOD_MONTHS[Period(period)]
    return start, date(start.year + months // 12, months % 12 + 1, 1)


def period_label(period: str, start: date) -> str:
    if period == Period.MONTH:
        return f"{start:%Y-%m}"
    if period == Period.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and the next Monday of ``day``'s ISO week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ------------------------------------------------------------------- defaults
@dataclass(frozen=True)
class ActivityDefault:
    value: int
    low: int | None = None
    high: int | None = None

    @property
    def range_label(self) -> str:
        if self.low is None:
            return ""
        return f"{self.low}–{self.high}" if self.high and self.high != self.low else str(self.low)


#: Activity targets offered when a person's target is created (SPEC section 4
#: and 3: reps 20–30 calls a day and 10–15 visits a week, AMs 5–8 visits a
#: week). The SPEC gives no demo rate; a rep's three a week is our default.
#: Override with ``SALESORG_ACTIVITY_TARGET_DEFAULTS`` in the settings.
ACTIVITY_TARGET_DEFAULTS: dict[str, dict[str, ActivityDefault]] = {
    Role.REP: {
        "calls_per_day": ActivityDefault(20, 20, 30),
        "visits_per_week": ActivityDefault(10, 10, 15),
        "demos_per_week": ActivityDefault(3),
    },
    Role.ACCOUNT_MANAGER: {"visits_per_week": ActivityDefault(5, 5, 8)},
}


def activity_target_defaults(role: str) -> dict[str, ActivityDefault]:
    table = getattr(settings, "SALESORG_ACTIVITY_TARGET_DEFAULTS", ACTIVITY_TARGET_DEFAULTS)
    return dict(table.get(role, {}))


# ------------------------------------------------------------- won revenue
@dataclass(frozen=True)
class RevenueScope:
    """Whose won deals count, over ``[start, end)``: a person, a team subtree or everyone.

    The numbers themselves are defined once, in ``reports.kpis``: a team's
    won revenue counts the people who were in the team on each close date.
    """

    start: date
    end: date
    user_id: int | None = None
    team_path: str | None = None

    @classmethod
    def of_target(cls, target: Target) -> RevenueScope:
        start, end = period_bounds(target.period, target.period_start)
        return cls(
            start=start,
            end=end,
            user_id=target.user_id,
            team_path=target.team.path if target.team_id else None,
        )

    def to_kpi(self) -> tuple[kpis.Scope, kpis.Period]:
        if self.user_id is not None:
            scope = kpis.Scope(kpis.ScopeKind.PERSON, self.user_id)
        elif self.team_path is not None:
            scope = kpis.Scope(kpis.ScopeKind.TEAM, path_pks(self.team_path)[-1])
        else:
            scope = kpis.Scope(kpis.ScopeKind.COMPANY)
        return scope, kpis.Period.between(self.start, self.end)


def won_revenue_many(scopes: Mapping[K, RevenueScope]) -> dict[K, Decimal]:
    """Won revenue of several scopes in one query (``reports.kpis.won_revenue_many``)."""
    if not scopes:
        return {}
    if any(s.team_path is not None and s.user_id is None for s in scopes.values()):
        ensure_tree_fresh()
    return kpis.won_revenue_many({key: scope.to_kpi() for key, scope in scopes.items()})


def won_revenue(
    *, start: date, end: date, user: User | None = None, team: Team | None = None
) -> Decimal:
    """SPEC 7 "won revenue": won deals' amounts closed in ``[start, end)`` for one scope."""
    scope = RevenueScope(
        start=start,
        end=end,
        user_id=user.pk if user else None,
        team_path=team.path if team else None,
    )
    return won_revenue_many({0: scope})[0]


def attainment_many(targets: Sequence[Target]) -> dict[int, Attainment]:
    """SPEC 7 "target attainment" of each target (one query for all of them)."""
    won = won_revenue_many({t.pk: RevenueScope.of_target(t) for t in targets})
    return {t.pk: Attainment(target=t.revenue, won=won[t.pk], target_id=t.pk) for t in targets}


def attainment(target: Target) -> Attainment:
    """Won revenue ÷ revenue target, same scope and period (SPEC section 7)."""
    return attainment_many([target])[target.pk]


# ----------------------------------------------------------- activity actuals
@dataclass(frozen=True)
class ActivityActuals:
    calls_today: int = 0
    visits_week: int = 0
    demos_week: int = 0


def activity_actuals(
    *, by: User, owner_ids: Iterable[int], day: date
) -> dict[int, ActivityActuals]:
    """Done calls on ``day`` and done visits and demos in its week, per person (one query).

    Counted through ``Activity.objects.visible_to(by)``: a person's numbers
    only for someone who may see their activities.
    """
    ids = sorted(set(owner_ids))
    if not ids:
        return {}
    monday, next_monday = week_bounds(day)
    today = Q(start_at__gte=local_midnight(day), start_at__lt=local_midnight(day + timedelta(1)))
    rows = (
        Activity.objects.visible_to(by)
        .filter(
            owner_id__in=ids,
            status=Activity.Status.DONE,
            start_at__gte=min(local_midnight(monday), local_midnight(day)),
            start_at__lt=local_midnight(next_monday),
        )
        .values("owner_id")
        .annotate(
            calls_today=Count("pk", filter=today & Q(type__in=CALL_TYPES)),
            visits_week=Count("pk", filter=Q(type=ActivityType.VISIT)),
            demos_week=Count("pk", filter=Q(type=ActivityType.DEMO)),
        )
        .order_by()
    )
    found = {
        r["owner_id"]: ActivityActuals(r["calls_today"], r["visits_week"], r["demos_week"])
        for r in rows
    }
    return {pk: found.get(pk, ActivityActuals()) for pk in ids}


def current_person_target(user: User, day: date) -> Target | None:
    """The person's target in force on ``day``: the month's, else the quarter's, else the year's."""
    candidates = {
        t.period: t
        for t in Target.objects.filter(
            user=user,
            period_start__in=[period_start_for(p, day) for p in PERIOD_MONTHS],
        )
        if t.period_start == period_start_for(t.period, day)
    }
    for period in (Period.MONTH, Period.QUARTER, Period.YEAR):
        if period in candidates:
            return candidates[period]
    return None


# ------------------------------------------------------------- who sets what
def led_teams(user: User) -> TeamQuerySet:
    return Team.objects.filter(manager=user)


def settable_users(by: User) -> UserQuerySet:
    """People ``by`` may set a target for: everyone for the director, else those below them."""
    if not by.has_perm("pipeline.set_target"):
        return User.objects.none()
    people = User.objects.active()
    if by.sees_everything:
        return people
    return people.filter(path__startswith=by.path).exclude(pk=by.pk)


def settable_teams(by: User) -> TeamQuerySet:
    """Teams ``by`` may set a target for: all for the director, else those under teams they lead."""
    if not by.has_perm("pipeline.set_target"):
        return Team.objects.none()
    if by.sees_everything:
        return Team.objects.all()
    condition = Q(pk__in=[])
    led = list(led_teams(by).values_list("pk", "path"))
    for _pk, path in led:
        condition |= Q(path__startswith=path)
    return Team.objects.filter(condition).exclude(pk__in=[pk for pk, _path in led])


def can_set_company_target(by: User) -> bool:
    return by.sees_everything and by.has_perm("pipeline.set_target")


def may_set(by: User, *, user: User | None, team: Team | None) -> bool:
    """Whether ``by`` may set (or change, or delete) a target of this scope."""
    if user is not None:
        return settable_users(by).filter(pk=user.pk).exists()
    if team is not None:
        return settable_teams(by).filter(pk=team.pk).exists()
    return can_set_company_target(by)


def _check_scope(by: User, *, user: User | None, team: Team | None) -> None:
    if not by.has_perm("pipeline.set_target"):
        raise PermissionDenied
    if user is not None and team is not None:
        raise ValidationError({"team": _("A target is for a person or a team, not both.")})
    if may_set(by, user=user, team=team):
        return
    if user is not None:
        raise ValidationError({"user": _("You set targets only for the people below you.")})
    if team is not None:
        raise ValidationError({"team": _("You set targets only for the teams below yours.")})
    raise ValidationError({"team": _("Only the sales director sets the company's target.")})


def _validate_numbers(fields: Mapping[str, Any]) -> None:
    revenue = fields.get("revenue")
    if revenue is not None and Decimal(revenue) < 0:
        raise ValidationError({"revenue": _("A target cannot be negative.")})


# ------------------------------------------------------------------ workflows
@transaction.atomic
def target_create(
    *,
    by: User,
    period: str,
    period_start: date,
    user: User | None = None,
    team: Team | None = None,
    revenue: Decimal = Decimal("0"),
    calls_per_day: int | None = None,
    visits_per_week: int | None = None,
    demos_per_week: int | None = None,
) -> Target:
    """Set a new target; the period starts on the first day of the period ``period_start`` is in."""
    _check_scope(by, user=user, team=team)
    if period not in Period.values:
        raise ValidationError({"period": _("Choose a month, a quarter or a year.")})
    _validate_numbers({"revenue": revenue})
    start = period_start_for(period, period_start)
    duplicate = Target.objects.filter(period=period, period_start=start, user=user, team=team)
    if duplicate.exists():
        raise ValidationError(
            {"period_start": _("There is already a target for this scope and period; edit it.")}
        )
    target = Target(
        user=user,
        team=team,
        period=period,
        period_start=start,
        revenue=revenue,
        calls_per_day=calls_per_day,
        visits_per_week=visits_per_week,
        demos_per_week=demos_per_week,
        set_by=by,
    )
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:  # a concurrent request created the same target
        raise ValidationError(
            {"period_start": _("There is already a target for this scope and period; edit it.")}
        ) from None
    return target


TARGET_EDITABLE = ("revenue", *ACTIVITY_TARGET_FIELDS)


@transaction.atomic
def target_update(*, by: User, target: Target, **changes: Any) -> Target:
    """Change a target's numbers (its scope and period stay: that would be another target)."""
    _check_scope(by, user=target.user, team=target.team)
    unknown = set(changes) - set(TARGET_EDITABLE)
    if unknown:
        raise ValidationError(
            {name: _("The scope and period of a target cannot change.") for name in unknown}
        )
    _validate_numbers(changes)
    for name, value in changes.items():
        setattr(target, name, value)
    target.set_by = by
    target.save()
    return target


@transaction.atomic
def target_delete(*, by: User, target: Target) -> None:
    _check_scope(by, user=target.user, team=target.team)
    target.delete()


# ------------------------------------------------------------------ breakdown
@dataclass
class BreakdownRow:
    """One node of the breakdown: its target, won revenue and (for people) activity actuals."""

    kind: str  # "company", "team" or "user"
    label: str
    team: Team | None = None
    user: User | None = None
    target: Target | None = None
    won: Decimal = Decimal("0")
    actuals: ActivityActuals | None = None
    can_set: bool = False

    @property
    def revenue_target(self) -> Decimal:
        return self.target.revenue if self.target else Decimal("0")

    @property
    def attainment(self) -> Attainment:
        return Attainment(target=self.revenue_target, won=self.won)


@dataclass
class Breakdown:
    parent: BreakdownRow
    children: list[BreakdownRow]
    period: str
    start: date
    end: date

    @property
    def children_total(self) -> Decimal:
        return sum((c.revenue_target for c in self.children), Decimal("0"))

    @property
    def children_won(self) -> Decimal:
        return sum((c.won for c in self.children), Decimal("0"))

    @property
    def unallocated(self) -> Decimal:
        return self.parent.revenue_target - self.children_total


def breakdown(
    *,
    by: User,
    team: Team | None,
    period: str,
    start: date,
    today: date,
    visible_teams: TeamQuerySet | None = None,
) -> Breakdown:
    """A node (the company, or a team) with its children: sub-teams and direct members.

    Only what ``by`` may see is listed (visible teams, people and targets).
    Costs a fixed number of queries: children, targets, won revenue, actuals.
    """
    start, end = period_bounds(period, start)
    if visible_teams is None:
        visible_teams = Team.objects.visible_to(by)
    visible_people = User.objects.visible_to(by).active()
    if team is None:
        parent = BreakdownRow(kind="company", label=str(_("Company")))
        child_teams = list(visible_teams.filter(parent__isnull=True).order_by("name"))
        if len(child_teams) == 1 and child_teams[0].kind == Team.Kind.COMPANY:
            # The company is itself the root team: show its regions under it.
            root = child_teams[0]
            child_teams = list(visible_teams.filter(parent=root).order_by("name"))
            members = list(visible_people.filter(team=root).order_by("path"))
        else:
            members = []
    else:
        parent = BreakdownRow(kind="team", label=team.name, team=team)
        child_teams = list(visible_teams.filter(parent=team).order_by("name"))
        members = list(visible_people.filter(team=team).order_by("path"))
    children = [BreakdownRow(kind="team", label=t.name, team=t) for t in child_teams]
    children += [BreakdownRow(kind="user", label=str(u), user=u) for u in members]

    scope_q = Q(pk__in=[])
    if team is None:
        scope_q |= Q(user__isnull=True, team__isnull=True)
    else:
        scope_q |= Q(team=team)
    scope_q |= Q(team__in=child_teams) | Q(user__in=members)
    targets = list(
        Target.objects.visible_to(by)
        .filter(scope_q, period=period, period_start=start)
        .select_related("user", "team")
    )
    by_team = {t.team_id: t for t in targets if t.team_id}
    by_user = {t.user_id: t for t in targets if t.user_id}
    company_target = next((t for t in targets if not t.team_id and not t.user_id), None)
    parent.target = company_target if team is None else by_team.get(team.pk)
    for row in children:
        row.target = by_team.get(row.team.pk) if row.team else by_user.get(row.user.pk)

    scopes: dict[int, RevenueScope] = {
        -1: RevenueScope(start=start, end=end, team_path=team.path if team else None)
    }
    for i, row in enumerate(children):
        scopes[i] = RevenueScope(
            start=start,
            end=end,
            user_id=row.user.pk if row.user else None,
            team_path=row.team.path if row.team else None,
        )
    won = won_revenue_many(scopes)
    parent.won = won[-1]
    for i, row in enumerate(children):
        row.won = won[i]

    actuals = activity_actuals(by=by, owner_ids=[u.pk for u in members], day=today)
    setter_users = set(
        settable_users(by).filter(pk__in=[u.pk for u in members]).values_list("pk", flat=True)
    )
    setter_teams = set(
        settable_teams(by)
        .filter(pk__in=[t.pk for t in child_teams] + ([team.pk] if team else []))
        .values_list("pk", flat=True)
    )
    parent.can_set = can_set_company_target(by) if team is None else team.pk in setter_teams
    scope = by.visibility_scope
    for row in children:
        if row.user:
            if scope.everything or row.user.pk in scope.user_ids:
                row.actuals = actuals.get(row.user.pk)
            row.can_set = row.user.pk in setter_users
        else:
            row.can_set = row.team.pk in setter_teams
    return Breakdown(parent=parent, children=children, period=period, start=start, end=end)
