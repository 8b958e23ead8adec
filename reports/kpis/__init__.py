"""The KPI definitions of SPEC section 7 — one place for every number.

Dashboards, exports, the reports API (``/api/v1/reports/``), the rollups and
the targets pages all call these functions, so a number is computed one way
everywhere. Each is SQL (aggregates, filtered aggregates, window functions);
none loops over rows in Python. Everything here is importable from
``reports.kpis``.

Scope and period
================

``Scope`` — whose records count (``reports.kpis.scopes``):

- ``Scope.person(user)``: what one person owns;
- ``Scope.line(user)``: the person and everyone below them in the reporting tree;
- ``Scope.team(team)``: everyone in the team or a team below it;
- ``Scope.company()``: everyone.

Line and team scopes follow the tree **as it was on each day**
(``reports.kpis.tree`` rebuilds ``Placement`` rows from the people's and teams'
history): a rep who moved teams on the 15th counts for the old team up to the
14th and for the new one from then on. Each record counts on its own day — a
deal on its close date, an activity on its local start day — for its owner
(contracts: their owner; survey answers and cadence: the client's account
manager, else its owner).

For requests, ``resolve_scope(viewer, kind, id) -> Scope`` checks the viewer
may ask (the director anything; others their own line, the teams they lead and
below; support staff their region): another person or team reads as unknown
(``Http404``), the company's figures as ``PermissionDenied`` for anyone but the
director. ``scopes_for(viewer) -> list[Scope]`` lists the choices for a scope
picker; ``default_scope(viewer)`` is what a report shows first; ``may_view``
answers the question for a scope in hand.

``Period`` — local (Asia/Shanghai) days ``[start, end)`` (``reports.kpis.periods``):
``Period.containing(kind, day)`` for a ``"day"``, ``"week"`` (ISO, Monday),
``"month"``, ``"quarter"`` or ``"year"``; ``Period.custom(first, last)`` (both
days included); ``.previous()``, ``.label``, ``.days``, ``.workdays()``. A deal
closed or a call made at 23:30 in Shanghai on 31 January is January's.

Money is CNY (``settings.DEFAULT_CURRENCY``), as on the deal board and in the
client spend: the product keeps no exchange rates, so amounts in other
currencies are left out of sums and counted apart (``other_currency``).

Rollup-backed numbers
=====================

``totals(scope, period, *, source=Source.AUTO, today=None) -> Totals`` — every
daily measure at once (``facts.FACT_FIELDS``: activities by type, leads created
and converted, deals created, won and lost, won revenue, contracts signed and
their amounts, negotiation cycles, contracts ended and renewed, complaints
received and answered in time, survey answers). ``Source.AUTO`` reads past
days from the ``DailyFact`` rollup when all of them are rolled up and today
live (days to come hold nothing yet); ``LIVE`` reads the records; ``ROLLUP``
only the rollup. Then one number each — or ``*_from(totals)`` to read several
off one ``Totals`` (one query for a whole dashboard row):

- ``won_revenue(scope, period, *, source) -> WonRevenue`` (SPEC: won deals'
  amounts by close date); records: ``won_revenue_records(..., part="other_currency")``;
- ``win_rate(...) -> WinRate`` (won ÷ (won + lost) closed in the period);
  records: ``win_rate_records(..., part="won"|"lost")``;
- ``negotiation_cycle(...) -> NegotiationCycle`` (days from first entering
  negotiation to the contract's signature, new contracts signed in the period);
  records: ``negotiation_cycle_records`` (each annotated with ``cycle_days``);
- ``average_contract(...) -> AverageContract`` (contracts signed in the period);
- ``renewal_rate(...) -> RenewalRate`` (renewed ÷ ended, by end date);
  records: ``renewal_rate_records(..., part="renewed"|"not_renewed")``;
- ``nps(...) -> Nps``, ``csat(...) -> Csat`` (answers submitted in the period);
  records: ``nps_records(..., part="promoters"|"passives"|"detractors")``, ``csat_records``;
- ``complaint_sla(...) -> ComplaintSla`` (complaints received in the period
  answered by their SLA deadline); records: ``complaint_sla_records(..., part="in_sla"|"missed")``;
- ``activity_vs_targets(...) -> ActivityVsTargets`` (done calls, visits, demos
  against the people's targets); records: ``activity_records(..., part=type|"calls")``;
- ``target_attainment(...) -> Attainment`` (won revenue ÷ the target of the same
  scope and period); records: ``won_revenue_records``.

``breakdown(scope, period, *, by, source) -> dict[key, Totals]`` groups the
measures by ``"person"`` (user id), ``"team"`` (the teams under the scope's
team, as placed each day), or ``"day"``/``"week"``/``"month"``/``"quarter"``
(the bucket's first day) — leaderboards and trends in one query.
``one_reading()`` is a context manager for a page that reads several
periods: a period inside one already found rolled up is not checked again.
``won_revenue_many({key: (scope, period)}) -> {key: Decimal}`` sums won revenue
for many pairs in one query (the targets pages). ``fact_records(measure, ...)``
lists the records behind any one measure.

Live numbers
============

Computed from the records each time (a few tens of milliseconds for a team,
a few hundred for the whole company over a year); each has a ``*_records``
drill-down beside it:

- ``funnel(scope, *, as_of=None, source) -> Funnel`` — open deals by stage today
  (from the deals), or at the end of an earlier day (from the pipeline
  snapshot); records: ``funnel_records(scope, *, viewer, stage_id=None)``;
- ``pipeline_snapshot(scope, days, *, source) -> ({day: {stage_id: {...}}}, source)``
  — the pipeline at the end of several days (trends);
- ``stage_conversion(scope, period) -> StageConversion`` (``.bottleneck``);
  records: ``stage_conversion_records(scope, period, *, viewer, stage_id, part)``;
- ``visit_conversion(scope, period) -> VisitConversion`` (prospects — clients
  with no won deal before the visit — visited in the period, and how many
  have a won deal since); records: ``visit_conversion_records(..., part="converted")``;
- ``weighted_pipeline(scope, period) -> WeightedPipeline`` (open deals expected
  to close in the period, by month); ``funnel_and_pipeline(scope, period)``
  gives today's funnel and the weighted pipeline from one read of the deals;
- ``cadence_compliance(scope, *, as_of=None) -> CadenceCompliance``;
  records: ``cadence_records(scope, *, viewer, as_of=None, part=None)``;
- ``rfm_distribution(scope, *, as_of=None) -> RfmDistribution``; records:
  ``rfm_records(scope, *, viewer, as_of, recency, frequency, monetary, segment)``.

``renewal_counts(queryset, period)`` is the renewal rate of any contract
queryset (``pipeline.services.contracts.renewal_rate`` uses it);
``rfm_scores_sql(as_of)`` gives every client's R, F, M scores (for a scoring
job to store on the clients).

Drill-down
==========

Every ``*_records(scope, period, *, viewer, part=None, …)`` returns a queryset
of the records behind the number that ``viewer`` may see (it starts from
``Model.objects.visible_to(viewer)``); ``part`` picks a piece ("won"/"lost",
"promoters"/"detractors"/"passives", "in_sla"/"missed", an activity type or
"calls", "renewed"/"not_renewed", "converted", "on_cadence"/"overdue", …).
``reports.kpis.registry.KPIS`` maps each KPI's name to its compute function,
its records function and parts, and its table (translated header and rows) —
for generic callers: the API, exports (``salesorg.lib.export.export_table``)
and dashboards; ``registry.record_table_rows(queryset)`` lists records as a table.

Results
=======

Frozen dataclasses in ``reports.kpis.results`` carrying the counts behind each
ratio (``WinRate(won=13, lost=7).rate == Decimal("0.6500")``, ``.percent ==
Decimal("65.0")``); a ratio with nothing to divide by is ``None``.
``as_plain(result)`` turns any of them into JSON-friendly data. Rollup-backed
results carry ``source`` ("rollup", "live" or "rollup+live").
"""

from reports.kpis.definitions import (
    BREAKDOWNS,
    RFM_SEGMENTS,
    Source,
    activity_records,
    activity_vs_targets,
    average_contract,
    average_contract_from,
    average_contract_records,
    breakdown,
    breakdown_by_team_and_month,
    cadence_compliance,
    cadence_records,
    complaint_sla,
    complaint_sla_from,
    complaint_sla_records,
    csat,
    csat_from,
    csat_records,
    fact_records,
    funnel,
    funnel_and_pipeline,
    funnel_records,
    negotiation_cycle,
    negotiation_cycle_from,
    negotiation_cycle_records,
    nps,
    nps_from,
    nps_records,
    one_reading,
    pipeline_snapshot,
    renewal_counts,
    renewal_rate,
    renewal_rate_from,
    renewal_rate_records,
    rfm_distribution,
    rfm_records,
    rfm_scores_sql,
    rfm_segment,
    rolled_up,
    stage_conversion,
    stage_conversion_records,
    target_attainment,
    target_for,
    totals,
    visit_conversion,
    visit_conversion_records,
    weighted_pipeline,
    weighted_pipeline_records,
    win_rate,
    win_rate_from,
    win_rate_records,
    won_revenue,
    won_revenue_from,
    won_revenue_many,
    won_revenue_records,
)
from reports.kpis.facts import FACT_FIELDS, Totals
from reports.kpis.periods import Period, PeriodKind
from reports.kpis.results import (
    ActivityVsTargets,
    Attainment,
    AverageContract,
    CadenceCompliance,
    ComplaintSla,
    Csat,
    Funnel,
    FunnelStage,
    NegotiationCycle,
    Nps,
    PipelineMonth,
    RenewalRate,
    RfmCell,
    RfmDistribution,
    StageConversion,
    StageStep,
    VisitConversion,
    WeightedPipeline,
    WinRate,
    WonRevenue,
    as_plain,
)
from reports.kpis.scopes import (
    Scope,
    ScopeKind,
    default_scope,
    in_scope,
    may_view,
    resolve_scope,
    scopes_for,
)

__all__ = [
    "BREAKDOWNS",
    "FACT_FIELDS",
    "RFM_SEGMENTS",
    "ActivityVsTargets",
    "Attainment",
    "AverageContract",
    "CadenceCompliance",
    "ComplaintSla",
    "Csat",
    "Funnel",
    "FunnelStage",
    "NegotiationCycle",
    "Nps",
    "Period",
    "PeriodKind",
    "PipelineMonth",
    "RenewalRate",
    "RfmCell",
    "RfmDistribution",
    "Scope",
    "ScopeKind",
    "Source",
    "StageConversion",
    "StageStep",
    "Totals",
    "VisitConversion",
    "WeightedPipeline",
    "WinRate",
    "WonRevenue",
    "activity_records",
    "activity_vs_targets",
    "as_plain",
    "average_contract",
    "average_contract_from",
    "average_contract_records",
    "breakdown",
    "breakdown_by_team_and_month",
    "cadence_compliance",
    "cadence_records",
    "complaint_sla",
    "complaint_sla_from",
    "complaint_sla_records",
    "csat",
    "csat_from",
    "csat_records",
    "default_scope",
    "fact_records",
    "funnel",
    "funnel_and_pipeline",
    "funnel_records",
    "in_scope",
    "may_view",
    "negotiation_cycle",
    "negotiation_cycle_from",
    "negotiation_cycle_records",
    "nps",
    "nps_from",
    "nps_records",
    "one_reading",
    "pipeline_snapshot",
    "renewal_counts",
    "renewal_rate",
    "renewal_rate_from",
    "renewal_rate_records",
    "resolve_scope",
    "rfm_distribution",
    "rfm_records",
    "rfm_scores_sql",
    "rfm_segment",
    "rolled_up",
    "scopes_for",
    "stage_conversion",
    "stage_conversion_records",
    "target_attainment",
    "target_for",
    "totals",
    "visit_conversion",
    "visit_conversion_records",
    "weighted_pipeline",
    "weighted_pipeline_records",
    "win_rate",
    "win_rate_from",
    "win_rate_records",
    "won_revenue",
    "won_revenue_from",
    "won_revenue_many",
    "won_revenue_records",
]
