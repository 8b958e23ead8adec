"""The director's dashboard: the company's results against target, and where they come from.

SPEC section 7 numbers, all from ``reports.kpis``. The year's daily facts are
read once, grouped by region and month (``breakdown_by_team_and_month``), and
the month, quarter and year-to-date figures, the regions, the trends and the
NPS line are all taken off that one result; today's open deals are read once
for the funnel and the forecast; the other sections cost one query each.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Window
from django.urls import reverse
from django.utils.translation import gettext as _

from clients.models import Client
from pipeline.models import Deal, Target
from reports import kpis, planning
from reports.dashboards.common import sum_totals
from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import (
    Chart,
    Dashboard,
    Link,
    Section,
    Table,
    Tile,
    count,
    money,
    pct,
    ratio_detail,
)
from reports.kpis import Period, PeriodKind, ScopeKind, Totals
from reports.kpis.facts import regroup
from reports.kpis.results import Attainment, percent, ratio
from reports.kpis.scopes import client_in_scope, in_scope
from reports.models import Risk

#: How many months ahead the forecast looks.
FORECAST_MONTHS = 6
TOP_DEALS = 10
TOP_ACCOUNTS = 10


def _tone(attainment: Decimal | None, elapsed: Decimal) -> str:
    """Green when on pace for the target, amber when behind pace, red when far behind."""
    if attainment is None:
        return ""
    if attainment >= elapsed:
        return "success"
    return "warning" if attainment >= elapsed * Decimal("0.8") else "danger"


def _targets(params: DashboardParams, starts: dict[str, date], teams: list[int]) -> dict:
    """Revenue targets of the scope (month, quarter, year) and of its child teams, one query."""
    scope = params.scope
    if scope.kind == ScopeKind.COMPANY:
        own = Q(user__isnull=True, team__isnull=True)
    elif scope.kind == ScopeKind.TEAM:
        own = Q(team_id=scope.id)
    elif scope.kind == ScopeKind.PERSON:
        own = Q(user_id=scope.id)
    else:
        own = Q(pk__in=[])  # a line has no target of its own
    periods = Q()
    for kind, start in starts.items():
        periods |= Q(period=kind, period_start=start)
    rows = Target.objects.filter(periods).filter(own | Q(team_id__in=teams))
    out: dict[tuple[Any, str], Decimal] = {}
    for t in rows.only("user_id", "team_id", "period", "revenue"):
        owner = t.team_id if t.team_id in teams and not own_matches(scope, t) else "own"
        out[(owner, t.period)] = t.revenue
    return out


def _months(cells: dict[tuple[Any, date], Totals]) -> dict[date, Totals]:
    """The months of a team-by-month breakdown, every team added up (in month order)."""
    return dict(sorted(regroup((month, v) for (_team, month), v in cells.items()).items()))


def _teams(cells: dict[tuple[Any, date], Totals], period: Period) -> dict[Any, Totals]:
    """The teams of a team-by-month breakdown over the months of ``period``."""
    return regroup((team, v) for (team, month), v in cells.items() if month in period)


def own_matches(scope: kpis.Scope, target: Target) -> bool:
    if scope.kind == ScopeKind.COMPANY:
        return target.user_id is None and target.team_id is None
    if scope.kind == ScopeKind.TEAM:
        return target.team_id == scope.id
    if scope.kind == ScopeKind.PERSON:
        return target.user_id == scope.id
    return False


def build(params: DashboardParams) -> Dashboard:
    scope, period, today = params.scope, params.period, params.today
    anchor = min(period.last, today)
    month = Period.containing(PeriodKind.MONTH, anchor)
    quarter = Period.containing(PeriodKind.QUARTER, anchor)
    year = Period.containing(PeriodKind.YEAR, anchor)
    ytd = Period.between(year.start, month.end)

    # Month buckets add up to whole months only: a week, a day or a custom range
    # (15 March to 20 April) is read on its own.
    whole_months = period.kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)
    in_year = whole_months and period.start >= year.start and period.end <= year.end
    split_by_team = scope.kind in (ScopeKind.COMPANY, ScopeKind.TEAM)
    if split_by_team and in_year:
        # --- one read: the year by region (or team under a team) and month, whose
        # sums are the year by month and the regions over the period's months
        cells = kpis.breakdown_by_team_and_month(scope, year, today=today)
        by_month = _months(cells)
        by_team = _teams(cells, period)
    else:
        # --- the year's measures by month (rollup for past days, today live)
        by_month = kpis.breakdown(scope, year, by="month", today=today)
        by_team = kpis.breakdown(scope, period, by="team", today=today) if split_by_team else {}
    current = sum_totals(by_month, period) if in_year else kpis.totals(scope, period, today=today)

    # --- regions (or the teams under a team): won revenue in the period
    team_names = params.team_names()
    child_ids = [k for k in by_team if k and k != scope.id]
    targets = _targets(
        params,
        {"month": month.start, "quarter": quarter.start, "year": year.start}
        | ({period.kind: period.start} if period.target_period else {}),
        child_ids,
    )

    # --- one read of today's open deals: the funnel and the forecast's pipeline
    horizon = _forecast_horizon(today)
    funnel, pipeline = kpis.funnel_and_pipeline(scope, horizon, today=today)

    tiles = _headline_tiles(params, by_month, current, targets, month, quarter, ytd, year)
    sections = [
        _revenue_section(params, by_month, targets, year),
        _regions_section(params, by_team, team_names, targets, scope.id),
        _funnel_section(params, funnel),
        _trends_section(params, by_month, year),
        _forecast_section(params, by_month, year, horizon, pipeline),
        _accounts_section(params),
        _top_deals_section(params),
        _risks_section(params),
    ]
    return Dashboard(
        role="director",
        title=_("Director's dashboard"),
        tiles=tiles,
        sections=[s for s in sections if s is not None],
    )


# ----------------------------------------------------------------------- tiles
def _attainment_tile(
    params: DashboardParams,
    key: str,
    label: str,
    won: Decimal,
    target: Decimal | None,
    p: Period,
    pace: Period | None = None,
) -> Tile:
    """Won revenue against the target; the colour compares it with the share of time gone."""
    result = Attainment(target=target or Decimal("0"), won=won)
    share = percent(ratio(won, target)) if target else None
    pace = pace or p
    gone = max(0, min(params.today, pace.last).toordinal() - pace.start.toordinal() + 1)
    elapsed = Decimal(gone) / Decimal(pace.days)
    return Tile(
        key=key,
        label=label,
        value=money(result.won),
        url=params.with_period(p).drill("won-revenue"),
        detail=(
            _("%(pct)s of %(target)s target") % {"pct": pct(share), "target": money(target)}
            if target
            else _("No target set")
        ),
        tone=_tone(share, elapsed * 100) if target else "",
        progress=share,
    )


def _headline_tiles(
    params: DashboardParams,
    by_month: dict[date, Totals],
    current: Totals,
    targets: dict,
    month: Period,
    quarter: Period,
    ytd: Period,
    year: Period,
) -> list[Tile]:
    m = sum_totals(by_month, month)
    q = sum_totals(by_month, quarter)
    y = sum_totals(by_month, ytd)
    win = kpis.win_rate_from(current)
    cycle = kpis.negotiation_cycle_from(current)
    nps = kpis.nps_from(current)
    sla = kpis.complaint_sla_from(current)
    return [
        _attainment_tile(
            params, "month", _("Won this month"), m.won_amount, targets.get(("own", "month")), month
        ),
        _attainment_tile(
            params,
            "quarter",
            _("Won this quarter"),
            q.won_amount,
            targets.get(("own", "quarter")),
            quarter,
        ),
        _attainment_tile(
            params,
            "ytd",
            _("Won year to date"),
            y.won_amount,
            targets.get(("own", "year")),
            ytd,
            pace=year,
        ),
        Tile(
            key="win-rate",
            label=_("Win rate"),
            value=pct(win.percent),
            url=params.drill("win-rate"),
            detail=_("%(won)s won, %(lost)s lost") % {"won": win.won, "lost": win.lost},
        ),
        Tile(
            key="cycle",
            label=_("Negotiation cycle"),
            value=(
                _("%(days)s days") % {"days": cycle.average_days}
                if cycle.average_days is not None
                else "—"
            ),
            url=params.drill("negotiation-cycle"),
            detail=_("%(n)s contracts signed") % {"n": cycle.contracts},
        ),
        Tile(
            key="nps",
            label=_("NPS"),
            value="—" if nps.score is None else str(nps.score),
            url=params.drill("nps"),
            detail=_("%(n)s answers") % {"n": nps.responses},
            tone="" if nps.score is None else ("success" if nps.score >= 30 else "warning"),
        ),
        Tile(
            key="sla",
            label=_("Complaints answered in 24 h"),
            value=pct(sla.percent),
            url=params.drill("complaint-sla", part="missed"),
            detail=ratio_detail(sla.in_sla, sla.received),
            tone="" if sla.percent is None else ("success" if sla.percent >= 90 else "danger"),
        ),
    ]


# -------------------------------------------------------------------- sections
def _month_label(day: date) -> str:
    return f"{day:%Y-%m}"


def _revenue_section(
    params: DashboardParams, by_month: dict[date, Totals], targets: dict, year: Period
) -> Section:
    months = [
        Period.containing(PeriodKind.MONTH, date(year.start.year, n, 1)) for n in range(1, 13)
    ]
    won = [by_month.get(m.start, Totals()).won_amount for m in months]
    monthly_target = targets.get(("own", "year"))
    chart = Chart(
        key="revenue",
        title=_("Won revenue by month, %(year)s") % {"year": year.start.year},
        kind="bar",
        labels=[_month_label(m.start) for m in months],
        datasets=[{"label": _("Won revenue"), "data": won}]
        + (
            [
                {
                    "label": _("Target (a twelfth of the year's)"),
                    "data": [(monthly_target / 12).quantize(Decimal("1"))] * 12,
                    "type": "line",
                    "color": "#dc3545",
                    "pointRadius": 0,
                    "borderDash": [6, 4],
                }
            ]
            if monthly_target
            else []
        ),
        urls=[params.with_period(m).drill("won-revenue") for m in months],
        money=True,
    )
    return Section("revenue", _("Revenue against target"), [chart], width="col-12 col-xl-8")


def _regions_section(
    params: DashboardParams,
    by_team: dict[Any, Totals],
    names: dict[int, str],
    targets: dict,
    own_id: int | None,
) -> Section | None:
    if not by_team:
        return None
    kind = params.period.target_period
    rows = []
    for team_id, t in sorted(by_team.items(), key=lambda kv: -kv[1].won_amount):
        target = targets.get((team_id, kind)) if kind else None
        win = kpis.win_rate_from(t)
        team_params = (
            params.with_scope(kpis.Scope(ScopeKind.TEAM, team_id, names.get(team_id, "")))
            if team_id
            else params
        )
        label = names.get(team_id) or _("Not in a region")
        if team_id == own_id:
            label = _("%(team)s (directly)") % {"team": label}
        rows.append(
            [
                Link(
                    label,
                    reverse("reports:home", args=["director"]) + "?" + team_params.querystring(),
                )
                if team_id
                else label,
                Link(money(t.won_amount), team_params.drill("won-revenue")),
                money(target) if target else None,
                pct(percent(ratio(t.won_amount, target))) if target else None,
                Link(pct(win.percent), team_params.drill("win-rate")),
                count(t.deals_created),
            ]
        )
    table = Table(
        key="regions",
        title="",
        header=[
            _("Region or team"),
            _("Won revenue"),
            _("Target"),
            _("Attainment"),
            _("Win rate"),
            _("Deals created"),
        ],
        rows=rows,
        numeric=frozenset({1, 2, 3, 4, 5}),
    )
    return Section(
        "regions",
        _("By region, %(period)s") % {"period": params.period.label},
        [table],
        width="col-12 col-xl-4",
    )


def _forecast_horizon(today: date) -> Period:
    """This month and the next ``FORECAST_MONTHS - 1``: the months the forecast draws."""
    first = Period.containing(PeriodKind.MONTH, today)
    end = first.start
    for _i in range(FORECAST_MONTHS):
        end = Period.containing(PeriodKind.MONTH, end).end
    return Period.between(first.start, end)


def _funnel_section(params: DashboardParams, funnel: kpis.Funnel) -> Section:
    chart = Chart(
        key="funnel",
        title="",
        kind="bar",
        horizontal=True,
        labels=[s.name for s in funnel.stages],
        datasets=[{"label": _("Open amount"), "data": [s.amount for s in funnel.stages]}],
        urls=[params.drill("funnel", stage=s.stage_id) for s in funnel.stages],
        money=True,
        note=_("%(deals)s open deals, %(amount)s (weighted %(weighted)s)")
        % {
            "deals": count(funnel.deals),
            "amount": money(funnel.amount),
            "weighted": money(funnel.weighted_amount),
        },
    )
    return Section("funnel", _("Sales funnel today"), [chart])


def _trends_section(params: DashboardParams, by_month: dict[date, Totals], year: Period) -> Section:
    months = [m for m in sorted(by_month) if m <= params.today]
    win = [kpis.win_rate_from(by_month[m]).percent for m in months]
    cycle = [kpis.negotiation_cycle_from(by_month[m]).average_days for m in months]
    nps = [kpis.nps_from(by_month[m]).score for m in months]
    labels = [_month_label(m) for m in months]

    def month_urls(kpi: str) -> list[str]:
        return [
            params.with_period(Period.containing(PeriodKind.MONTH, m)).drill(kpi) for m in months
        ]

    return Section(
        "trends",
        _("Trends, %(year)s") % {"year": year.start.year},
        [
            Chart(
                key="win-rate-trend",
                title=_("Win rate by month"),
                kind="line",
                labels=labels,
                datasets=[{"label": _("Win rate"), "data": win}],
                urls=month_urls("win-rate"),
                percent=True,
                height=180,
            ),
            Chart(
                key="cycle-trend",
                title=_("Negotiation cycle by month (days)"),
                kind="line",
                labels=labels,
                datasets=[{"label": _("Days"), "data": cycle, "color": "#6f42c1"}],
                urls=month_urls("negotiation-cycle"),
                height=180,
            ),
            Chart(
                key="nps-trend",
                title=_("NPS by month"),
                kind="line",
                labels=labels,
                datasets=[{"label": _("NPS"), "data": nps, "color": "#198754"}],
                urls=month_urls("nps"),
                height=180,
            ),
        ],
    )


def _forecast_section(
    params: DashboardParams,
    by_month: dict[date, Totals],
    year: Period,
    horizon: Period,
    pipeline: kpis.WeightedPipeline,
) -> Section:
    today = params.today
    weighted = {m.month: m.weighted_amount for m in pipeline.months}
    months = []
    day = horizon.start
    while day < horizon.end:
        months.append(day)
        day = Period.containing(PeriodKind.MONTH, day).end
    # Run rate: the year's won revenue so far per elapsed day, projected over each month.
    elapsed_days = (today - year.start).days + 1
    won_so_far = sum((t.won_amount for m, t in by_month.items() if m <= today), Decimal("0"))
    per_day = won_so_far / elapsed_days if elapsed_days > 0 else Decimal("0")
    run_rate = [
        (per_day * Period.containing(PeriodKind.MONTH, m).days).quantize(Decimal("1"))
        for m in months
    ]
    chart = Chart(
        key="forecast",
        title="",
        kind="bar",
        labels=[_month_label(m) for m in months],
        datasets=[
            {"label": _("Weighted pipeline"), "data": [weighted.get(m, 0) for m in months]},
            {
                "label": _("Run-rate projection"),
                "data": run_rate,
                "type": "line",
                "color": "#fd7e14",
            },
        ],
        urls=[
            [params.with_period(horizon).drill("weighted-pipeline", month=m) for m in months],
            [],
        ],
        money=True,
        note=_(
            "Bars: open deals by expected close month × their probability. Line: this "
            "year's won revenue per day so far (%(per_day)s) times the month's days."
        )
        % {"per_day": money(per_day)},
    )
    total = Tile(
        key="forecast-total",
        label=_("Weighted pipeline, next %(n)s months") % {"n": FORECAST_MONTHS},
        value=money(pipeline.weighted_amount),
        url=params.with_period(horizon).drill("weighted-pipeline"),
        detail=_("of %(amount)s open") % {"amount": money(pipeline.amount)},
    )
    return Section("forecast", _("Forecast"), [total, chart])


def _accounts_section(params: DashboardParams) -> Section:
    rfm = kpis.rfm_distribution(params.scope, as_of=min(params.period.last, params.today))
    segments = rfm.segments
    names = list(kpis.RFM_SEGMENTS)
    doughnut = Chart(
        key="rfm",
        title=_("Clients by RFM segment"),
        kind="doughnut",
        labels=[str(kpis.RFM_SEGMENTS[s]) for s in names],
        datasets=[{"label": _("Clients"), "data": [segments.get(s, 0) for s in names]}],
        urls=[params.drill("rfm", segment=s) for s in names],
        height=220,
    )
    accounts = list(
        Client.objects.visible_to(params.viewer)
        .filter(is_key_account=True)
        .filter(client_in_scope(params.scope, params.today))
        .select_related("account_manager")
        .annotate(total=Window(Count("pk")))
        .order_by("-spend_12m", "pk")[:TOP_ACCOUNTS]
    )
    key_total = accounts[0].total if accounts else 0
    table = Table(
        key="key-accounts",
        title=_("Key accounts (%(n)s), by spend in the last 12 months") % {"n": count(key_total)},
        header=[_("Client"), _("Account manager"), _("Spend, 12 months"), _("RFM")],
        rows=[
            [
                Link(c.name, c.get_absolute_url()),
                str(c.account_manager) if c.account_manager_id else _("None"),
                money(c.spend_12m),
                c.rfm_segment_label if c.rfm_segment else None,
            ]
            for c in accounts
        ],
        numeric=frozenset({2}),
        more_url=reverse("clients:list") + "?key_account=true",
    )
    return Section("accounts", _("Key accounts and RFM segments"), [doughnut, table])


def _top_deals_section(params: DashboardParams) -> Section:
    # The ten first, then their client, owner and stage (joining 30,000 open deals
    # to their clients before sorting took 100 ms; this is one statement still).
    top = (
        Deal.objects.visible_to(params.viewer)
        .open()
        .filter(in_scope(params.scope, "owner", params.today))
        .order_by("-amount", "pk")
        .values("pk")[:TOP_DEALS]
    )
    deals = (
        Deal.objects.filter(pk__in=top)
        .select_related("client", "owner", "stage")
        .order_by("-amount", "pk")
    )
    table = Table(
        key="top-deals",
        title="",
        header=[_("Deal"), _("Client"), _("Owner"), _("Stage"), _("Expected close"), _("Amount")],
        rows=[
            [
                Link(d.title, d.get_absolute_url()),
                d.client.name,
                str(d.owner),
                d.stage.label,
                d.expected_close_date,
                f"{money(d.amount)}" if d.currency == "CNY" else f"{d.amount} {d.currency}",
            ]
            for d in deals
        ],
        numeric=frozenset({5}),
        more_url=reverse("pipeline:deal-list"),
    )
    return Section("top-deals", _("Top open deals"), [table])


def _risks_section(params: DashboardParams) -> Section:
    """Open risks on the likelihood × impact heat map (one GROUP BY); each cell lists its risks."""
    open_risks = Risk.objects.visible_to(params.viewer).filter(
        status__in=planning.OPEN_RISK_STATUSES
    )
    heat = planning.heat_map(open_risks)
    base = reverse("reports:risk-list")
    rows = [
        [
            _("Impact %(n)s") % {"n": row[0].impact},
            *[
                Link(count(cell.count), f"{base}?likelihood={cell.likelihood}&impact={cell.impact}")
                if cell.count
                else "·"
                for cell in row
            ],
        ]
        for row in heat
    ]
    total = sum(cell.count for row in heat for cell in row)
    table = Table(
        key="risks",
        title=_("%(n)s open risks: impact (rows) by likelihood (columns)") % {"n": count(total)},
        header=["", *[_("Likelihood %(n)s") % {"n": n} for n in range(1, 6)]],
        rows=rows,
        numeric=frozenset({1, 2, 3, 4, 5}),
    )
    return Section(
        "risks",
        _("Risk register"),
        [table],
        link=Link(_("Reviews overdue"), f"{base}?overdue=1"),
    )
