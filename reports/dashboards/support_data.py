"""What the sales support dashboard lists: data quality, imports, events, surveys.

None of these are KPIs of SPEC section 7, so they are plain queries here —
each one SQL statement (filtered aggregates, window counts) so the page costs
the same at 100 or 10,000 clients. Every list starts from what the viewer may
see (``visible_to`` or the app's own visibility helper) and is narrowed to the
people of the dashboard's scope; the definitions (what "incomplete" and
"duplicate" mean, what a campaign's "sent" and "answered" are) are the client
app's own, so a number here equals the one on the page it links to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Sum, Window
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from clients import quality
from clients.importing import imports_visible_to
from clients.models import Client, ClientImport, SurveyCampaign, SurveyInvitation
from pipeline.models import Event
from reports.kpis import Period, Scope, ScopeKind
from salesorg.lib.pagination import COUNT_CAP

#: How far ahead "upcoming events" look, and how many rows the tables show.
EVENT_DAYS = 30
EVENT_ROWS = 15
IMPORT_ROWS = 10
CAMPAIGN_ROWS = 10

#: Campaigns still collecting answers.
ACTIVE_CAMPAIGN = (SurveyCampaign.Status.SENDING, SurveyCampaign.Status.SENT)


def scope_people(scope: Scope) -> QuerySet[Any] | list[int] | None:
    """Ids of everyone ever in the scope (a subquery), or ``None`` for the company."""
    if scope.kind == ScopeKind.COMPANY:
        return None
    if scope.kind == ScopeKind.PERSON:
        return [scope.id]
    return scope.members_ever()


def scoped_clients(viewer: User, scope: Scope) -> QuerySet[Client]:
    """The clients ``viewer`` sees that the scope's people own or manage as account manager.

    For a support person's default scope (their region) this is the set the
    data-quality page works on: everything they maintain.
    """
    visible = Client.objects.visible_to(viewer)
    people = scope_people(scope)
    if people is None:
        return visible
    return visible.filter(Q(owner__in=people) | Q(account_manager__in=people))


# ------------------------------------------------------------------ data quality
@dataclass(frozen=True)
class QualityCounts:
    """``missing``: clients lacking each piece of ``quality.MISSING`` (and ``"any"``);
    ``duplicates``: duplicate-candidate groups of each kind of ``quality.DUPLICATE_KINDS``."""

    missing: dict[str, int]
    duplicates: dict[str, int]


def quality_counts(clients: QuerySet[Client]) -> QualityCounts:
    """The data-quality page's counts over ``clients``, in one statement.

    The incomplete counts are ``quality.incomplete_counts``' filtered
    aggregates; each duplicate count is the page's ``GROUP BY key HAVING
    COUNT(*) > 1`` over the same (client, key) pairs (``quality._pairs_sql``),
    capped like the page's (``COUNT_CAP``), as an uncorrelated sub-select that
    PostgreSQL runs once. Tests pin both against the ``clients.quality`` functions.
    """
    if clients.query.is_empty():  # nothing to see: no SQL to compile the pairs from
        return QualityCounts(
            missing={key: 0 for key in [*quality.MISSING, "any"]},
            duplicates=dict.fromkeys(quality.DUPLICATE_KINDS, 0),
        )
    anything = Q()
    aggregates: dict[str, Any] = {}
    for key in quality.MISSING:
        condition = quality._missing_condition(key)  # the page's definition
        anything |= condition
        aggregates[f"missing_{key}"] = Count("pk", filter=condition)
    aggregates["missing_any"] = Count("pk", filter=anything)
    for kind in quality.DUPLICATE_KINDS:
        pairs, params = quality._pairs_sql(kind, clients)  # the page's pairs
        groups = (
            # (CASE, not LEAST: the embedded SQLite has no LEAST)
            "(SELECT CASE WHEN COUNT(*) > %s THEN %s ELSE COUNT(*) END FROM ("  # noqa: S608
            f"SELECT p.k FROM ({pairs}) p GROUP BY p.k HAVING COUNT(*) > 1) g)"
        )
        aggregates[f"duplicates_{kind}"] = Max(
            RawSQL(groups, [COUNT_CAP + 1, COUNT_CAP + 1, *params], output_field=IntegerField())  # noqa: S611
        )
    found = clients.order_by().aggregate(**aggregates)
    return QualityCounts(
        missing={key: found[f"missing_{key}"] for key in [*quality.MISSING, "any"]},
        duplicates={kind: found[f"duplicates_{kind}"] or 0 for kind in quality.DUPLICATE_KINDS},
    )


# ----------------------------------------------------------------------- imports
@dataclass(frozen=True)
class ImportHistory:
    """The latest imports in the scope, and what the period's imports added up to."""

    rows: list[ClientImport]
    total: int  # imports in the scope, ever
    in_period: int
    failed_in_period: int
    rows_created: int
    rows_updated: int
    rows_failed: int


def import_history(viewer: User, scope: Scope, period: Period) -> ImportHistory:
    """The latest ``IMPORT_ROWS`` imports the viewer sees, by the scope's people.

    One query: the period's figures ride on each row as window aggregates.
    """
    qs = imports_visible_to(viewer)
    people = scope_people(scope)
    if people is not None:
        qs = qs.filter(created_by__in=people)
    in_period = Q(created_at__gte=period.local_start, created_at__lt=period.local_end)
    over = {"partition_by": None, "order_by": None}
    rows = list(
        qs.annotate(
            total_n=Window(Count("pk"), **over),
            period_n=Window(Count("pk", filter=in_period), **over),
            period_failed=Window(
                Count("pk", filter=in_period & Q(status=ClientImport.Status.FAILED)), **over
            ),
            period_created=Window(Sum("created_count", filter=in_period), **over),
            period_updated=Window(Sum("updated_count", filter=in_period), **over),
            period_errors=Window(Sum("error_count", filter=in_period), **over),
        )
        .defer("errors", "column_mapping")
        .order_by("-created_at", "-pk")[:IMPORT_ROWS]
    )
    first = rows[0] if rows else None

    def figure(name: str) -> int:
        return int(getattr(first, name) or 0) if first else 0

    return ImportHistory(
        rows=rows,
        total=figure("total_n"),
        in_period=figure("period_n"),
        failed_in_period=figure("period_failed"),
        rows_created=figure("period_created"),
        rows_updated=figure("period_updated"),
        rows_failed=figure("period_errors"),
    )


# ------------------------------------------------------------------------ events
@dataclass(frozen=True)
class UpcomingEvents:
    rows: list[Event]
    total: int
    budget: Decimal


def upcoming_events(today: date) -> UpcomingEvents:
    """Events running at some point in the next ``EVENT_DAYS`` days, soonest first.

    Events are the company's (every role sees the event list, leads name
    them), so the scope does not narrow them. One query: the count and the
    budget ride on the rows as window aggregates.
    """
    horizon = today + timedelta(days=EVENT_DAYS)
    qs = Event.objects.filter(starts_on__lte=horizon).filter(
        Q(ends_on__gte=today) | Q(ends_on__isnull=True, starts_on__gte=today)
    )
    over = {"partition_by": None, "order_by": None}
    rows = list(
        qs.select_related("owner")
        .annotate(total_n=Window(Count("pk"), **over), total_budget=Window(Sum("budget"), **over))
        .order_by("starts_on", "name", "pk")[:EVENT_ROWS]
    )
    if not rows:
        return UpcomingEvents([], 0, Decimal(0))
    return UpcomingEvents(rows, rows[0].total_n, rows[0].total_budget or Decimal(0))


# ----------------------------------------------------------------------- surveys
@dataclass(frozen=True)
class CampaignStatus:
    campaign: SurveyCampaign
    invited: int
    sent: int
    answered: int

    @property
    def response_rate(self) -> Decimal | None:
        return response_rate(self.answered, self.sent)


def response_rate(answered: int, sent: int) -> Decimal | None:
    """Answered ÷ sent, as a campaign's page shows it (× 100, one decimal)."""
    if not sent:
        return None
    return (Decimal(100) * answered / sent).quantize(Decimal("0.1"))


def active_campaigns(
    viewer: User, scope: Scope, clients: QuerySet[Client] | None = None
) -> list[CampaignStatus]:
    """Campaigns still collecting answers from the scope's clients, latest first.

    "Collecting answers": sending or sent, with an invitation to a client in
    the scope that is unanswered and not expired (``clients.surveys`` accepts an
    answer exactly then) — so the list is bounded by the links' lifetime, not by
    the years of data. The counts are over the invitations the viewer sees (as
    on the campaign's page) of clients in the scope, with the definitions of
    ``clients.surveys.campaign_count_aggregates`` as filtered aggregates: one
    query. Every campaign listed is inside ``SurveyCampaign.objects.visible_to``,
    whose rule shows a campaign to anyone who sees one of its invited clients.
    """
    if clients is None:
        clients = scoped_clients(viewer, scope)
    # An invitation is visible exactly when its client is (``FollowsParent("client")``):
    # filtering by the scoped visible clients is ``SurveyInvitation.objects.visible_to``
    # narrowed to the scope, without asking for the viewer's grants a second time.
    in_scope = clients.order_by().values("pk")
    open_invitations = SurveyInvitation.objects.filter(
        client__in=in_scope,
        answered_at__isnull=True,
        expires_at__gt=timezone.now(),
        campaign__status__in=ACTIVE_CAMPAIGN,
    ).values("campaign_id")
    # The scope's invitations are joined once and counted with plain filters (a
    # filter before ``annotate`` narrows the join the counts read): a filter on the
    # client inside each count made PostgreSQL read the scope's clients once per count.
    rows = (
        SurveyCampaign.objects.filter(pk__in=open_invitations)
        .filter(invitations__client__in=in_scope)
        .select_related("template")
        .only("name", "status", "sent_at", "created_at", "template__name")
        .annotate(
            invited_n=Count("invitations"),
            sent_n=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
            answered_n=Count("invitations", filter=Q(invitations__answered_at__isnull=False)),
        )
        .order_by(F("sent_at").desc(nulls_last=True), "-created_at", "-pk")
    )
    return [CampaignStatus(c, c.invited_n, c.sent_n, c.answered_n) for c in rows]
