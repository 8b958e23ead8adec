"""The rep's dashboard: today's plan, the day's and the week's activity against the
targets, my leads and deals, my conversion and attainment, my weekly report.

A rep opens it on a phone between calls (it opens on the current week,
``views.DEFAULT_PERIODS``), so the page is narrow-friendly tiles and short
tables, and cheap: every KPI number comes from ``reports.kpis`` and the whole
page stays within 15 SQL queries (about 8 are the page's own: session, user,
permissions, visibility, scope picker). What this module adds, with the
viewer themselves (the default scope of someone nobody reports to) or their line:

1. one ``breakdown(by="day")`` over the period, today and the attainment
   month together (past days from the rollup, today live) — the period's,
   today's and the month's ``Totals`` are sums of its days;
2. ``activity_vs_targets`` for today (3.) and for the period (4.), each
   given the counted ``Totals`` so only the targets are read;
5. ``target_for`` inside ``target_attainment`` (won revenue passed in);
6. and 7. ``funnel`` (the open stages, the open deals by stage);
8. today's planned activities, open leads by status and the weekly report's
   status, in one query (``rep_data.rep_lists``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.dashboards import rep_data
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
from reports.kpis import (
    ActivityVsTargets,
    Attainment,
    Period,
    PeriodKind,
    Scope,
    ScopeKind,
    Totals,
    activity_vs_targets,
    breakdown,
    funnel,
    target_attainment,
    win_rate_from,
    won_revenue_from,
)
from reports.kpis.results import percent, ratio

#: The periods the rep's picker offers (a day too: "how did today go").
PERIOD_KINDS = ("day", "week", "month", "quarter", "year", "custom")


# ------------------------------------------------------------------ the figures
def attainment_period(params: DashboardParams) -> Period:
    """The period targets exist for: the chosen one if it is a month, quarter or
    year, else the month the period (up to today) ends in."""
    if params.period.target_period is not None:
        return params.period
    return Period.containing(PeriodKind.MONTH, min(params.period.last, params.today))


def target_scope(params: DashboardParams) -> Scope:
    """The scope ``activity_vs_targets`` reads the activity targets of.

    When the scope is the viewer's line and the line is the viewer alone today
    (a rep with nobody below, the usual case), the person: the same members
    and targets, without the look-up of the line's members (one query of the
    page's 15). A line with people below stays the line (their targets add up).
    The activities counted are always the scope's (passed in as ``counted``).
    """
    scope = params.scope
    if scope.kind != ScopeKind.LINE:
        return scope
    alone = scope.id == params.viewer.pk and params.viewer.visibility_scope.user_ids == {
        params.viewer.pk
    }
    return Scope(ScopeKind.PERSON, scope.id, scope.label) if alone else scope


def revenue_target_scope(params: DashboardParams) -> Scope:
    """Whose revenue target the attainment reads: a line's head's (a line has
    none of its own; its won revenue is measured against it), else the scope's."""
    scope = params.scope
    if scope.kind == ScopeKind.LINE:
        return Scope(ScopeKind.PERSON, scope.id, scope.label)
    return scope


def _span(*periods: Period) -> Period:
    return Period.between(min(p.start for p in periods), max(p.end for p in periods))


# ---------------------------------------------------------------------- links
def _person_id(params: DashboardParams) -> int | None:
    """The one person a person or line scope is about (None for a team)."""
    if params.scope.kind in (ScopeKind.PERSON, ScopeKind.LINE):
        return params.scope.id
    return None


def _list_url(name: str, params: DashboardParams, **filters: object) -> str:
    """An app list page filtered to the scope's person (for a person scope) and ``filters``."""
    values = {k: v for k, v in filters.items() if v not in (None, "")}
    if params.scope.kind == ScopeKind.PERSON:
        values["owner"] = params.scope.id
    return f"{reverse(name)}?{urlencode(values)}" if values else reverse(name)


# ---------------------------------------------------------------------- tiles
def _activity_tile(
    key: str, label: str, kind: str, done: ActivityVsTargets, url: str, period_label: str
) -> Tile:
    expected = getattr(done, f"expected_{kind}")
    share = done.attainment(kind)
    progress = percent(share)
    if expected is None:
        detail = _("No target set") + f" · {period_label}"
    else:
        detail = _("target %(n)s") % {"n": count(expected)} + f" · {period_label}"
    tone = ""
    if progress is not None:
        tone = "success" if progress >= 100 else ("warning" if progress < 50 else "")
    return Tile(
        key=key,
        label=label,
        value=count(getattr(done, kind)),
        url=url,
        detail=detail,
        tone=tone,
        progress=progress,
    )


def _attainment_tile(att: Attainment, params: DashboardParams, period: Period) -> Tile:
    drill = params.with_period(period)
    if att.percent is None:
        detail = _("No revenue target for %(period)s") % {"period": period.label}
    else:
        detail = _("%(won)s of %(target)s · %(period)s") % {
            "won": money(att.won),
            "target": money(att.target),
            "period": period.label,
        }
    tone = ""
    if att.percent is not None:
        tone = "success" if att.percent >= 100 else ""
    return Tile(
        key="attainment",
        label=_("Target attainment"),
        value=pct(att.percent),
        url=drill.drill("attainment"),
        detail=detail,
        tone=tone,
        progress=att.percent,
    )


#: The colour of each state of the weekly report ("missing" only once it is due).
REPORT_TONES = {
    "missing": "danger",
    "draft": "warning",
    "submitted": "success",
    "commented": "info",
}


def _report_label(state: str) -> str:
    labels = {
        "missing": _("Not started"),
        "draft": _("Draft"),
        "submitted": _("Submitted"),
        "commented": _("Commented"),
    }
    return labels[state]


def _report_tile(report: rep_data.ReportStatus, params: DashboardParams) -> Tile:
    if report.report_id is not None and report.owner_id != params.viewer.pk:
        url = reverse("reports:weekly-report-detail", args=[report.report_id])
    else:
        url = f"{reverse('reports:weekly-report')}?week={report.week_label}"
    detail = report.week_label
    if report.comments:
        detail += " · " + ngettext("%(n)s comment", "%(n)s comments", report.comments) % {
            "n": count(report.comments)
        }
    tone = REPORT_TONES[report.state]
    if report.state == "missing" and not report.overdue:
        tone = ""
    return Tile(
        key="weekly-report",
        label=_("Weekly report"),
        value=_report_label(report.state),
        url=url,
        detail=detail,
        tone=tone,
    )


# --------------------------------------------------------------------- sections
def _plan_section(rows: list[rep_data.PlanRow], params: DashboardParams) -> Section:
    quick = reverse("pipeline:activity-quick")
    table_rows = []
    for row in rows:
        log_url = quick
        if row.client_id and row.type in ("call", "visit"):
            log_url = f"{quick}?{urlencode({'type': row.type, 'client': row.client_id})}"
        elif row.client_id:
            log_url = f"{quick}?{urlencode({'client': row.client_id})}"
        table_rows.append(
            [
                f"{row.start:%H:%M}",
                row.type_label,
                Link(row.subject, reverse("pipeline:activity-detail", args=[row.pk])),
                Link(row.with_name, row.with_url) if row.with_url else row.with_name,
                Link(_("Log"), log_url),
            ]
        )
    today = params.today.isoformat()
    table = Table(
        key="plan",
        title="",
        header=[_("Time"), _("Type"), _("Activity"), _("With"), ""],
        rows=table_rows,
        empty=_("Nothing planned for today."),
        more_url=_list_url(
            "pipeline:activity-list", params, status="planned", **{"from": today, "to": today}
        )
        if len(rows) >= rep_data.PLAN_LIMIT
        else "",
    )
    return Section(
        key="plan",
        title=_("Today's plan"),
        widgets=[table],
        link=Link(_("Log a call or visit"), quick),
    )


def _activity_table(done: ActivityVsTargets, params: DashboardParams) -> Table:
    rows = []
    for kind, part, label in (
        ("calls", "calls", _("Calls")),
        ("visits", "visit", _("Visits")),
        ("demos", "demo", _("Demos")),
    ):
        expected = getattr(done, f"expected_{kind}")
        rows.append(
            [
                Link(label, params.drill("activities", part=part)),
                getattr(done, kind),
                "" if expected is None else expected,
                pct(percent(done.attainment(kind))),
            ]
        )
    return Table(
        key="activities",
        title=_("Activities against the targets, %(period)s") % {"period": params.period.label},
        header=[_("Activity"), _("Done"), _("Target"), _("Attainment")],
        rows=rows,
        numeric=frozenset({1, 2, 3}),
    )


def _leads_section(leads: dict[str, int], params: DashboardParams) -> Section:
    rows = [
        [
            Link(label, _list_url("pipeline:lead-list", params, status=status)),
            leads.get(status, 0),
        ]
        for status, label in rep_data.open_lead_statuses()
    ]
    table = Table(
        key="leads",
        title="",
        header=[_("Status"), _("Open leads")],
        rows=rows if any(leads.values()) else [],
        empty=_("No open leads."),
        numeric=frozenset({1}),
    )
    return Section(
        key="leads",
        title=_("My leads"),
        widgets=[table],
        width="col-12 col-md-6 col-xl-4",
        link=Link(_("All leads"), _list_url("pipeline:lead-list", params)),
    )


def _deals_section(params: DashboardParams) -> Section:
    result = funnel(params.scope, today=params.today)
    stages = list(result.stages)
    drill = params.with_period(Period.containing(PeriodKind.DAY, params.today))
    urls = [drill.drill("funnel", stage=s.stage_id, as_of=params.today) for s in stages]
    chart = Chart(
        key="deals-by-stage",
        title=_("Open deals by stage"),
        kind="bar",
        labels=[s.name for s in stages],
        datasets=[{"label": _("Open deals"), "data": [s.deals for s in stages]}],
        urls=urls,
        height=220,
    )
    table = Table(
        key="deals",
        title="",
        header=[_("Stage"), _("Open deals"), _("Amount"), _("Weighted amount")],
        rows=[
            [Link(s.name, url), s.deals, money(s.amount), money(s.weighted_amount)]
            for s, url in zip(stages, urls, strict=True)
            if s.deals
        ],
        empty=_("No open deals."),
        numeric=frozenset({1, 2, 3}),
    )
    return Section(
        key="deals",
        title=_("My deals by stage"),
        widgets=[chart, table],
        width="col-12 col-md-6 col-xl-4",
        note=_("Open deals today: %(n)s, %(amount)s")
        % {"n": count(result.deals), "amount": money(result.amount)},
        link=Link(_("Deal board"), reverse("pipeline:deal-board")),
    )


# ------------------------------------------------------------------------ build
def build(params: DashboardParams) -> Dashboard:
    """The rep's dashboard for ``params`` (scope, period) — see the module docstring."""
    scope, period, today = params.scope, params.period, params.today
    day = Period.containing(PeriodKind.DAY, today)
    show_today = params.is_current and period != day
    att_period = attainment_period(params)
    span = _span(period, att_period, *([day] if show_today else []))
    days = breakdown(scope, span, by="day", today=today)  # rollup for past days, today live
    in_period = sum_totals(days, period)
    targets_of = target_scope(params)

    tiles: list[Tile] = []
    period_done = activity_vs_targets(targets_of, period, today=today, counted=in_period)
    if show_today:
        today_done = activity_vs_targets(
            targets_of, day, today=today, counted=days.get(today, Totals())
        )
        today_params = params.with_period(day)
        tiles.append(
            _activity_tile(
                "calls-today",
                _("Calls today"),
                "calls",
                today_done,
                today_params.drill("activities", part="calls"),
                _("today"),
            )
        )
    else:
        tiles.append(
            _activity_tile(
                "calls",
                _("Calls"),
                "calls",
                period_done,
                params.drill("activities", part="calls"),
                period.label,
            )
        )
    tiles.append(
        _activity_tile(
            "visits",
            _("Visits this week")
            if period.kind == PeriodKind.WEEK and params.is_current
            else _("Visits"),
            "visits",
            period_done,
            params.drill("activities", part="visit"),
            period.label,
        )
    )

    converted = ratio(in_period.leads_converted, in_period.leads_created)
    tiles.append(
        Tile(
            key="lead-conversion",
            label=_("Lead conversion"),
            value=pct(percent(converted)),
            url=_list_url("pipeline:lead-list", params, status="converted"),
            detail=ratio_detail(in_period.leads_converted, in_period.leads_created)
            + f" · {period.label}",
        )
    )
    wins = win_rate_from(in_period)
    tiles.append(
        Tile(
            key="win-rate",
            label=_("Win rate"),
            value=pct(wins.percent),
            url=params.drill("win-rate"),
            detail=ratio_detail(wins.won, wins.closed) + f" · {period.label}",
        )
    )
    won = won_revenue_from(sum_totals(days, att_period))
    att = target_attainment(revenue_target_scope(params), att_period, won=won)
    tiles.append(_attainment_tile(att, params, att_period))

    lists = rep_data.rep_lists(params)
    if lists.report is not None:
        tiles.append(_report_tile(lists.report, params))

    sections = [
        _plan_section(lists.plan, params),
        _deals_section(params),
        _leads_section(lists.leads, params),
        Section(
            key="activity",
            title=_("My activity"),
            widgets=[_activity_table(period_done, params)],
            width="col-12 col-md-6 col-xl-4",
            link=Link(_("Calendar"), reverse("pipeline:activity-calendar")),
        ),
    ]
    return Dashboard(
        role="rep",
        title=_("Dashboard"),
        tiles=tiles,
        sections=sections,
        period_kinds=PERIOD_KINDS,
    )
