"""NPS and CSAT arithmetic, written once for the survey results and the reports.

SPEC section 7: **NPS** = % promoters (9–10) − % detractors (0–6) among the
responses that answered the 0–10 question. **CSAT** is read from each
response's stored ``csat_score`` (the mean of its 1–5 ratings): the mean over
responses, and the share of responses whose score is 4 or more ("satisfied").

The aggregates are plain counts and sums, computed in SQL. Counts and sums add
up, so a caller may aggregate per person in one query and add the rows up into
teams (``Figures.__add__``) without touching a single response in Python.

One rounding rule for every figure here and in ``reports.kpis`` (which calls
``nps_score`` and ``csat_mean``): half up, as a spreadsheet rounds — 1.25 → 1.3,
4.125 → 4.13. (The dashboards used to round half to even: a tie could read one
tenth apart from the survey results page.)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
SATISFIED_MIN = 4
#: A score at or below these opens a follow-up (issue 5): NPS ≤ 6 or any rating ≤ 2.
LOW_NPS_MAX = DETRACTOR_MAX
LOW_RATING_MAX = 2

#: The one rounding rule for NPS, CSAT and the shares (see the module docstring).
ROUNDING = ROUND_HALF_UP
_ONE_DECIMAL = Decimal("0.1")
_TWO_DECIMALS = Decimal("0.01")


def nps_score(answers: int, promoters: int, detractors: int) -> Decimal | None:
    """NPS from counts, in points (−100 … 100) with one decimal; None without answers."""
    if not answers:
        return None
    return (Decimal(100) * (promoters - detractors) / answers).quantize(
        _ONE_DECIMAL, rounding=ROUNDING
    )


def csat_mean(answers: int, total: Decimal | int | None) -> Decimal | None:
    """The mean CSAT score of ``answers`` scores summing to ``total``, two decimals."""
    return mean_of(total, answers)


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in % with one decimal; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(_ONE_DECIMAL, rounding=ROUNDING)


def mean_of(total: Decimal | int | None, count: int) -> Decimal | None:
    if not count or total is None:
        return None
    return (Decimal(total) / count).quantize(_TWO_DECIMALS, rounding=ROUNDING)


def response_aggregates(prefix: str = "") -> dict[str, Any]:
    """The SQL aggregates behind NPS and CSAT over SurveyResponse rows.

    ``prefix`` reaches the response through a relation (``"response__"`` from an
    invitation). Use with ``.aggregate(**…)`` or ``.values(group).annotate(**…)``.
    """
    nps_field, csat_field, pk = f"{prefix}nps_score", f"{prefix}csat_score", f"{prefix}pk"
    return {
        "responses": Count(pk),
        "promoters": Count(pk, filter=Q(**{f"{nps_field}__gte": PROMOTER_MIN})),
        "detractors": Count(pk, filter=Q(**{f"{nps_field}__lte": DETRACTOR_MAX})),
        "nps_answers": Count(nps_field),
        "csat_answers": Count(csat_field),
        "csat_sum": Sum(csat_field),
        "satisfied": Count(pk, filter=Q(**{f"{csat_field}__gte": SATISFIED_MIN})),
    }


@dataclass(frozen=True)
class NpsFigures:
    promoters: int = 0
    detractors: int = 0
    answers: int = 0

    @property
    def passives(self) -> int:
        return self.answers - self.promoters - self.detractors

    @property
    def score(self) -> Decimal | None:
        return nps_score(self.answers, self.promoters, self.detractors)

    @property
    def promoter_share(self) -> Decimal | None:
        return percent(self.promoters, self.answers)

    @property
    def detractor_share(self) -> Decimal | None:
        return percent(self.detractors, self.answers)


@dataclass(frozen=True)
class CsatFigures:
    answers: int = 0
    total: Decimal = Decimal(0)
    satisfied: int = 0

    @property
    def mean(self) -> Decimal | None:
        return csat_mean(self.answers, self.total)

    @property
    def satisfied_share(self) -> Decimal | None:
        return percent(self.satisfied, self.answers)


@dataclass(frozen=True)
class Figures:
    """Everything the results show for one group: responses, NPS, CSAT, response rate."""

    responses: int = 0
    nps: NpsFigures = NpsFigures()
    csat: CsatFigures = CsatFigures()
    invited: int = 0
    answered: int = 0
    follow_ups: int = 0

    @property
    def response_rate(self) -> Decimal | None:
        return percent(self.answered, self.invited)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            responses=self.responses + other.responses,
            nps=NpsFigures(
                self.nps.promoters + other.nps.promoters,
                self.nps.detractors + other.nps.detractors,
                self.nps.answers + other.nps.answers,
            ),
            csat=CsatFigures(
                self.csat.answers + other.csat.answers,
                self.csat.total + other.csat.total,
                self.csat.satisfied + other.csat.satisfied,
            ),
            invited=self.invited + other.invited,
            answered=self.answered + other.answered,
            follow_ups=self.follow_ups + other.follow_ups,
        )

    @classmethod
    def from_row(cls, row: dict[str, Any], **extra: int) -> Figures:
        """Figures from one row of ``response_aggregates()`` (plus invitation counts)."""
        return cls(
            responses=row.get("responses") or 0,
            nps=NpsFigures(
                row.get("promoters") or 0, row.get("detractors") or 0, row.get("nps_answers") or 0
            ),
            csat=CsatFigures(
                row.get("csat_answers") or 0,
                Decimal(row.get("csat_sum") or 0),
                row.get("satisfied") or 0,
            ),
            **extra,
        )


def nps(responses: QuerySet[Any]) -> NpsFigures:
    """NPS over a queryset of SurveyResponse (one SQL aggregate)."""
    return Figures.from_row(responses.order_by().aggregate(**response_aggregates())).nps


def csat(responses: QuerySet[Any]) -> CsatFigures:
    """CSAT over a queryset of SurveyResponse (one SQL aggregate)."""
    return Figures.from_row(responses.order_by().aggregate(**response_aggregates())).csat


def figures(responses: QuerySet[Any]) -> Figures:
    """NPS and CSAT together in one query."""
    return Figures.from_row(responses.order_by().aggregate(**response_aggregates()))


def response_scores(
    nps_answer: int | None, ratings: list[int]
) -> tuple[int | None, Decimal | None]:
    """What a response stores: the NPS answer, and the mean of its ratings (2 decimals)."""
    return nps_answer, mean_of(sum(ratings), len(ratings)) if ratings else None


def is_low_score(nps_answer: int | None, ratings: list[int]) -> bool:
    """A detractor, or any rating of 1–2: the AM should call the client."""
    return (nps_answer is not None and nps_answer <= LOW_NPS_MAX) or any(
        r <= LOW_RATING_MAX for r in ratings
    )
