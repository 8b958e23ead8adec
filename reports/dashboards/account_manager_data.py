"""The record lists of the account manager's dashboard, fetched in one round trip.

Four lists sit on the page: accounts behind on their visits, contracts coming
up for renewal, open complaints and up-sell candidates. Each is a plain
queryset that starts from ``Model.objects.visible_to(viewer)`` and is narrowed
to the scope's people (``in_scope``), so it can be tested and reused on its
own. The page reads the first rows of all four — and the counts it shows
beside them, as window aggregates over the whole list — in a single
``UNION ALL`` query (``fetch``): the whole dashboard must stay within 15 SQL
queries, and most of those belong to the page's frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import JSONObject
from django.utils import timezone

from clients.complaint_views import overdue_expression
from clients.complaints import ACTIVE_STATUSES
from clients.models import Client, ClientStatus, Complaint
from pipeline.models import Contract, ContractStatus, Deal
from pipeline.services.contracts import ending_within
from pipeline.services.targets import week_bounds
from reports.dashboards.common import text
from reports.dashboards.params import DashboardParams
from reports.kpis import CadenceCompliance, in_scope
from reports.kpis.definitions import _a_year_before, _cadence_clients
from reports.kpis.scopes import client_in_scope
from salesorg.lib.sql import union_all

#: Rows each list shows on the dashboard ("see all" opens the full list).
ROWS = 8
#: The renewal horizons the page counts (days ahead), the longest one listed.
RENEWAL_DAYS = (30, 60, 90)


def _sunday(today: date) -> date:
    """The last day of today's week (the cadence page's "due this week")."""
    return week_bounds(today)[1] - timedelta(days=1)


# ------------------------------------------------------------------- the lists
def visible_clients(params: DashboardParams) -> QuerySet[Client]:
    """The clients the viewer may see (one grants query however often it is reused)."""
    return Client.objects.visible_to(params.viewer)


def accounts_to_visit(
    params: DashboardParams, visible: QuerySet[Client] | None = None
) -> QuerySet[Client]:
    """The scope's accounts off their visit cadence today, or due before Sunday.

    The records behind the cadence-compliance KPI (``kpis.cadence_records``:
    each client counts for its account manager, else its owner;
    ``on_cadence`` from its last done visit), kept to the ones that need a
    visit: overdue first, then those whose next visit falls due this week.
    """
    visible = visible if visible is not None else visible_clients(params)
    sunday = _sunday(params.today)
    return _cadence_clients(params.scope, params.today, visible).filter(
        Q(on_cadence=False) | Q(next_visit_due__lte=sunday)
    )


def renewals_due(params: DashboardParams) -> QuerySet[Contract]:
    """Running contracts of the scope's people that end in the next 90 days.

    ``pipeline.services.contracts.ending_within`` (the renewals page's list);
    a contract counts for its owner, the account manager who keeps it.
    """
    renewing = Contract.objects.filter(renews=OuterRef("pk")).exclude(
        status=ContractStatus.TERMINATED
    )
    qs = Contract.objects.visible_to(params.viewer).filter(
        in_scope(params.scope, "owner", params.today)
    )
    return ending_within(qs, max(RENEWAL_DAYS), today=params.today).annotate(
        renewal_started=Exists(renewing)
    )


def open_complaints(params: DashboardParams) -> QuerySet[Complaint]:
    """Complaints still open or awaiting resolution, owned by the scope's people.

    A complaint's owner is its client's account manager (else the client's
    owner), so these are the complaints on the scope's accounts — as on the
    complaint list's "My open" tab.
    """
    return (
        Complaint.objects.visible_to(params.viewer)
        .filter(status__in=ACTIVE_STATUSES)
        .filter(in_scope(params.scope, "owner", params.today))
        .annotate(is_overdue=overdue_expression(timezone.now()))
    )


def upsell_candidates(
    params: DashboardParams, visible: QuerySet[Client] | None = None
) -> QuerySet[Client]:
    """Active accounts that bought in the last 12 months and have no deal open now.

    They are buying, and nobody is selling them anything at the moment: the
    next offer (another product, an upgrade) is the account manager's to make.
    Ranked by their trailing-12-month spend (``Client.spend_12m``). Each client
    counts for its account manager, else its owner, as for the visit cadence.
    """
    today = params.today
    deals = Deal.objects.visible_to(params.viewer)  # one grants query for both subqueries
    won = deals.filter(
        client_id=OuterRef("pk"), stage__kind="won", closed_on__gt=_a_year_before(today)
    )
    last_won = won.order_by().values("client_id").annotate(last=Max("closed_on")).values("last")[:1]
    open_deals = deals.filter(client_id=OuterRef("pk"), stage__kind="open")
    visible = visible if visible is not None else visible_clients(params)
    return (
        visible.filter(status=ClientStatus.ACTIVE)
        .filter(client_in_scope(params.scope, today))
        .filter(Exists(won), ~Exists(open_deals))
        .annotate(last_won=Subquery(last_won))
    )


# ------------------------------------------------------------- one round trip
@dataclass
class Lists:
    """The first rows of each list (plain dicts) and the counts over all of it."""

    visits: list[dict[str, Any]] = field(default_factory=list)
    renewals: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    upsell: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    cadence: CadenceCompliance | None = None


def _count(condition: Q | None = None) -> Window:
    return Window(Count("pk", filter=condition))


def _zero() -> Value:
    return Value(0)


def _shape(qs: QuerySet[Any], kind: str, data: dict[str, Any], counts: list[Any]) -> QuerySet:
    """One list as rows of (kind, JSON row, three counts) so the lists can be UNIONed."""
    counts = [*counts, *(_zero() for _i in range(3 - len(counts)))]
    return qs.annotate(
        kind=Value(kind),
        data=JSONObject(**data),
        n1=counts[0],
        n2=counts[1],
        n3=counts[2],
    ).values_list("kind", "data", "n1", "n2", "n3")


def _cadence_kpi(params: DashboardParams, as_of: date) -> QuerySet:
    """``kpis.cadence_compliance(scope, as_of=as_of)`` as one row of the UNION.

    The KPI's own queryset (every client of the scope with a scheduled
    cadence, whoever may see it) and its two counts — the same SQL as the KPI
    function, read in the page's one list query instead of a query of its own.
    """
    return _shape(
        _cadence_clients(params.scope, as_of),
        "cadence",
        {},
        [_count(Q(on_cadence=True)), _count()],
    ).order_by()[:1]


def fetch(params: DashboardParams, *, rows: int = ROWS, cadence_as_of: date | None = None) -> Lists:
    """The four lists' first ``rows`` rows, their counts and cadence compliance, in one query.

    ``cadence_as_of``: the day cadence compliance is read at (default today).
    """
    today = params.today
    sunday = _sunday(today)
    visible = visible_clients(params)
    visits = _shape(
        accounts_to_visit(params, visible),
        "visits",
        {
            "id": "pk",
            "name": "name",
            "cadence": "cadence",
            "key": "is_key_account",
            "last_visit": "last_visit_day",
            "due": "next_visit_due",
            "on_cadence": "on_cadence",
        },
        [
            _count(Q(on_cadence=False)),
            _count(Q(on_cadence=True, next_visit_due__gte=today, next_visit_due__lte=sunday)),
        ],
    ).order_by(F("on_cadence").asc(), F("next_visit_due").asc(nulls_first=True), "pk")[:rows]
    renewals = _shape(
        renewals_due(params),
        "renewals",
        {
            "id": "pk",
            "number": "number",
            "title": "title",
            "client": "client__name",
            "client_id": "client_id",
            "end": "end_date",
            "amount": text("amount"),
            "currency": "currency",
            "started": "renewal_started",
        },
        [
            _count(Q(end_date__lte=today + timedelta(days=RENEWAL_DAYS[0]))),
            _count(Q(end_date__lte=today + timedelta(days=RENEWAL_DAYS[1]))),
            _count(),
        ],
    ).order_by("end_date", "pk")[:rows]
    complaints = _shape(
        open_complaints(params),
        "complaints",
        {
            "id": "pk",
            "subject": "subject",
            "client": "client__name",
            "client_id": "client_id",
            "received": "received_at",
            "due": "sla_due_at",
            "severity": "severity",
            "status": "status",
            "overdue": "is_overdue",
        },
        [_count(), _count(Q(is_overdue=True))],
    ).order_by(F("is_overdue").desc(), "sla_due_at", "pk")[:rows]
    upsell = _shape(
        upsell_candidates(params, visible),
        "upsell",
        {
            "id": "pk",
            "name": "name",
            "key": "is_key_account",
            "spend": text("spend_12m"),
            "last_won": "last_won",
            "segment": "rfm_segment",
        },
        [_count()],
    ).order_by(F("spend_12m").desc(), "pk")[:rows]
    as_of = cadence_as_of or today
    out = Lists()
    counts: dict[str, tuple[int, int, int]] = {}
    result = union_all([visits, renewals, complaints, upsell, _cadence_kpi(params, as_of)])
    for kind, data, n1, n2, n3 in result:
        if kind != "cadence":
            getattr(out, kind).append(data)
        counts[kind] = (n1, n2, n3)
    on_cadence, clients, _n = counts.get("cadence", (0, 0, 0))
    out.cadence = CadenceCompliance(as_of=as_of, clients=clients, on_cadence=on_cadence)
    visits_n = counts.get("visits", (0, 0, 0))
    renewals_n = counts.get("renewals", (0, 0, 0))
    complaints_n = counts.get("complaints", (0, 0, 0))
    out.counts = {
        "visits_overdue": visits_n[0],
        "visits_due_this_week": visits_n[1],
        "renewals_30": renewals_n[0],
        "renewals_60": renewals_n[1],
        "renewals_90": renewals_n[2],
        "complaints_open": complaints_n[0],
        "complaints_overdue": complaints_n[1],
        "upsell": counts.get("upsell", (0, 0, 0))[0],
    }
    return out


def as_date(value: str | None) -> date | None:
    """A date of a JSON row."""
    return date.fromisoformat(value[:10]) if value else None


def as_moment(value: str | None) -> datetime | None:
    """A moment of a JSON row, in local time."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):  # SQLite keeps UTC without an offset
        moment = timezone.make_aware(moment, UTC)
    return timezone.localtime(moment)


def as_amount(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None
