"""The sales manager's planning tools: sales plans, market research, the risk
register and improvement actions (SPEC section 2).

Writes are keyword-only atomic functions used by the pages and the API alike.
Who may *see* a record is its model's visibility rule; who may *change* it is
``accounts.visibility.access_for`` (role permission and relation to the
record), checked again here so that no caller can skip it. People named on a
record (owners of risks, actions, milestones) must be the writer or someone
below them — nobody assigns work outside their own line.

A plan's targets are ``pipeline.Target`` rows written through
``pipeline.services.targets`` — the same rules as the target pages: a manager
sets targets for the people below them and the teams under the teams they
lead, never their own or their region's (those come from above).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, Team, User
from accounts.services import assignable_managers
from accounts.visibility import access_for
from pipeline.models import Target
from pipeline.services import targets as target_rules
from reports.models import (
    Competitor,
    ImprovementAction,
    ImprovementEvaluation,
    MarketAnalysis,
    PlanMilestone,
    Risk,
    SalesPlan,
)

CENT = Decimal("0.01")


# ----------------------------------------------------------------------- common
def require_perm(by: User, perm: str) -> None:
    if not by.has_perm(perm):
        raise PermissionDenied


def require_change(by: User, obj: Any) -> None:
    """The caller may change this record (role permission and relation to it)."""
    if not access_for(by, obj).can_change:
        raise PermissionDenied


def require_delete(by: User, obj: Any) -> None:
    if not access_for(by, obj).can_delete:
        raise PermissionDenied


@transaction.atomic
def delete_record(*, by: User, obj: Any) -> None:
    """Delete a record the caller may delete (a plan keeps the targets it wrote)."""
    require_delete(by, obj)
    obj.delete()


#: Whom ``by`` may name as the owner of a risk, an action or a milestone:
#: themselves and the active people below them (the director: anyone).
assignable_people = assignable_managers


def _check_person(by: User, person: User | None, field: str = "owner") -> None:
    if person is None:
        return
    if not assignable_managers(by).filter(pk=person.pk).exists():
        raise ValidationError({field: _("Choose yourself or someone in your team.")})


def month_start(day: date) -> date:
    return day.replace(day=1)


def _apply(obj: Any, fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        setattr(obj, name, value)


def _full_clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)


# ----------------------------------------------------------------------- periods
def previous_period_start(period: str, start: date) -> date:
    """The first day of the period before the one starting on ``start``."""
    start = target_rules.period_start_for(period, start)
    months = target_rules.PERIOD_MONTHS[Target.Period(period)]
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def propose(baseline: Decimal, growth_percent: Decimal) -> Decimal:
    """Last period's won revenue grown by ``growth_percent`` (to the fen, half up)."""
    return (baseline * (1 + Decimal(growth_percent) / 100)).quantize(CENT, ROUND_HALF_UP)


# ------------------------------------------------------------------------- plans
PLAN_FIELDS = (
    "title",
    "growth_percent",
    "target_revenue",
    "budget",
    "budget_notes",
    "resource_notes",
    "market_notes",
    "status",
    "shared",
)


def plannable_teams(by: User) -> QuerySet[Team]:
    """Teams ``by`` may plan for: the teams they lead and everything under them
    (the director: every team)."""
    if not by.has_perm("reports.add_salesplan"):
        return Team.objects.none()
    teams = Team.objects.exclude(kind=Team.Kind.COMPANY)  # the company's plan has no team
    if by.sees_everything:
        return teams
    condition = Q(pk__in=[])
    for path in target_rules.led_teams(by).values_list("path", flat=True):
        condition |= Q(path__startswith=path)
    return teams.filter(condition)


def can_plan_company(by: User) -> bool:
    return by.sees_everything and by.has_perm("reports.add_salesplan")


def plan_baseline(*, team: Team | None, period: str, period_start: date) -> Decimal:
    """SPEC 7 won revenue of the plan's scope in the period before the plan's."""
    prev = previous_period_start(period, period_start)
    start, end = target_rules.period_bounds(period, prev)
    return target_rules.won_revenue(start=start, end=end, team=team)


@transaction.atomic
def plan_create(
    *,
    by: User,
    title: str,
    team: Team | None,
    period: str,
    period_start: date,
    growth_percent: Decimal = Decimal("15"),
    target_revenue: Decimal | None = None,
    **fields: Any,
) -> SalesPlan:
    """A new plan; its revenue target defaults to last period's won revenue × (1 + growth)."""
    require_perm(by, "reports.add_salesplan")
    if team is None and not can_plan_company(by):
        raise ValidationError({"team": _("Only the sales director plans for the whole company.")})
    if team is not None and not plannable_teams(by).filter(pk=team.pk).exists():
        raise ValidationError({"team": _("You plan only for the teams you lead.")})
    if period not in Target.Period.values:
        raise ValidationError({"period": _("Choose a month, a quarter or a year.")})
    start = target_rules.period_start_for(period, period_start)
    baseline = plan_baseline(team=team, period=period, period_start=start)
    plan = SalesPlan(
        owner=by,
        title=title,
        team=team,
        period=period,
        period_start=start,
        growth_percent=growth_percent,
        baseline_revenue=baseline,
    )
    _apply(plan, fields, PLAN_FIELDS)
    plan.target_revenue = (
        propose(baseline, growth_percent) if target_revenue is None else target_revenue
    )
    _full_clean(plan)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ValidationError(
            {"period_start": _("There is already a plan for this team and period.")}
        ) from None
    return plan


@transaction.atomic
def plan_update(
    *, by: User, plan: SalesPlan, expected_version: int | None, **changes: Any
) -> SalesPlan:
    """Change a plan's numbers and notes (its scope and period stay: that is another plan)."""
    require_change(by, plan)
    _apply(plan, changes, PLAN_FIELDS)
    _full_clean(plan)
    plan.save_versioned(expected_version=expected_version)
    return plan


@dataclass
class PlanLine:
    """One scope of a plan's targets: the plan's node, a team below it or a person."""

    key: str  # "company", "team:<pk>" or "user:<pk>"
    kind: str
    label: str
    depth: int
    team: Team | None = None
    user: User | None = None
    baseline: Decimal = Decimal("0")
    proposed: Decimal = Decimal("0")
    won: Decimal = Decimal("0")
    target: Target | None = None
    can_set: bool = False

    @property
    def value(self) -> Decimal:
        """What the form shows: the target already set, else the proposal."""
        return self.target.revenue if self.target else self.proposed

    @property
    def attainment(self) -> target_rules.Attainment:
        return target_rules.Attainment(
            target=self.target.revenue if self.target else Decimal("0"), won=self.won
        )


def plan_lines(*, by: User, plan: SalesPlan, growth: Decimal | None = None) -> list[PlanLine]:
    """The plan's node, the teams below it and their people, with last period's
    won revenue, the proposal at ``growth`` (default: the plan's), the target
    already set, this period's won revenue and whether ``by`` may set it.

    Only what ``by`` sees is listed. A fixed number of queries: teams, people,
    targets, one aggregate for both periods' won revenue, two for what ``by``
    may set.
    """
    growth = plan.growth_percent if growth is None else growth
    period, start = plan.period, plan.period_start
    prev_start, prev_end = target_rules.period_bounds(period, previous_period_start(period, start))
    cur_start, cur_end = target_rules.period_bounds(period, start)
    node = plan.team
    teams_qs = Team.objects.visible_to(by)
    people_qs = User.objects.visible_to(by).active().exclude(role=Role.SUPPORT)
    if node is not None:
        teams_qs = teams_qs.filter(path__startswith=node.path)
        people_qs = people_qs.filter(team__path__startswith=node.path)
    else:
        people_qs = people_qs.filter(team__isnull=False)
    teams = list(teams_qs.order_by("path"))
    people = list(people_qs.select_related("team").order_by("path"))
    by_team: dict[int, list[User]] = {}
    for person in people:
        by_team.setdefault(person.team_id, []).append(person)

    lines: list[PlanLine] = []
    root_depth = node.depth if node is not None else 0
    if node is None:
        lines.append(PlanLine(key="company", kind="company", label=_("Company"), depth=0))
    for team in teams:
        is_company_team = team.kind == Team.Kind.COMPANY
        if not is_company_team:
            depth = team.depth - root_depth
            lines.append(
                PlanLine(
                    key=f"team:{team.pk}", kind="team", label=team.name, depth=depth, team=team
                )
            )
        else:
            depth = 0
        for person in by_team.get(team.pk, []):
            lines.append(
                PlanLine(
                    key=f"user:{person.pk}",
                    kind="user",
                    label=str(person),
                    depth=depth + 1,
                    user=person,
                )
            )

    team_ids = [line.team.pk for line in lines if line.team]
    user_ids = [line.user.pk for line in lines if line.user]
    scope_q = Q(team_id__in=team_ids) | Q(user_id__in=user_ids)
    if node is None:
        scope_q |= Q(user__isnull=True, team__isnull=True)
    targets = list(
        Target.objects.visible_to(by).filter(scope_q, period=period, period_start=cur_start)
    )
    found = {
        (f"team:{t.team_id}" if t.team_id else f"user:{t.user_id}" if t.user_id else "company"): t
        for t in targets
    }
    scopes: dict[tuple[str, str], target_rules.RevenueScope] = {}
    for line in lines:
        for which, (s, e) in (("prev", (prev_start, prev_end)), ("cur", (cur_start, cur_end))):
            scopes[(which, line.key)] = target_rules.RevenueScope(
                start=s,
                end=e,
                user_id=line.user.pk if line.user else None,
                team_path=line.team.path if line.team else None,
            )
    won = target_rules.won_revenue_many(scopes)
    settable_users = set(
        target_rules.settable_users(by).filter(pk__in=user_ids).values_list("pk", flat=True)
    )
    settable_teams = set(
        target_rules.settable_teams(by).filter(pk__in=team_ids).values_list("pk", flat=True)
    )
    company = target_rules.can_set_company_target(by)
    for line in lines:
        line.baseline = won[("prev", line.key)]
        line.won = won[("cur", line.key)]
        line.proposed = propose(line.baseline, growth)
        line.target = found.get(line.key)
        if line.user:
            line.can_set = line.user.pk in settable_users
        elif line.team:
            line.can_set = line.team.pk in settable_teams
        else:
            line.can_set = company
    return lines


def _parse_money(raw: Any, key: str) -> Decimal:
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({key: _("Enter an amount in yuan.")}) from None
    if value < 0 or not value.is_finite():
        raise ValidationError({key: _("A target cannot be negative.")})
    return value.quantize(CENT, ROUND_HALF_UP)


@transaction.atomic
def plan_save_targets(*, by: User, plan: SalesPlan, revenues: Mapping[str, Any]) -> list[Target]:
    """Write the plan's targets: one ``pipeline.Target`` per line given, created or updated.

    ``revenues`` maps line keys (``"company"``, ``"team:<pk>"``, ``"user:<pk>"``)
    to amounts. Every line must be one of the plan's and one ``by`` may set —
    otherwise nothing at all is written and the errors name the lines. A new
    person's target gets their role's default activity targets.
    """
    require_change(by, plan)
    require_perm(by, "pipeline.set_target")
    lines = {line.key: line for line in plan_lines(by=by, plan=plan)}
    errors: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    for key, raw in revenues.items():
        line = lines.get(key)
        if line is None:
            errors[key] = [_("This is not part of the plan, or not yours to see.")]
            continue
        if not line.can_set:
            errors[key] = [
                _("You set targets only for the people below you and the teams below yours.")
            ]
            continue
        try:
            values[key] = _parse_money(raw, key)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    written: list[Target] = []
    for key, value in values.items():
        line = lines[key]
        if line.target is not None:
            if line.target.revenue != value:
                written.append(target_rules.target_update(by=by, target=line.target, revenue=value))
            continue
        defaults = (
            {
                name: d.value
                for name, d in target_rules.activity_target_defaults(line.user.role).items()
            }
            if line.user
            else {}
        )
        written.append(
            target_rules.target_create(
                by=by,
                period=plan.period,
                period_start=plan.period_start,
                user=line.user,
                team=line.team,
                revenue=value,
                **defaults,
            )
        )
    node_key = f"team:{plan.team_id}" if plan.team_id else "company"
    if node_key in values and plan.target_revenue != values[node_key]:
        plan.target_revenue = values[node_key]
        plan.save_versioned(expected_version=None)
    return written


@transaction.atomic
def milestone_save(
    *,
    by: User,
    plan: SalesPlan,
    milestone: PlanMilestone | None = None,
    **fields: Any,
) -> PlanMilestone:
    """Add a milestone to a plan's execution plan, or change one."""
    require_change(by, plan)
    if milestone is None:
        milestone = PlanMilestone(plan=plan)
    elif milestone.plan_id != plan.pk:
        raise PermissionDenied
    _apply(milestone, fields, ("title", "owner", "due_date", "status", "notes"))
    if "owner" in fields:
        _check_person(by, milestone.owner)
    _full_clean(milestone, exclude=["plan"])
    milestone.save()
    return milestone


@transaction.atomic
def milestone_delete(*, by: User, milestone: PlanMilestone) -> None:
    require_change(by, milestone.plan)
    milestone.delete()


# --------------------------------------------------------------- market research
#: The structured entries of each kind of analysis: lists of points, or ratings
#: 1–5 with notes (Porter's five forces).
ANALYSIS_LISTS: dict[str, tuple[tuple[str, Any], ...]] = {
    MarketAnalysis.Kind.SWOT: (
        ("strengths", gettext_lazy("Strengths")),
        ("weaknesses", gettext_lazy("Weaknesses")),
        ("opportunities", gettext_lazy("Opportunities")),
        ("threats", gettext_lazy("Threats")),
    ),
    MarketAnalysis.Kind.PEST: (
        ("political", gettext_lazy("Political")),
        ("economic", gettext_lazy("Economic")),
        ("social", gettext_lazy("Social")),
        ("technological", gettext_lazy("Technological")),
    ),
    MarketAnalysis.Kind.PERSONA: (
        ("profile", gettext_lazy("Who they are")),
        ("needs", gettext_lazy("Needs")),
        ("pain_points", gettext_lazy("Pain points")),
        ("buying_criteria", gettext_lazy("Buying criteria")),
        ("how_we_match", gettext_lazy("How we match their needs")),
    ),
    MarketAnalysis.Kind.SEGMENTATION: (
        ("segments", gettext_lazy("Segments")),
        ("priority_segments", gettext_lazy("Target segments")),
        ("needs_by_segment", gettext_lazy("Needs by segment")),
    ),
}
FIVE_FORCES: tuple[tuple[str, Any], ...] = (
    ("rivalry", gettext_lazy("Competitive rivalry")),
    ("new_entrants", gettext_lazy("Threat of new entrants")),
    ("substitutes", gettext_lazy("Threat of substitutes")),
    ("buyer_power", gettext_lazy("Bargaining power of buyers")),
    ("supplier_power", gettext_lazy("Bargaining power of suppliers")),
)
ANALYSIS_FIELDS = ("title", "subject", "summary", "team", "shared", "content")
COMPETITOR_FIELDS = (
    "name",
    "website",
    "strengths",
    "weaknesses",
    "pricing",
    "notes",
    "team",
    "shared",
)


def clean_content(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The structured entries of an analysis of ``kind``, validated and normalised.

    Lists are lists of non-empty strings (a string is split into lines); the
    five forces are ``{"rating": 1..5, "notes": str}`` each, all five required.
    """
    if not isinstance(raw, Mapping):
        raise ValidationError({"content": _("The analysis must be a set of named entries.")})
    if kind == MarketAnalysis.Kind.FIVE_FORCES:
        content: dict[str, Any] = {}
        for key, label in FIVE_FORCES:
            entry = raw.get(key) or {}
            if not isinstance(entry, Mapping):
                entry = {"rating": entry}
            try:
                rating = int(entry.get("rating"))
            except (TypeError, ValueError):
                rating = 0
            if not 1 <= rating <= 5:
                raise ValidationError(
                    {"content": _("Rate “%(force)s” from 1 to 5.") % {"force": label}}
                )
            content[key] = {"rating": rating, "notes": str(entry.get("notes") or "").strip()}
        return content
    parts = ANALYSIS_LISTS.get(kind)
    if parts is None:
        raise ValidationError({"kind": _("Choose the kind of analysis.")})
    content = {}
    for key, _label in parts:
        value = raw.get(key) or []
        if isinstance(value, str):
            value = value.splitlines()
        if not isinstance(value, list):
            raise ValidationError({"content": _("“%(part)s” must be a list.") % {"part": key}})
        content[key] = [str(item).strip() for item in value if str(item).strip()]
    return content


def _check_team_share(by: User, team: Team | None, shared: bool) -> None:
    """One shares with a team one belongs to (or leads): not with another region."""
    if team is None:
        if shared and not by.sees_everything:
            raise ValidationError(
                {"team": _("Choose the team to share with; only the director shares company-wide.")}
            )
        return
    if by.sees_everything:
        return
    from reports.access import team_line_ids

    led = target_rules.led_teams(by).values_list("path", flat=True)
    if team.pk in team_line_ids(by) or any(team.path.startswith(p) for p in led):
        return
    raise ValidationError({"team": _("Share only with your own team or the teams you lead.")})


def shareable_teams(by: User) -> QuerySet[Team]:
    if by.sees_everything:
        return Team.objects.all()
    from reports.access import team_line_ids

    condition = Q(pk__in=team_line_ids(by))
    for path in target_rules.led_teams(by).values_list("path", flat=True):
        condition |= Q(path__startswith=path)
    return Team.objects.filter(condition)


@transaction.atomic
def competitor_create(*, by: User, **fields: Any) -> Competitor:
    require_perm(by, "reports.add_competitor")
    competitor = Competitor(author=by)
    _apply(competitor, fields, COMPETITOR_FIELDS)
    _check_team_share(by, competitor.team, competitor.shared)
    _full_clean(competitor)
    competitor.save()
    return competitor


@transaction.atomic
def competitor_update(
    *, by: User, competitor: Competitor, expected_version: int | None, **changes: Any
) -> Competitor:
    require_change(by, competitor)
    _apply(competitor, changes, COMPETITOR_FIELDS)
    if {"team", "shared"} & set(changes):
        _check_team_share(by, competitor.team, competitor.shared)
    _full_clean(competitor)
    competitor.save_versioned(expected_version=expected_version)
    return competitor


@transaction.atomic
def analysis_create(*, by: User, kind: str, **fields: Any) -> MarketAnalysis:
    require_perm(by, "reports.add_marketanalysis")
    if kind not in MarketAnalysis.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of analysis.")})
    analysis = MarketAnalysis(author=by, kind=kind)
    _apply(analysis, fields, ANALYSIS_FIELDS)
    analysis.content = clean_content(kind, analysis.content or {})
    _check_team_share(by, analysis.team, analysis.shared)
    _full_clean(analysis)
    analysis.save()
    return analysis


@transaction.atomic
def analysis_update(
    *, by: User, analysis: MarketAnalysis, expected_version: int | None, **changes: Any
) -> MarketAnalysis:
    require_change(by, analysis)
    _apply(analysis, changes, ANALYSIS_FIELDS)
    if "content" in changes:
        analysis.content = clean_content(analysis.kind, analysis.content or {})
    if {"team", "shared"} & set(changes):
        _check_team_share(by, analysis.team, analysis.shared)
    _full_clean(analysis)
    analysis.save_versioned(expected_version=expected_version)
    return analysis


# -------------------------------------------------------------------------- risks
RISK_FIELDS = (
    "title",
    "description",
    "category",
    "likelihood",
    "impact",
    "response",
    "response_plan",
    "owner",
    "review_date",
    "status",
)
OPEN_RISK_STATUSES = (Risk.Status.OPEN, Risk.Status.MONITORING)


def risk_level(score: int) -> str:
    """Low (1–4), medium (5–9), high (10–16) or critical (20–25): the heat map's colours."""
    if score >= 20:
        return "critical"
    if score >= 10:
        return "high"
    if score >= 5:
        return "medium"
    return "low"


@transaction.atomic
def risk_create(*, by: User, **fields: Any) -> Risk:
    require_perm(by, "reports.add_risk")
    risk = Risk(created_by=by)
    _apply(risk, fields, RISK_FIELDS)
    if risk.owner_id is None:
        risk.owner = by
    _check_person(by, risk.owner)
    _full_clean(risk)
    risk.save()
    return risk


@transaction.atomic
def risk_update(*, by: User, risk: Risk, expected_version: int | None, **changes: Any) -> Risk:
    require_change(by, risk)
    _apply(risk, changes, RISK_FIELDS)
    if "owner" in changes:
        _check_person(by, risk.owner)
    _full_clean(risk)
    risk.save_versioned(expected_version=expected_version)
    return risk


def overdue_reviews(qs: QuerySet[Risk], today: date) -> QuerySet[Risk]:
    return qs.filter(review_date__lt=today, status__in=OPEN_RISK_STATUSES)


def review_overdue(risk: Risk, today: date) -> bool:
    """One risk's review date has passed while it is still open (``overdue_reviews``)."""
    return risk.review_date < today and risk.status in OPEN_RISK_STATUSES


@dataclass(frozen=True)
class HeatCell:
    likelihood: int
    impact: int
    count: int

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def level(self) -> str:
        return risk_level(self.score)


def heat_map(qs: QuerySet[Risk]) -> list[list[HeatCell]]:
    """Counts of risks per (likelihood, impact), as 5 rows (impact 5 at the top)
    of 5 cells (likelihood 1 to 5). One GROUP BY query."""
    counts = {
        (row["likelihood"], row["impact"]): row["n"]
        for row in qs.order_by().values("likelihood", "impact").annotate(n=Count("pk"))
    }
    return [
        [HeatCell(lk, im, counts.get((lk, im), 0)) for lk in range(1, 6)] for im in range(5, 0, -1)
    ]


# -------------------------------------------------------------- improvement actions
ACTION_FIELDS = (
    "title",
    "description",
    "owner",
    "target_metric",
    "starts_on",
    "ends_on",
    "status",
)


def _normalise_months(action: ImprovementAction) -> None:
    if action.starts_on:
        action.starts_on = month_start(action.starts_on)
    if action.ends_on:
        action.ends_on = month_start(action.ends_on)
        if action.starts_on and action.ends_on < action.starts_on:
            raise ValidationError({"ends_on": _("The last month comes after the first.")})


@transaction.atomic
def action_create(*, by: User, **fields: Any) -> ImprovementAction:
    require_perm(by, "reports.add_improvementaction")
    action = ImprovementAction(created_by=by)
    _apply(action, fields, ACTION_FIELDS)
    if action.owner_id is None:
        action.owner = by
    _check_person(by, action.owner)
    _normalise_months(action)
    _full_clean(action)
    action.save()
    return action


@transaction.atomic
def action_update(
    *, by: User, action: ImprovementAction, expected_version: int | None, **changes: Any
) -> ImprovementAction:
    require_change(by, action)
    _apply(action, changes, ACTION_FIELDS)
    if "owner" in changes:
        _check_person(by, action.owner)
    _normalise_months(action)
    _full_clean(action)
    action.save_versioned(expected_version=expected_version)
    return action


@transaction.atomic
def evaluation_save(
    *,
    by: User,
    action: ImprovementAction,
    month: date,
    result: str,
    rating: int,
    notes: str = "",
) -> ImprovementEvaluation:
    """Record (or correct) one month's evaluation of an action.

    The action's owner and their line evaluate it (anyone who may change the
    action and holds ``add_improvementevaluation``); a month outside the
    action's months, or in the future, is refused.
    """
    require_perm(by, "reports.add_improvementevaluation")
    require_change(by, action)
    month = month_start(month)
    if month < action.starts_on or (action.ends_on and month > action.ends_on):
        raise ValidationError({"month": _("That month is outside the action's months.")})
    from django.utils import timezone

    if month > month_start(timezone.localdate()):
        raise ValidationError({"month": _("A month is evaluated once it has begun.")})
    evaluation = ImprovementEvaluation.objects.filter(action=action, month=month).first()
    if evaluation is None:
        evaluation = ImprovementEvaluation(action=action, month=month)
    evaluation.result = result
    evaluation.rating = rating
    evaluation.notes = notes
    evaluation.evaluated_by = by
    _full_clean(evaluation, exclude=["action", "evaluated_by"])
    evaluation.save()
    return evaluation


def due_for_evaluation(qs: QuerySet[ImprovementAction], month: date) -> QuerySet[ImprovementAction]:
    """Active actions running in ``month`` that have no evaluation for it yet (one query)."""
    month = month_start(month)
    return qs.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=month),
        status=ImprovementAction.Status.ACTIVE,
        starts_on__lte=month,
    ).filter(~Exists(ImprovementEvaluation.objects.filter(action=OuterRef("pk"), month=month)))
