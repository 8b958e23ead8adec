"""The sales manager's dashboard: how the team is doing and what needs them now.

Headline tiles (attainment, won revenue, win rate, calls and visits against
the targets, cadence compliance, stale deals, overdue complaints, approvals
waiting), then a leaderboard (one row per person), the team funnel with its
bottleneck stage, visit cadence, the lists to act on and the skill matrix.

Every KPI number comes from ``reports.kpis``: one ``breakdown(by="person")``
gives the leaderboard and, summed, the team's totals; ``funnel`` and
``stage_conversion`` share one read of the stages; ``cadence_compliance`` and
``target_attainment`` as defined. Everything else (people, targets, skills,
stale deals, overdue complaints, approvals) is one query in
``manager_data.people``. The page's own content costs six queries.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from clients.models import Severity
from reports import teambuilding
from reports.dashboards import manager_data
from reports.dashboards.common import attainment_tone, cadence_chart
from reports.dashboards.manager_data import PersonRow
from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import (
    Badge,
    Chart,
    Dashboard,
    LazyRows,
    Link,
    Section,
    Table,
    Tile,
    count,
    money,
    pct,
    ratio_detail,
)
from reports.kpis import (
    Attainment,
    Funnel,
    ScopeKind,
    StageConversion,
    Totals,
    breakdown,
    cadence_compliance,
    funnel,
    stage_conversion,
    target_attainment,
    win_rate_from,
    won_revenue_from,
)
from reports.kpis.definitions import open_stages
from reports.kpis.results import ZERO, percent, ratio

SKILL_TONES = {"meets": "success", "near": "warning", "gap": "danger", "none": "secondary"}


def build(params: DashboardParams) -> Dashboard:
    """The manager's dashboard for ``params.scope`` (by default the team they lead) and period."""
    today = params.today
    period = params.period
    scope = params.scope
    day = min(period.last, today)  # state-at-a-moment figures are read at the period's end
    now = timezone.now()

    # Past days from the rollup, today live (a live scan of a region's month takes
    # half a second at 1,000,000 activities; the rollup a few milliseconds).
    by_person = breakdown(scope, period, by="person", today=today)
    team = sum(by_person.values(), Totals())
    rows = manager_data.people(params, day=day, also=set(by_person), now=now)
    stages = open_stages()  # read once for the funnel and the stage conversion
    pipeline = funnel(scope, as_of=day, today=today, stages=stages)
    conversion = stage_conversion(scope, period, stages=stages)
    cadence = cadence_compliance(scope, as_of=day)

    won = won_revenue_from(team)
    me = next((r for r in rows if r.pk == params.viewer.pk), None)
    if scope.kind == ScopeKind.PERSON:
        # the person's target came with their row (the same row ``target_for`` reads)
        person = next((r for r in rows if r.pk == scope.id), None)
        target = person.revenue_target if person and person.revenue_target else ZERO
        attainment = Attainment(target=target, won=won.amount)
    else:
        attainment = target_attainment(scope, period, won=won)
    board = [r for r in rows if r.member or r.pk in by_person]
    workdays = period.workdays(until=today + timedelta(days=1))
    per = {"calls": Decimal(workdays), "visits": Decimal(workdays) / 5}
    members = [r for r in rows if r.member]
    expected = {
        "calls": manager_data.team_expected([r.calls_per_day for r in members], per["calls"]),
        "visits": manager_data.team_expected([r.visits_per_week for r in members], per["visits"]),
    }
    approvals = me.approvals if me else []

    dashboard = Dashboard(role="manager", title=_("Team dashboard"))
    dashboard.tiles = _tiles(params, team, attainment, expected, cadence, board, approvals)
    dashboard.sections = [
        _leaderboard(params, board, by_person, per),
        _funnel_section(params, pipeline, conversion, day),
        _cadence_section(params, cadence, day),
        _stale_section(params, board, pipeline),
        _complaints_section(board),
        _skills_section(board),
        _approvals_section(approvals),
    ]
    return dashboard


# ------------------------------------------------------------------------ tiles
def _tiles(
    params: DashboardParams,
    team: Totals,
    attainment: Attainment,
    expected: dict[str, Decimal | None],
    cadence: Any,
    board: list[PersonRow],
    approvals: list[dict[str, Any]],
) -> list[Tile]:
    won = won_revenue_from(team)
    wins = win_rate_from(team)
    scope_kind = params.scope.kind
    stale = sum(r.stale_count for r in board if r.member)
    overdue = sum(r.overdue_count for r in board if r.member)
    tiles = [
        Tile(
            "attainment",
            _("Team attainment"),
            pct(attainment.percent),
            url=params.drill("attainment"),
            detail=(
                _("%(won)s of %(target)s")
                % {"won": money(attainment.won), "target": money(attainment.target)}
                if attainment.target
                else _("A line has no target of its own: pick a team above")
                if scope_kind == ScopeKind.LINE
                else _("No revenue target for this scope and period")
            ),
            tone=attainment_tone(attainment.percent),
            progress=attainment.percent,
        ),
        Tile(
            "won-revenue",
            _("Won revenue"),
            money(won.amount),
            url=params.drill("won-revenue"),
            detail=_("%(n)s deals won") % {"n": count(won.deals)},
        ),
        Tile(
            "win-rate",
            _("Win rate"),
            pct(wins.percent),
            url=params.drill("win-rate"),
            detail=ratio_detail(wins.won, wins.closed),
        ),
    ]
    for key, label, done, part in (
        ("calls", _("Calls vs target"), team.calls, "calls"),
        ("visits", _("Visits vs target"), team.act_visit, "visit"),
    ):
        goal = expected[key]
        share = percent(ratio(done, goal)) if goal else None
        tiles.append(
            Tile(
                key,
                label,
                count(done),
                url=params.drill("activities", part=part),
                detail=(
                    _("target so far: %(n)s") % {"n": count(int(goal))}
                    if goal is not None
                    else _("No activity targets set")
                ),
                tone=attainment_tone(share),
                progress=share,
            )
        )
    tiles += [
        Tile(
            "cadence",
            _("Cadence compliance"),
            pct(cadence.percent),
            url=params.drill("cadence-compliance", part="overdue"),
            detail=_("%(n)s accounts overdue for a visit") % {"n": count(cadence.overdue)},
            tone=attainment_tone(cadence.percent, 90, 70),
        ),
        Tile(
            "stale-deals",
            _("Stale deals"),
            count(stale),
            url="#sec-stale-deals",
            detail=_("no activity in %(days)s days") % {"days": manager_data.stale_days()},
            tone="warning" if stale else "",
        ),
        Tile(
            "overdue-complaints",
            _("Overdue complaints"),
            count(overdue),
            url=f"{reverse('clients:complaint-list')}?tab=team_overdue",
            detail=_("past their first-response deadline"),
            tone="danger" if overdue else "",
        ),
        Tile(
            "approvals",
            _("Approvals waiting"),
            count(len(approvals)),
            url=reverse("pipeline:approval-list"),
            detail=_("discounts for you to decide"),
            tone="warning" if approvals else "",
        ),
    ]
    return tiles


# ------------------------------------------------------------------ leaderboard
def _person_drill(params: DashboardParams, kpi: str, pk: int, **extra: Any) -> str:
    return params.drill(kpi, scope=ScopeKind.PERSON, id=pk, **extra)


def _vs(done: int, goal: Decimal | None) -> str:
    return count(done) if goal is None else f"{count(done)} / {count(int(goal))}"


def _leaderboard(
    params: DashboardParams,
    board: list[PersonRow],
    by_person: dict[Any, Totals],
    per: dict[str, Decimal],
) -> Section:
    """One row per person: revenue and attainment, activities vs targets, conversion, win rate."""
    empty = Totals()
    ranked = sorted(
        board, key=lambda r: (-by_person.get(r.pk, empty).won_amount, r.name.casefold())
    )
    table_rows = []
    labels, won_data, target_data, won_urls = [], [], [], []
    for r in ranked:
        t = by_person.get(r.pk, empty)
        won = won_revenue_from(t)
        wins = win_rate_from(t)
        target = r.revenue_target or ZERO
        attained = Attainment(target=target, won=won.amount)
        calls_goal = manager_data.expected(r.calls_per_day, per["calls"])
        visits_goal = manager_data.expected(r.visits_per_week, per["visits"])
        leads = percent(ratio(t.leads_converted, t.leads_created))
        name = r.name if r.member else _("%(name)s (left)") % {"name": r.name}
        table_rows.append(
            [
                Link(name, f"?{params.querystring(scope=ScopeKind.PERSON, id=r.pk)}"),
                Link(money(won.amount), _person_drill(params, "won-revenue", r.pk)),
                money(target) if target else None,
                Link(pct(attained.percent), _person_drill(params, "attainment", r.pk))
                if target
                else None,
                Link(
                    _vs(t.calls, calls_goal),
                    _person_drill(params, "activities", r.pk, part="calls"),
                ),
                Link(
                    _vs(t.act_visit, visits_goal),
                    _person_drill(params, "activities", r.pk, part="visit"),
                ),
                f"{pct(leads)} ({ratio_detail(t.leads_converted, t.leads_created)})"
                if t.leads_created
                else None,
                Link(
                    f"{pct(wins.percent)} ({ratio_detail(wins.won, wins.closed)})",
                    _person_drill(params, "win-rate", r.pk),
                )
                if wins.closed
                else None,
            ]
        )
        labels.append(r.name)
        won_data.append(won.amount)
        target_data.append(target)
        won_urls.append(_person_drill(params, "won-revenue", r.pk))
    chart = Chart(
        key="leaderboard-revenue",
        title=_("Won revenue and target by person"),
        kind="bar",
        labels=labels,
        datasets=[
            {"label": _("Won revenue"), "data": won_data},
            {"label": _("Target"), "data": target_data, "color": "#adb5bd"},
        ],
        urls=[won_urls, []],
        money=True,
        height=220,
    )
    table = Table(
        key="leaderboard",
        title=_("Leaderboard"),
        header=[
            _("Person"),
            _("Won revenue"),
            _("Target"),
            _("Attainment"),
            _("Calls / target"),
            _("Visits / target"),
            _("Lead conversion"),
            _("Win rate"),
        ],
        rows=table_rows,
        numeric=frozenset(range(1, 8)),
        empty=_("Nobody in this scope."),
    )
    return Section(
        "leaderboard",
        _("Team performance"),
        [chart, table] if len(ranked) > 1 else [table],
        width="col-12",
        note=_("Targets so far count working days up to today; click a number for its records."),
    )


# ----------------------------------------------------------------------- funnel
def _funnel_section(
    params: DashboardParams, pipeline: Funnel, conversion: StageConversion, day: date
) -> Section:
    """Open deals by stage, the bottleneck (lowest stage conversion) in orange and in words."""
    bottleneck = conversion.bottleneck
    index = next(
        (
            i
            for i, s in enumerate(pipeline.stages)
            if bottleneck and s.stage_id == bottleneck.stage_id
        ),
        None,
    )
    as_of = day.isoformat()
    chart = Chart(
        key="funnel",
        title=_("Open deals by stage"),
        kind="bar",
        labels=[s.name for s in pipeline.stages],
        datasets=[{"label": _("Open deals"), "data": [s.deals for s in pipeline.stages]}],
        urls=[params.drill("funnel", stage=s.stage_id, as_of=as_of) for s in pipeline.stages],
        highlight=index,
        note=(
            _(
                "Bottleneck: %(stage)s — %(rate)s of the deals that entered it this period "
                "moved on (%(detail)s)."
            )
            % {
                "stage": bottleneck.name,
                "rate": pct(bottleneck.percent),
                "detail": ratio_detail(bottleneck.advanced, bottleneck.entered),
            }
            if bottleneck
            else _("No deal entered a stage in this period: no bottleneck to show.")
        ),
    )
    open_now = {s.stage_id: s for s in pipeline.stages}
    rows = []
    for step in conversion.steps:
        stage = open_now.get(step.stage_id)
        name: Any = step.name
        if bottleneck and step.stage_id == bottleneck.stage_id:
            name = Badge(_("%(stage)s (bottleneck)") % {"stage": step.name}, "warning")
        rows.append(
            [
                name,
                Link(
                    count(stage.deals),
                    params.drill("funnel", stage=step.stage_id, as_of=as_of),
                )
                if stage
                else 0,
                money(stage.amount) if stage else None,
                Link(count(step.entered), params.drill("stage-conversion", stage=step.stage_id)),
                Link(
                    count(step.advanced),
                    params.drill("stage-conversion", stage=step.stage_id, part="advanced"),
                ),
                pct(step.percent),
            ]
        )
    table = Table(
        key="stage-conversion",
        title=_("Stage conversion"),
        header=[
            _("Stage"),
            _("Open deals"),
            _("Amount"),
            _("Entered in the period"),
            _("Moved on"),
            _("Conversion"),
        ],
        rows=rows,
        numeric=frozenset(range(1, 6)),
    )
    return Section(
        "funnel",
        _("Team funnel"),
        [chart, table],
        note=_("Open deals as of %(day)s; pipeline %(amount)s.")
        % {"day": date_format(day), "amount": money(pipeline.amount)},
    )


# ---------------------------------------------------------------------- cadence
def _cadence_section(params: DashboardParams, cadence: Any, day: date) -> Section:
    chart = cadence_chart(params, cadence, height=200)
    return Section(
        "cadence",
        _("Visit cadence of the team's accounts"),
        [chart],
        note=_("%(rate)s on cadence (%(detail)s) as of %(day)s.")
        % {
            "rate": pct(cadence.percent),
            "detail": ratio_detail(cadence.on_cadence, cadence.clients),
            "day": date_format(day),
        },
        link=Link(_("Overdue accounts"), params.drill("cadence-compliance", part="overdue")),
    )


# ------------------------------------------------------------------------ lists
def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT") if moment else "—"


def _stale_section(params: DashboardParams, board: list[PersonRow], pipeline: Funnel) -> Section:
    """Open deals nobody worked on for the stale-deal alert's number of days, oldest first."""
    stage_names = {s.stage_id: s.name for s in pipeline.stages}
    today = params.today
    found = [(r, d) for r in board if r.member for d in r.stale]
    found.sort(key=lambda item: (item[1]["quiet"], item[1]["id"]))

    def row(item: tuple[PersonRow, dict[str, Any]]) -> list[Any]:
        person, d = item
        return [
            Link(d["title"], reverse("pipeline:deal-detail", args=[d["id"]])),
            d["client"],
            person.name,
            stage_names.get(d["stage_id"], "—"),
            money(Decimal(d["amount"]))
            if d["currency"] == "CNY"
            else f"{d['amount']} {d['currency']}",
            _when(d["quiet"]),
            (today - timezone.localdate(d["quiet"])).days,
        ]

    rows = LazyRows(found, row)
    total = sum(r.stale_count for r in board if r.member)
    return Section(
        "stale-deals",
        _("Stale deals"),
        [
            Table(
                key="stale-deals",
                title="",
                header=[
                    _("Deal"),
                    _("Client"),
                    _("Owner"),
                    _("Stage"),
                    _("Amount"),
                    _("Last activity"),
                    _("Days quiet"),
                ],
                rows=rows,
                numeric=frozenset({4, 6}),
                empty=_("No stale deals: every open deal had activity recently."),
            )
        ],
        note=_(
            "Open deals with no activity in %(days)s days (%(n)s); up to %(rows)s per person, "
            "oldest first."
        )
        % {"days": manager_data.stale_days(), "n": count(total), "rows": manager_data.LIST_ROWS},
    )


def _complaints_section(board: list[PersonRow]) -> Section:
    severities = dict(Severity.choices)
    now = timezone.now()
    found = [(r, c) for r in board if r.member for c in r.overdue]
    found.sort(key=lambda item: (item[1]["due"], item[1]["id"]))

    def row(item: tuple[PersonRow, dict[str, Any]]) -> list[Any]:
        person, c = item
        return [
            Link(c["subject"], reverse("clients:complaint-detail", args=[c["id"]])),
            c["client"],
            person.name,
            Badge(str(severities.get(c["severity"], c["severity"])), "danger"),
            _when(c["due"]),
            int((now - c["due"]).total_seconds() // 3600),
        ]

    rows = LazyRows(found, row)
    return Section(
        "overdue-complaints",
        _("Overdue complaints"),
        [
            Table(
                key="overdue-complaints",
                title="",
                header=[
                    _("Complaint"),
                    _("Client"),
                    _("Owner"),
                    _("Severity"),
                    _("Response due"),
                    _("Hours overdue"),
                ],
                rows=rows,
                numeric=frozenset({5}),
                empty=_("No complaint is waiting past its first-response deadline."),
            )
        ],
        note=_("Complaints with no first response past their SLA deadline."),
        link=Link(
            _("All overdue complaints"), f"{reverse('clients:complaint-list')}?tab=team_overdue"
        ),
    )


def _skills_section(board: list[PersonRow]) -> Section:
    """Each person's newest skill profile against the ideal manager's, and the team average."""
    ideal = teambuilding.ideal_profile()
    skills = teambuilding.SKILLS
    people = [r for r in board if r.member]
    rows: list[list[Any]] = []
    for r in people:
        cells: list[Any] = [
            Link(r.name, reverse("reports:skill-person", args=[r.pk])),
            _when_day(r.skill_assessed_on),
        ]
        for key, _label in skills:
            value = r.skills[key]
            level = teambuilding.skill_level(value, ideal[key])
            cells.append(Badge(str(value), SKILL_TONES[level]) if value is not None else None)
        rows.append(cells)
    assessed = [r for r in people if r.skill_assessed_on]
    average = [
        round(sum(r.skills[key] or 0 for r in assessed) / len(assessed)) if assessed else None
        for key, _label in skills
    ]
    widgets: list[Any] = []
    if assessed:
        widgets.append(
            Chart(
                key="skills",
                title=_("Team average against the ideal profile"),
                kind="radar",
                labels=[str(label) for _key, label in skills],
                datasets=[
                    {"label": _("Team average"), "data": average},
                    {
                        "label": _("Ideal"),
                        "data": [ideal[key] for key, _l in skills],
                        "color": "#adb5bd",
                    },
                ],
                height=240,
            )
        )
    widgets.append(
        Table(
            key="skills",
            title=_("Skill matrix"),
            header=[_("Person"), _("Assessed on"), *[str(label) for _k, label in skills]],
            rows=rows,
            numeric=frozenset(range(2, 2 + len(skills))),
            empty=_("Nobody in this scope has a skill assessment yet."),
        )
    )
    return Section(
        "skills",
        _("Team skills"),
        widgets,
        note=_("Newest assessment per person; green meets the ideal, amber is within 10 points."),
        link=Link(_("Skill matrix"), reverse("reports:skill-matrix")),
    )


def _when_day(day: date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else "—"


def _approval_row(a: dict[str, Any]) -> list[Any]:
    requester = (
        " ".join(p for p in (a["requested_by_first"], a["requested_by_last"]) if p)
        or a["requested_by_username"]
    )
    return [
        Link(a["quote"] or _("Quote"), reverse("pipeline:quote-detail", args=[a["quote_id"]])),
        a["deal"],
        a["client"],
        requester,
        f"{Decimal(a['discount']).normalize():f}%",
        _when(a["requested_at"]),
    ]


def _approvals_section(approvals: list[dict[str, Any]]) -> Section:
    rows = LazyRows(approvals, _approval_row)
    return Section(
        "approvals",
        _("Discount approvals waiting for you"),
        [
            Table(
                key="approvals",
                title="",
                header=[
                    _("Quote"),
                    _("Deal"),
                    _("Client"),
                    _("Requested by"),
                    _("Discount"),
                    _("Requested"),
                ],
                rows=rows,
                numeric=frozenset({4}),
                empty=_("No discount is waiting for your decision."),
            )
        ],
        link=Link(_("All approvals"), reverse("pipeline:approval-list")),
    )
