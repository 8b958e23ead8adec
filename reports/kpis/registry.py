"""Every KPI by name, for generic callers: the reports API, exports, dashboards.

``KPIS[name]`` is a ``Kpi``: how to compute it for a scope and period
(``compute``), the records behind it (``records``, visibility-scoped, with
the ``parts`` it can be split into) and its table (``table``: translated
header and rows, for CSV/XLSX downloads). ``record_table`` turns a drill-down
queryset into a table of the records, one query however many rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.kpis import definitions as d
from reports.kpis.facts import Totals
from reports.kpis.periods import Period
from reports.kpis.scopes import Scope

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Options:
    """What a caller may add to scope and period (all optional)."""

    source: str = d.Source.AUTO
    as_of: date | None = None
    part: str | None = None
    stage: int | None = None
    month: date | None = None
    recency: int | None = None
    frequency: int | None = None
    monetary: int | None = None
    segment: str | None = None
    by: str = "month"
    today: date | None = None

    def as_of_for(self, period: Period) -> date:
        """The day a state-at-a-moment KPI is read at: ``as_of``, else the period's end."""
        today = self.today or timezone.localdate()
        return self.as_of or min(period.last, today)


Rows = list[list[Any]]


@dataclass(frozen=True)
class Kpi:
    name: str
    compute: Callable[[Scope, Period, Options], Any]
    table: Callable[[Any], tuple[list[str], Rows]]
    records: Callable[[Scope, Period, User, Options], models.QuerySet[Any]] | None = None
    parts: tuple[str, ...] = ()
    options: tuple[str, ...] = field(default=())


def _pct(value: Decimal | None) -> Decimal | str:
    return "" if value is None else value


def _one_row(header: list[str], values: list[Any]) -> tuple[list[str], Rows]:
    return header, [values]


# --------------------------------------------------------------------- tables
def _won_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("Won revenue (CNY)"), _("Won deals"), _("Won deals in other currencies")],
        [r.amount, r.deals, r.other_currency],
    )


def _win_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row([_("Won"), _("Lost"), _("Win rate (%)")], [r.won, r.lost, _pct(r.percent)])


def _visit_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("Prospects visited"), _("Converted"), _("Visit conversion (%)")],
        [r.visited, r.converted, _pct(r.percent)],
    )


def _funnel_table(r: Any) -> tuple[list[str], Rows]:
    header = [
        _("Stage"),
        _("Open deals"),
        _("Amount (CNY)"),
        _("Weighted amount (CNY)"),
        _("Deals in other currencies"),
    ]
    rows = [[s.name, s.deals, s.amount, s.weighted_amount, s.other_currency] for s in r.stages]
    return header, rows


def _stage_table(r: Any) -> tuple[list[str], Rows]:
    header = [_("Stage"), _("Entered"), _("Moved on"), _("Conversion (%)")]
    return header, [[s.name, s.entered, s.advanced, _pct(s.percent)] for s in r.steps]


def _cycle_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("Contracts"), _("Days in negotiation"), _("Average days")],
        [r.contracts, r.total_days, _pct(r.average_days)],
    )


def _contract_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [
            _("Contracts signed"),
            _("Total (CNY)"),
            _("Average contract (CNY)"),
            _("Contracts in other currencies"),
        ],
        [r.contracts, r.total, r.average, r.other_currency],
    )


def _renewal_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("Contracts ended"), _("Renewed"), _("Renewal rate (%)")],
        [r.ended, r.renewed, _pct(r.percent)],
    )


def _attainment_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("Revenue target (CNY)"), _("Won revenue (CNY)"), _("Target attainment (%)")],
        [r.target, r.won, _pct(r.percent)],
    )


def _pipeline_table(r: Any) -> tuple[list[str], Rows]:
    header = [
        _("Expected close month"),
        _("Open deals"),
        _("Amount (CNY)"),
        _("Weighted amount (CNY)"),
        _("Deals in other currencies"),
    ]
    rows = [
        [f"{m.month:%Y-%m}", m.deals, m.amount, m.weighted_amount, m.other_currency]
        for m in r.months
    ]
    return header, rows


def _nps_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("Answers"), _("Promoters"), _("Passives"), _("Detractors"), _("NPS")],
        [r.responses, r.promoters, r.passives, r.detractors, _pct(r.score)],
    )


def _csat_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row([_("Answers"), _("Average CSAT")], [r.responses, _pct(r.average)])


def _sla_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [
            _("Complaints received"),
            _("Answered within the SLA"),
            _("Missed"),
            _("Complaint SLA (%)"),
        ],
        [r.received, r.in_sla, r.missed, _pct(r.percent)],
    )


def _cadence_table(r: Any) -> tuple[list[str], Rows]:
    return _one_row(
        [_("As of"), _("Clients"), _("On cadence"), _("Overdue"), _("Cadence compliance (%)")],
        [r.as_of, r.clients, r.on_cadence, r.overdue, _pct(r.percent)],
    )


def _activities_table(r: Any) -> tuple[list[str], Rows]:
    header = [_("Activity"), _("Done"), _("Target"), _("Attainment (%)")]
    rows = []
    for kind, label in (("calls", _("Calls")), ("visits", _("Visits")), ("demos", _("Demos"))):
        expected = getattr(r, f"expected_{kind}")
        share = r.attainment(kind)
        rows.append(
            [
                label,
                getattr(r, kind),
                "" if expected is None else expected,
                "" if share is None else (share * 100).quantize(Decimal("0.1")),
            ]
        )
    return header, rows


def _rfm_table(r: Any) -> tuple[list[str], Rows]:
    header = [_("Recency"), _("Frequency"), _("Monetary"), _("Segment"), _("Clients")]
    rows = [
        [c.recency, c.frequency, c.monetary, str(d.RFM_SEGMENTS[c.segment]), c.clients]
        for c in r.cells
    ]
    return header, rows


def _summary_table(r: Totals) -> tuple[list[str], Rows]:
    from reports.kpis.facts import FACT_FIELDS, MEASURES

    return [_("Measure"), _("Value")], [
        [str(MEASURES[name][1].label), getattr(r, name)] for name in FACT_FIELDS
    ]


# ---------------------------------------------------------------------- registry
def _attainment(scope: Scope, period: Period, o: Options) -> Any:
    return d.target_attainment(scope, period, source=o.source)


KPIS: dict[str, Kpi] = {
    kpi.name: kpi
    for kpi in (
        Kpi(
            "summary",
            lambda s, p, o: d.totals(s, p, source=o.source, today=o.today),
            _summary_table,
        ),
        Kpi(
            "won-revenue",
            lambda s, p, o: d.won_revenue(s, p, source=o.source),
            _won_table,
            lambda s, p, v, o: d.won_revenue_records(s, p, viewer=v, part=o.part),
            ("other_currency",),
        ),
        Kpi(
            "win-rate",
            lambda s, p, o: d.win_rate(s, p, source=o.source),
            _win_table,
            lambda s, p, v, o: d.win_rate_records(s, p, viewer=v, part=o.part),
            ("won", "lost"),
        ),
        Kpi(
            "visit-conversion",
            lambda s, p, o: d.visit_conversion(s, p),
            _visit_table,
            lambda s, p, v, o: d.visit_conversion_records(s, p, viewer=v, part=o.part),
            ("converted", "not_converted"),
        ),
        Kpi(
            "funnel",
            lambda s, p, o: d.funnel(s, as_of=o.as_of_for(p), source=o.source, today=o.today),
            _funnel_table,
            lambda s, p, v, o: d.funnel_records(
                s, viewer=v, stage_id=o.stage, as_of=o.as_of_for(p)
            ),
            options=("stage", "as_of"),
        ),
        Kpi(
            "stage-conversion",
            lambda s, p, o: d.stage_conversion(s, p),
            _stage_table,
            lambda s, p, v, o: d.stage_conversion_records(
                s, p, viewer=v, stage_id=o.stage or 0, part=o.part or "entered"
            ),
            ("entered", "advanced"),
            options=("stage",),
        ),
        Kpi(
            "negotiation-cycle",
            lambda s, p, o: d.negotiation_cycle(s, p, source=o.source),
            _cycle_table,
            lambda s, p, v, o: d.negotiation_cycle_records(s, p, viewer=v),
        ),
        Kpi(
            "average-contract",
            lambda s, p, o: d.average_contract(s, p, source=o.source),
            _contract_table,
            lambda s, p, v, o: d.average_contract_records(s, p, viewer=v, part=o.part),
            ("other_currency",),
        ),
        Kpi(
            "renewal-rate",
            lambda s, p, o: d.renewal_rate(s, p, source=o.source),
            _renewal_table,
            lambda s, p, v, o: d.renewal_rate_records(s, p, viewer=v, part=o.part),
            ("renewed", "not_renewed"),
        ),
        Kpi(
            "attainment",
            _attainment,
            _attainment_table,
            lambda s, p, v, o: d.won_revenue_records(s, p, viewer=v),
        ),
        Kpi(
            "weighted-pipeline",
            lambda s, p, o: d.weighted_pipeline(s, p),
            _pipeline_table,
            lambda s, p, v, o: d.weighted_pipeline_records(s, p, viewer=v, month=o.month),
            options=("month",),
        ),
        Kpi(
            "nps",
            lambda s, p, o: d.nps(s, p, source=o.source),
            _nps_table,
            lambda s, p, v, o: d.nps_records(s, p, viewer=v, part=o.part),
            ("promoters", "passives", "detractors"),
        ),
        Kpi(
            "csat",
            lambda s, p, o: d.csat(s, p, source=o.source),
            _csat_table,
            lambda s, p, v, o: d.csat_records(s, p, viewer=v),
        ),
        Kpi(
            "complaint-sla",
            lambda s, p, o: d.complaint_sla(s, p, source=o.source),
            _sla_table,
            lambda s, p, v, o: d.complaint_sla_records(s, p, viewer=v, part=o.part),
            ("in_sla", "missed"),
        ),
        Kpi(
            "cadence-compliance",
            lambda s, p, o: d.cadence_compliance(s, as_of=o.as_of_for(p)),
            _cadence_table,
            lambda s, p, v, o: d.cadence_records(s, viewer=v, as_of=o.as_of_for(p), part=o.part),
            ("on_cadence", "overdue"),
            options=("as_of",),
        ),
        Kpi(
            "activities",
            lambda s, p, o: d.activity_vs_targets(s, p, source=o.source, today=o.today),
            _activities_table,
            lambda s, p, v, o: d.activity_records(s, p, viewer=v, part=o.part),
            ("calls", "call", "visit", "demo", "meeting", "email", "follow_up", "other"),
        ),
        Kpi(
            "rfm",
            lambda s, p, o: d.rfm_distribution(s, as_of=o.as_of_for(p)),
            _rfm_table,
            lambda s, p, v, o: d.rfm_records(
                s,
                viewer=v,
                as_of=o.as_of_for(p),
                recency=o.recency,
                frequency=o.frequency,
                monetary=o.monetary,
                segment=o.segment,
            ),
            options=("as_of", "recency", "frequency", "monetary", "segment"),
        ),
    )
}


# -------------------------------------------------------------- drill-down rows
@dataclass(frozen=True)
class RecordKind:
    """How a drill-down lists one model's records (columns without per-row queries)."""

    model: str
    related: tuple[str, ...]
    row: Callable[[Any], dict[str, Any]]
    #: newest first by the row's "date" column (undated rows last); a plain column
    #: descending as its index runs, so a year of activities stops after a page
    order: Any = None


def _local(moment: Any) -> Any:
    return timezone.localtime(moment) if moment is not None else None


def _deal_row(o: Any) -> dict[str, Any]:
    return {
        "label": o.title,
        "url": o.get_absolute_url(),
        "owner": o.owner_id,
        "owner_name": str(o.owner),
        "client": o.client_id,
        "client_name": o.client.name,
        "date": o.closed_on or o.expected_close_date,
        "amount": o.amount,
        "currency": o.currency,
        "status": o.stage.label,
    }


def _activity_row(o: Any) -> dict[str, Any]:
    return {
        "label": o.subject or o.get_type_display(),
        "url": o.client.get_absolute_url() if o.client_id else o.lead.get_absolute_url(),
        "owner": o.owner_id,
        "owner_name": str(o.owner),
        "client": o.client_id,
        "client_name": o.client.name if o.client_id else str(o.lead),
        "date": _local(o.start_at),
        "amount": None,
        "currency": "",
        "status": o.get_type_display(),
    }


def _client_row(o: Any) -> dict[str, Any]:
    keeper = o.account_manager if o.account_manager_id else o.owner
    return {
        "label": o.name,
        "url": o.get_absolute_url(),
        "owner": keeper.pk,
        "owner_name": str(keeper),
        "client": o.pk,
        "client_name": o.name,
        "date": _local(getattr(o, "last_visit", None) or o.last_visit_at),
        "amount": o.spend_12m,
        "currency": "CNY",
        "status": o.get_status_display(),
    }


def _contract_row(o: Any) -> dict[str, Any]:
    return {
        "label": o.number,
        "url": o.get_absolute_url(),
        "owner": o.owner_id,
        "owner_name": str(o.owner),
        "client": o.client_id,
        "client_name": o.client.name,
        "date": o.signed_on or o.end_date,
        "amount": o.amount,
        "currency": o.currency,
        "status": o.get_status_display(),
    }


def _complaint_row(o: Any) -> dict[str, Any]:
    return {
        "label": o.subject,
        "url": o.get_absolute_url(),
        "owner": o.owner_id,
        "owner_name": str(o.owner),
        "client": o.client_id,
        "client_name": o.client.name,
        "date": _local(o.received_at),
        "amount": None,
        "currency": "",
        "status": o.get_status_display(),
    }


def _response_row(o: Any) -> dict[str, Any]:
    keeper = o.client.account_manager if o.client.account_manager_id else o.client.owner
    return {
        "label": f"NPS {o.nps_score if o.nps_score is not None else '–'}"
        f" · CSAT {o.csat_score if o.csat_score is not None else '–'}",
        "url": o.client.get_absolute_url(),
        "owner": keeper.pk,
        "owner_name": str(keeper),
        "client": o.client_id,
        "client_name": o.client.name,
        "date": _local(o.submitted_at),
        "amount": None,
        "currency": "",
        "status": "",
    }


def _lead_row(o: Any) -> dict[str, Any]:
    return {
        "label": str(o),
        "url": o.get_absolute_url(),
        "owner": o.owner_id,
        "owner_name": str(o.owner),
        "client": o.converted_client_id,
        "client_name": o.company,
        "date": _local(o.converted_at or o.created_at),
        "amount": None,
        "currency": "",
        "status": o.get_status_display(),
    }


RECORD_KINDS: dict[str, RecordKind] = {
    "pipeline.deal": RecordKind(
        "deal",
        ("owner", "client", "stage"),
        _deal_row,
        Coalesce("closed_on", "expected_close_date").desc(nulls_last=True),
    ),
    "pipeline.activity": RecordKind(
        "activity", ("owner", "client", "lead"), _activity_row, F("start_at").desc()
    ),
    "clients.client": RecordKind(
        "client",
        ("owner", "account_manager"),
        _client_row,
        F("last_visit_at").desc(nulls_last=True),
    ),
    "pipeline.contract": RecordKind(
        "contract",
        ("owner", "client"),
        _contract_row,
        Coalesce("signed_on", "end_date").desc(nulls_last=True),
    ),
    "clients.complaint": RecordKind(
        "complaint", ("owner", "client"), _complaint_row, F("received_at").desc()
    ),
    "clients.surveyresponse": RecordKind(
        "survey_response",
        ("client__owner", "client__account_manager"),
        _response_row,
        F("submitted_at").desc(),
    ),
    "pipeline.lead": RecordKind(
        "lead", ("owner",), _lead_row, Coalesce("converted_at", "created_at").desc()
    ),
}

RECORD_FIELDS = (
    "model",
    "id",
    "label",
    "url",
    "owner",
    "owner_name",
    "client",
    "client_name",
    "date",
    "amount",
    "currency",
    "status",
)


def record_kind(qs: models.QuerySet[Any]) -> RecordKind:
    return RECORD_KINDS[qs.model._meta.label_lower]


def prepared(qs: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """The drill-down queryset with what its rows show joined in, newest first by the
    date each row shows (undated rows last), then newest created."""
    kind = record_kind(qs)
    return qs.select_related(*kind.related).order_by(*_ordering(kind))


def _ordering(kind: RecordKind) -> list[Any]:
    return [kind.order, "-pk"] if kind.order is not None else ["-pk"]


def ordered_ids(qs: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """The drill-down's ids in ``prepared`` order, for paging.

    A page sorts the bare rows and joins owner, client and stage for its fifty
    only: sorting the joined rows made the director's funnel (30,000 open deals)
    join every client and owner before keeping fifty (62 → 20 ms)."""
    return qs.order_by(*_ordering(record_kind(qs))).values_list("pk", flat=True)


def records_by_ids(qs: models.QuerySet[Any], ids: Sequence[int]) -> list[Any]:
    """The records of ``ids`` (a page of ``ordered_ids(qs)``), read again through
    ``qs`` with what their rows show joined in, in the order of ``ids``."""
    kind = record_kind(qs)
    found = {o.pk: o for o in qs.filter(pk__in=list(ids)).select_related(*kind.related)}
    return [found[pk] for pk in ids if pk in found]


def record_rows(objects: Iterable[Any], kind: RecordKind) -> list[dict[str, Any]]:
    return [{"model": kind.model, "id": o.pk, **kind.row(o)} for o in objects]


def record_table_header() -> list[str]:
    return [
        _("Type"),
        _("Id"),
        _("Record"),
        _("Owner"),
        _("Client"),
        _("Date"),
        _("Amount"),
        _("Currency"),
        _("Status"),
    ]


def record_table_rows(qs: models.QuerySet[Any]) -> Iterable[Sequence[Any]]:
    kind = record_kind(qs)
    for obj in prepared(qs).iterator(chunk_size=1000):
        row = {"model": kind.model, "id": obj.pk, **kind.row(obj)}
        yield [
            row["model"],
            row["id"],
            row["label"],
            row["owner_name"],
            row["client_name"],
            row["date"],
            row["amount"],
            row["currency"],
            row["status"],
        ]
