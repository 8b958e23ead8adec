"""Survey results per client, account manager, team and company, for a period.

Everything starts from what the reader sees (``visible_to``) and is aggregated
in SQL: responses (NPS, CSAT) by submission time, invitations (response rate)
by sending time, and phone follow-ups (activities of type "follow-up call"
that were done) by their time. A client's results count for its account
manager, else its owner; a team's are everyone's in its subtree, added up from
the per-person rows (``Figures`` add up), so no query runs per team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, NullIf, TruncQuarter
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from clients.models import SurveyInvitation, SurveyResponse
from clients.survey_metrics import Figures, response_aggregates
from clients.surveys import quarter_bounds, quarter_key

PERIODS = {
    "quarter": gettext_lazy("This quarter"),
    "last_quarter": gettext_lazy("Last quarter"),
    "year": gettext_lazy("This year"),
    "12m": gettext_lazy("Last 12 months"),
    "18m": gettext_lazy("Last 18 months"),
    "custom": gettext_lazy("From – to"),
}
SCOPES = {
    "company": gettext_lazy("Company"),
    "team": gettext_lazy("Team"),
    "am": gettext_lazy("Account manager"),
    "client": gettext_lazy("Client"),
}
TREND_QUARTERS = 6


# ----------------------------------------------------------------------- period
@dataclass(frozen=True)
class Period:
    """Local dates ``start`` (included) to ``end`` (excluded)."""

    key: str
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end, time.min))

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _months_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def period_from(params: Mapping[str, str], today: date) -> Period:
    """The period the picker asks for (``period``, with ``from``/``to`` for a custom
    one, both dates included); this quarter when missing or invalid."""
    key = params.get("period") or "quarter"
    if key == "last_quarter":
        start, _end = quarter_bounds(quarter_bounds(today)[0] - timedelta(days=1))
        return Period(key, start, quarter_bounds(today)[0])
    if key == "year":
        return Period(key, date(today.year, 1, 1), date(today.year + 1, 1, 1))
    if key in ("12m", "18m"):
        months = 12 if key == "12m" else 18
        return Period(key, _months_back(today, months - 1), _months_back(today, -1))
    if key == "custom":
        try:
            first = date.fromisoformat(params.get("from", ""))
            last = date.fromisoformat(params.get("to", ""))
        except ValueError:
            first = last = None
        if first and last and first <= last and (last - first).days <= 366 * 5:
            return Period(key, first, last + timedelta(days=1))
    start, end = quarter_bounds(today)
    return Period("quarter", start, end)


# ----------------------------------------------------------------------- sources
@dataclass
class Sources:
    """The three visible querysets the results read, limited to the period."""

    responses: QuerySet[SurveyResponse]
    invitations: QuerySet[SurveyInvitation]
    follow_ups: QuerySet[Any]
    #: every visible response of the survey, whatever the period (for the trend)
    all_responses: QuerySet[SurveyResponse]


def sources(user: User, period: Period, template_id: int | None = None) -> Sources:
    from pipeline.models import Activity, ActivityType

    all_responses = SurveyResponse.objects.visible_to(user)
    invitations = SurveyInvitation.objects.visible_to(user).filter(
        sent_at__gte=period.start_at, sent_at__lt=period.end_at
    )
    if template_id:
        all_responses = all_responses.filter(invitation__campaign__template_id=template_id)
        invitations = invitations.filter(campaign__template_id=template_id)
    responses = all_responses.filter(
        submitted_at__gte=period.start_at, submitted_at__lt=period.end_at
    )
    follow_ups = Activity.objects.visible_to(user).filter(
        type=ActivityType.FOLLOW_UP,
        status=Activity.Status.DONE,
        start_at__gte=period.start_at,
        start_at__lt=period.end_at,
    )
    return Sources(
        responses.order_by(), invitations.order_by(), follow_ups.order_by(), all_responses
    )


def _responsible() -> Coalesce:
    """A client's results belong to its account manager, else its owner."""
    return Coalesce(F("client__account_manager"), F("client__owner"))


INVITATION_COUNTS = {
    "invited": Count("pk"),
    "answered": Count("pk", filter=Q(answered_at__isnull=False)),
}


# ----------------------------------------------------------------------- rows
@dataclass
class Row:
    key: Any
    label: str
    figures: Figures
    url: str = ""
    depth: int = 0


def company_figures(
    src: Sources, people: Mapping[Any, Figures] | None = None
) -> tuple[Figures, list[tuple[str, int]]]:
    """The whole visible set, and the follow-up calls by reason.

    Given ``per_person(src)`` as ``people``, the total is their sum: each of its
    three grouped queries reads the same rows as the total would (the same
    querysets, grouped; a response's or invitation's client is never null and
    the person of a row with neither account manager nor owner is ``None``, a
    group of its own), so only the follow-up reasons are queried. Without it,
    one query each for responses, invitations and follow-ups.
    """
    from pipeline.models import FollowUpReason

    reasons = dict(
        src.follow_ups.values_list("follow_up_reason").annotate(n=Count("pk")).order_by()
    )
    if people is not None:
        total = sum(people.values(), Figures())
    else:
        invitations = src.invitations.aggregate(**INVITATION_COUNTS)
        total = Figures.from_row(
            src.responses.aggregate(**response_aggregates()),
            invited=invitations["invited"],
            answered=invitations["answered"],
            follow_ups=sum(reasons.values()),
        )
    labelled = [(str(label), reasons.get(value, 0)) for value, label in FollowUpReason.choices]
    if reasons.get(""):
        labelled.append((_("No reason given"), reasons[""]))
    return total, labelled


def per_person(src: Sources) -> dict[int, Figures]:
    """Figures per responsible person (account manager, else owner), three queries."""
    out: dict[int, Figures] = defaultdict(Figures)
    for row in (
        src.responses.annotate(person=_responsible())
        .values("person")
        .annotate(**response_aggregates())
        .order_by()
    ):
        out[row["person"]] += Figures.from_row(row)
    for row in (
        src.invitations.annotate(person=_responsible())
        .values("person")
        .annotate(**INVITATION_COUNTS)
        .order_by()
    ):
        out[row["person"]] += Figures(invited=row["invited"], answered=row["answered"])
    for person, count in src.follow_ups.values_list("owner").annotate(n=Count("pk")).order_by():
        out[person] += Figures(follow_ups=count)
    return out


SORTS = {
    "name": lambda r: (r.label.lower(),),
    "responses": lambda r: (r.figures.responses,),
    "nps": lambda r: (r.figures.nps.score is not None, r.figures.nps.score or 0),
    "csat": lambda r: (r.figures.csat.mean is not None, r.figures.csat.mean or 0),
    "rate": lambda r: (r.figures.response_rate is not None, r.figures.response_rate or 0),
    "follow_ups": lambda r: (r.figures.follow_ups,),
}


def _sorted(rows: list[Row], sort: str) -> list[Row]:
    key = sort.lstrip("-")
    if key not in SORTS:
        return rows
    return sorted(rows, key=SORTS[key], reverse=sort.startswith("-"))


def person_rows(src: Sources, sort: str, people: Mapping[Any, Figures] | None = None) -> list[Row]:
    """One row per responsible person; ``people`` is ``per_person(src)`` if already read."""
    figures = per_person(src) if people is None else people
    users = User.objects.filter(pk__in=list(figures)).only(
        "pk", "username", "first_name", "last_name"
    )
    names = {u.pk: str(u) for u in users}
    rows = [Row(pk, names.get(pk, "—"), f) for pk, f in figures.items()]
    return _sorted(sorted(rows, key=lambda r: r.label.lower()), sort)


def team_rows(
    user: User, src: Sources, sort: str, people: Mapping[Any, Figures] | None = None
) -> list[Row]:
    """Each team the reader sees, with everyone in its subtree added up; ``people``
    is ``per_person(src)`` if already read."""
    figures = per_person(src) if people is None else people
    team_paths = dict(User.objects.filter(pk__in=list(figures)).values_list("pk", "team__path"))
    teams = list(Team.objects.visible_to(user).order_by("path"))
    rows = []
    for team in teams:
        total = Figures()
        for person, person_figures in figures.items():
            path = team_paths.get(person)
            if path and path.startswith(team.path):
                total += person_figures
        rows.append(Row(team.pk, team.name, total, depth=team.depth))
    base_depth = min((r.depth for r in rows), default=0)
    for row in rows:
        row.depth -= base_depth
    return _sorted(rows, sort) if sort and sort.lstrip("-") != "name" else rows


CLIENT_SORTS = {
    "name": "client__name",
    "responses": "responses",
    "nps": "nps_value",
    "csat": "csat_value",
}


def client_rows_queryset(src: Sources, sort: str) -> QuerySet[Any]:
    """Responses grouped by client, with NPS and CSAT computed in SQL for sorting."""
    key = sort.lstrip("-") if sort.lstrip("-") in CLIENT_SORTS else "name"
    descending = sort.startswith("-")
    order = CLIENT_SORTS[key]
    qs = (
        src.responses.values("client", "client__name")
        .annotate(**response_aggregates())
        .annotate(
            nps_value=Cast(F("promoters") - F("detractors"), FloatField())
            * 100.0
            / NullIf(F("nps_answers"), 0),
            csat_value=Cast(F("csat_sum"), FloatField()) / NullIf(F("csat_answers"), 0),
        )
    )
    ordering = F(order).desc(nulls_last=True) if descending else F(order).asc(nulls_first=True)
    return qs.order_by(ordering, "client")


def client_rows(src: Sources, rows: Iterable[dict[str, Any]]) -> list[Row]:
    """Rows for one page of clients: their invitations and follow-ups in one query each."""
    rows = list(rows)
    ids = [r["client"] for r in rows]
    invitations = {
        r["client"]: r
        for r in src.invitations.filter(client_id__in=ids)
        .values("client")
        .annotate(**INVITATION_COUNTS)
        .order_by()
    }
    follow_ups = dict(
        src.follow_ups.filter(client_id__in=ids)
        .values_list("client")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out = []
    for row in rows:
        sent = invitations.get(row["client"], {})
        out.append(
            Row(
                row["client"],
                row["client__name"],
                Figures.from_row(
                    row,
                    invited=sent.get("invited", 0),
                    answered=sent.get("answered", 0),
                    follow_ups=follow_ups.get(row["client"], 0),
                ),
                url=reverse("clients:detail", args=[row["client"]]),
            )
        )
    return out


def trend(src: Sources, today: date) -> list[Row]:
    """NPS and CSAT per quarter for the last few quarters (one grouped query)."""
    start = quarter_bounds(today)[0]
    for _i in range(TREND_QUARTERS - 1):
        start = quarter_bounds(start - timedelta(days=1))[0]
    period = Period("trend", start, quarter_bounds(today)[1])
    responses = src.all_responses.filter(
        submitted_at__gte=period.start_at, submitted_at__lt=period.end_at
    ).order_by()
    rows = {
        timezone.localtime(r["quarter"]).date()
        if isinstance(r["quarter"], datetime)
        else r["quarter"]: r
        for r in responses.annotate(
            quarter=TruncQuarter("submitted_at", tzinfo=timezone.get_current_timezone())
        )
        .values("quarter")
        .annotate(**response_aggregates())
        .order_by()
    }
    out = []
    day = period.start
    while day < period.end:
        row = rows.get(day, {})
        out.append(Row(quarter_key(day), quarter_key(day), Figures.from_row(row)))
        day = quarter_bounds(day)[1]
    return out


def client_export_rows(src: Sources, sort: str) -> Iterable[Row]:
    """Every client row for the CSV, a thousand at a time."""
    qs = client_rows_queryset(src, sort)
    offset = 0
    while True:
        chunk = list(qs[offset : offset + 1000])
        if not chunk:
            return
        yield from client_rows(src, chunk)
        offset += 1000
