"""The account manager's dashboard: my accounts, their renewals, complaints and NPS,
where to sell more, and my pipeline against my target (SPEC: account manager duties).

Every number comes from ``reports.kpis`` for the page's scope (by default the
team the viewer leads, else their line) and period; the lists come from
``account_manager_data``. The page stays within 15 SQL queries (a few of them
are the page's frame: the user, the viewer's visibility, the scope picker):
one ``breakdown`` by day (the rollup for past days, today live) gives both
the period's figures (NPS, won revenue for attainment) and the twelve-month
NPS trend; the funnel is two queries, the revenue target one (none for a
line, which has no target); the four lists and cadence compliance are one
query (``account_manager_data.fetch``), plus the two the visibility rules
read first (the viewer's client grants, the clients they manage).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients.models import RFM_SEGMENT_LABELS, Cadence, ComplaintStatus, Severity
from reports import kpis
from reports.dashboards import account_manager_data as data
from reports.dashboards.common import attainment_tone, cadence_chart, sum_totals
from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import (
    Badge,
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
from reports.kpis import Period, ScopeKind, Totals

#: Months in the NPS trend.
TREND_MONTHS = 12


# ------------------------------------------------------------------ the figures
def trend_months(params: DashboardParams) -> list[date]:
    """The first days of the twelve months ending with the period's last month."""
    month = Period.containing("month", params.period.last).start
    months = [month]
    for _i in range(TREND_MONTHS - 1):
        months.append(Period.containing("month", months[-1] - timedelta(days=1)).start)
    return sorted(months)


def figures(params: DashboardParams) -> tuple[Totals, dict[date, Totals]]:
    """The period's totals and the trend's months, from one ``kpis.breakdown`` by month.

    A period of whole months inside the trend (a month, a quarter, the year:
    the picker's usual choices) is the sum of its months — exactly
    ``kpis.totals`` for it, from the same daily facts; a week or a custom range
    asks ``kpis.totals`` itself. Past days come from the rollup (a year of a
    line's activities, live, took half a second at 1,000,000 activities), summed
    by month in the database, today live.
    """
    months = trend_months(params)
    window = Period.between(months[0], Period.containing("month", months[-1]).end)
    by_month = kpis.breakdown(params.scope, window, by="month")
    empty = Totals.from_row({}, "live")
    trend = {m: by_month.get(m, empty) for m in months}
    period = params.period
    whole_months = period.start.day == 1 and period.end.day == 1
    if whole_months and window.start <= period.start and period.end <= window.end:
        return sum_totals(trend, period), trend
    return kpis.totals(params.scope, period), trend


# ------------------------------------------------------------------- helpers
def _client_link(client_id: int | None, name: str) -> Link | str:
    if not client_id:
        return name
    return Link(name, reverse("clients:detail", args=[client_id]))


def _day(value: date | None) -> str:
    return date_format(value, "Y-m-d") if value else "—"


def _self_scope(params: DashboardParams) -> bool:
    """Whether the figures are the viewer's own (then "see all" opens "my" lists)."""
    return params.scope.kind == ScopeKind.PERSON and params.scope.id == params.viewer.pk


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# ------------------------------------------------------------------- sections
def _visits_section(
    params: DashboardParams, cadence: kpis.CadenceCompliance, lists: data.Lists
) -> Section:
    rows = []
    for c in lists.visits:
        due = data.as_date(c["due"])
        badge = (
            Badge(_("Overdue"), "danger")
            if not c["on_cadence"]
            else Badge(_("Due this week"), "warning")
        )
        rows.append(
            [
                _client_link(c["id"], c["name"]),
                _label(Cadence, c["cadence"]),
                _day(data.as_date(c["last_visit"])),
                _day(due),
                badge,
            ]
        )
    chart = cadence_chart(params, cadence, height=180)
    return Section(
        key="visits",
        title=_("My accounts: visit cadence"),
        note=_(
            "%(overdue)s overdue, %(week)s more due this week. On cadence means visited "
            "within the account's interval (last done visit); the next visit due is the "
            "date the client page shows."
        )
        % {
            "overdue": count(cadence.overdue),
            "week": count(lists.counts["visits_due_this_week"]),
        },
        widgets=[
            chart,
            Table(
                key="visits",
                title=_("Accounts to visit"),
                header=[
                    _("Client"),
                    _("Visit cadence"),
                    _("Last visit"),
                    _("Next visit due"),
                    _("Status"),
                ],
                rows=rows,
                empty=_("Every account is on cadence and nothing is due this week."),
                more_url=params.drill("cadence-compliance", part="overdue"),
            ),
        ],
        link=Link(
            _("Visit cadence page"),
            f"{reverse('pipeline:cadence')}?status=overdue"
            + ("" if _self_scope(params) else "&who=all"),
        ),
    )


def _renewals_section(params: DashboardParams, lists: data.Lists) -> Section:
    n = lists.counts
    rows = [
        [
            Link(c["number"], reverse("pipeline:contract-detail", args=[c["id"]])),
            _client_link(c["client_id"], c["client"]),
            _day(data.as_date(c["end"])),
            money(data.as_amount(c["amount"]))
            if c["currency"] == "CNY"
            else f"{c['currency']} {data.as_amount(c['amount'])}",
            Badge(_("Renewal started"), "success") if c["started"] else Badge(_("Not started")),
        ]
        for c in lists.renewals
    ]
    renewals_url = _renewals_url(params)
    return Section(
        key="renewals",
        title=_("Renewals due"),
        note=_(
            "Running contracts ending within 30 days: %(d30)s; 60 days: %(d60)s; 90 days: %(d90)s."
        )
        % {
            "d30": count(n["renewals_30"]),
            "d60": count(n["renewals_60"]),
            "d90": count(n["renewals_90"]),
        },
        widgets=[
            Table(
                key="renewals",
                title="",
                header=[_("Contract"), _("Client"), _("Ends"), _("Amount"), _("Renewal")],
                rows=rows,
                numeric=frozenset({3}),
                empty=_("No contract ends in the next 90 days."),
                more_url=renewals_url,
            )
        ],
        link=Link(_("Renewals page"), renewals_url),
    )


def _renewals_url(params: DashboardParams) -> str:
    """The renewals page, 90 days ahead (only the viewer's own when the scope is them)."""
    url = f"{reverse('pipeline:renewal-list')}?ending=90"
    return url + "&mine=1" if _self_scope(params) else url


def _complaints_url(params: DashboardParams) -> str:
    tab = "mine" if _self_scope(params) else "all"
    return f"{reverse('clients:complaint-list')}?tab={tab}&status=active"


def _complaints_section(params: DashboardParams, lists: data.Lists) -> Section:
    rows = []
    for c in lists.complaints:
        due = data.as_moment(c["due"])
        status = (
            Badge(_("Overdue"), "danger")
            if c["overdue"]
            else Badge(_label(ComplaintStatus, c["status"]), "secondary")
        )
        rows.append(
            [
                Link(c["subject"], reverse("clients:complaint-detail", args=[c["id"]])),
                _client_link(c["client_id"], c["client"]),
                _label(Severity, c["severity"]),
                date_format(due, "Y-m-d H:i") if due else "—",
                status,
            ]
        )
    return Section(
        key="complaints",
        title=_("Open complaints on my accounts"),
        note=_("%(open)s open, %(overdue)s waiting for a first response past their deadline.")
        % {
            "open": count(lists.counts["complaints_open"]),
            "overdue": count(lists.counts["complaints_overdue"]),
        },
        widgets=[
            Table(
                key="complaints",
                title="",
                header=[
                    _("Complaint"),
                    _("Client"),
                    _("Severity"),
                    _("First response due"),
                    _("Status"),
                ],
                rows=rows,
                empty=_("No open complaint on these accounts."),
                more_url=_complaints_url(params),
            )
        ],
    )


def _nps_section(params: DashboardParams, nps: kpis.Nps, trend: dict[date, Totals]) -> Section:
    months = list(trend)
    scores = [kpis.nps_from(t).score for t in trend.values()]
    month_urls = [params.with_period(Period.containing("month", m)).drill("nps") for m in months]
    parts = Chart(
        key="nps-parts",
        title=_("Answers in the period"),
        kind="bar",
        labels=[_("Promoters"), _("Passives"), _("Detractors")],
        datasets=[
            {
                "label": _("Answers"),
                "data": [nps.promoters, nps.passives, nps.detractors],
                "backgroundColor": ["#198754", "#adb5bd", "#dc3545"],
            }
        ],
        urls=[
            params.drill("nps", part="promoters"),
            params.drill("nps", part="passives"),
            params.drill("nps", part="detractors"),
        ],
        height=180,
    )
    line = Chart(
        key="nps-trend",
        title=_("NPS by month"),
        kind="line",
        labels=[date_format(m, "Y-m") for m in months],
        datasets=[{"label": _("NPS"), "data": scores, "spanGaps": True}],
        urls=month_urls,
        note=_("A month without answers has no score."),
        height=200,
    )
    return Section(
        key="nps",
        title=_("NPS of my accounts"),
        note=ngettext(
            "NPS %(score)s from %(n)s answer in the period.",
            "NPS %(score)s from %(n)s answers in the period.",
            nps.responses,
        )
        % {"score": _score(nps.score), "n": count(nps.responses)},
        widgets=[line, parts],
    )


def _score(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:+.0f}"


def _upsell_section(params: DashboardParams, lists: data.Lists) -> Section:
    rows = [
        [
            _client_link(c["id"], c["name"]),
            Badge(_("Key account"), "primary") if c["key"] else "",
            money(data.as_amount(c["spend"])),
            _day(data.as_date(c["last_won"])),
            str(RFM_SEGMENT_LABELS.get(c["segment"], c["segment"])) if c["segment"] else "—",
        ]
        for c in lists.upsell
    ]
    return Section(
        key="upsell",
        title=_("Up-sell and cross-sell opportunities"),
        note=_(
            "Active accounts that won a deal in the last 12 months and have no deal open "
            "now: they are buying and nobody is offering them anything. Ranked by their "
            "spend over the last 12 months; %(n)s in all."
        )
        % {"n": count(lists.counts["upsell"])},
        widgets=[
            Table(
                key="upsell",
                title="",
                header=[
                    _("Client"),
                    _("Key account"),
                    _("Spend, last 12 months"),
                    _("Last won deal"),
                    _("RFM segment"),
                ],
                rows=rows,
                numeric=frozenset({2}),
                empty=_("No account without an open deal bought in the last 12 months."),
            )
        ],
    )


def _pipeline_section(params: DashboardParams, funnel: kpis.Funnel) -> Section:
    stages = list(funnel.stages)
    chart = Chart(
        key="funnel",
        title=_("Open deals by stage"),
        kind="bar",
        labels=[s.name for s in stages],
        datasets=[
            {"label": _("Amount (CNY)"), "data": [s.amount for s in stages]},
            {"label": _("Weighted amount (CNY)"), "data": [s.weighted_amount for s in stages]},
        ],
        urls=[params.drill("funnel", stage=s.stage_id) for s in stages],
        money=True,
        horizontal=True,
    )
    table = Table(
        key="pipeline",
        title="",
        header=[_("Stage"), _("Open deals"), _("Amount (CNY)"), _("Weighted amount (CNY)")],
        rows=[
            [
                Link(s.name, params.drill("funnel", stage=s.stage_id)),
                count(s.deals),
                money(s.amount),
                money(s.weighted_amount),
            ]
            for s in stages
        ],
        numeric=frozenset({1, 2, 3}),
    )
    return Section(
        key="pipeline",
        title=_("My pipeline"),
        note=ngettext(
            "%(deals)s open deal, %(amount)s; weighted by probability %(weighted)s.",
            "%(deals)s open deals, %(amount)s; weighted by probability %(weighted)s.",
            funnel.deals,
        )
        % {
            "deals": count(funnel.deals),
            "amount": money(funnel.amount),
            "weighted": money(funnel.weighted_amount),
        },
        widgets=[chart, table],
        link=Link(_("Deal board"), reverse("pipeline:deal-board")),
    )


# --------------------------------------------------------------------- build
def build(params: DashboardParams) -> Dashboard:
    """Tiles (attainment, cadence, overdue visits, renewals, complaints, NPS), then sections."""
    period_totals, trend = figures(params)
    won = kpis.won_revenue_from(period_totals)
    attainment = kpis.target_attainment(params.scope, params.period, won=won)
    nps = kpis.nps_from(period_totals)
    funnel = kpis.funnel(params.scope, today=params.today)
    lists = data.fetch(params, cadence_as_of=min(params.today, params.period.last))
    cadence = lists.cadence or kpis.CadenceCompliance(as_of=params.today)

    if attainment.target:
        attainment_detail = _("%(won)s of %(target)s") % {
            "won": money(attainment.won),
            "target": money(attainment.target),
        }
    else:
        attainment_detail = _("%(won)s won; no revenue target for this scope") % {
            "won": money(won.amount)
        }
    overdue_complaints = lists.counts["complaints_overdue"]
    tiles = [
        Tile(
            key="attainment",
            label=_("Target attainment"),
            value=pct(attainment.percent),
            url=params.drill("attainment"),
            detail=attainment_detail,
            progress=attainment.percent,
            tone=attainment_tone(attainment.percent),
        ),
        Tile(
            key="cadence",
            label=_("Cadence compliance"),
            value=pct(cadence.percent),
            url=params.drill("cadence-compliance"),
            detail=ratio_detail(cadence.on_cadence, cadence.clients),
            progress=cadence.percent,
        ),
        Tile(
            key="visits-overdue",
            label=_("Visits overdue"),
            value=count(cadence.overdue),
            url=params.drill("cadence-compliance", part="overdue"),
            detail=_("%(n)s more due this week")
            % {"n": count(lists.counts["visits_due_this_week"])},
            tone="danger" if cadence.overdue else "",
        ),
        Tile(
            key="renewals",
            label=_("Renewals due in 90 days"),
            value=count(lists.counts["renewals_90"]),
            url=_renewals_url(params),
            detail=_("%(n)s within 30 days") % {"n": count(lists.counts["renewals_30"])},
            tone="warning" if lists.counts["renewals_30"] else "",
        ),
        Tile(
            key="complaints",
            label=_("Open complaints"),
            value=count(lists.counts["complaints_open"]),
            url=_complaints_url(params),
            detail=_("%(n)s overdue") % {"n": count(overdue_complaints)},
            tone="danger" if overdue_complaints else "",
        ),
        Tile(
            key="nps",
            label=_("NPS"),
            value=_score(nps.score),
            url=params.drill("nps"),
            detail=ngettext("%(n)s answer", "%(n)s answers", nps.responses)
            % {"n": count(nps.responses)},
        ),
    ]
    return Dashboard(
        role="account_manager",
        title=_("Dashboard"),
        tiles=tiles,
        sections=[
            _visits_section(params, cadence, lists),
            _renewals_section(params, lists),
            _complaints_section(params, lists),
            _nps_section(params, nps, trend),
            _upsell_section(params, lists),
            _pipeline_section(params, funnel),
        ],
    )
