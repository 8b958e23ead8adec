"""What the KPI functions return: small frozen dataclasses with the counts
behind each number, so a page can show "65% (13 of 20)" and a test can check
the parts, not just the ratio.

Ratios are ``Decimal`` fractions rounded to four places (``0.6500``) or
``None`` when there is nothing to divide by; ``percent`` is the same number
× 100 rounded to one place. Money is CNY, rounded to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from clients.survey_metrics import csat_mean, nps_score

ZERO = Decimal("0")


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else (value * 100).quantize(Decimal("0.1"))


class _Rate:
    """A share: ``numerator`` of ``denominator`` (the fields are named per KPI)."""

    _numerator: str
    _denominator: str

    @property
    def rate(self) -> Decimal | None:
        return ratio(getattr(self, self._numerator), self.denominator)

    @property
    def denominator(self) -> int:
        return getattr(self, self._denominator)

    @property
    def percent(self) -> Decimal | None:
        return percent(self.rate)


@dataclass(frozen=True)
class WonRevenue:
    """Won deals' amounts (CNY) by close date; ``other_currency`` deals are left out of the sum."""

    amount: Decimal = ZERO
    deals: int = 0
    other_currency: int = 0
    source: str = field(default="live", compare=False)


@dataclass(frozen=True)
class WinRate(_Rate):
    """Won ÷ (won + lost) among the deals closed in the period."""

    won: int = 0
    lost: int = 0
    source: str = field(default="live", compare=False)
    _numerator = "won"

    @property
    def denominator(self) -> int:
        return self.won + self.lost

    @property
    def closed(self) -> int:
        return self.won + self.lost


@dataclass(frozen=True)
class Nps:
    """% promoters (9–10) − % detractors (0–6) among the NPS answers, −100 to 100."""

    responses: int = 0
    promoters: int = 0
    detractors: int = 0
    source: str = field(default="live", compare=False)

    @property
    def passives(self) -> int:
        return self.responses - self.promoters - self.detractors

    @property
    def score(self) -> Decimal | None:
        return nps_score(self.responses, self.promoters, self.detractors)


@dataclass(frozen=True)
class Csat:
    """The average satisfaction score of the answers that gave one."""

    responses: int = 0
    total: Decimal = ZERO
    source: str = field(default="live", compare=False)

    @property
    def average(self) -> Decimal | None:
        return csat_mean(self.responses, self.total)


@dataclass(frozen=True)
class ComplaintSla(_Rate):
    """Complaints received in the period with a first response by their SLA deadline."""

    received: int = 0
    in_sla: int = 0
    source: str = field(default="live", compare=False)
    _numerator = "in_sla"
    _denominator = "received"

    @property
    def missed(self) -> int:
        """Not answered in time — or not answered yet."""
        return self.received - self.in_sla


@dataclass(frozen=True)
class ActivityVsTargets:
    """Done calls (with follow-up calls), visits and demos against the people's targets.

    ``expected_*`` add up the targets of the people in the scope with a target
    for the period (calls a day × working days so far, visits and demos a
    week × working weeks so far); ``None`` when nobody in it has one.
    """

    calls: int = 0
    visits: int = 0
    demos: int = 0
    expected_calls: Decimal | None = None
    expected_visits: Decimal | None = None
    expected_demos: Decimal | None = None
    workdays: int = 0
    people_with_targets: int = 0
    source: str = field(default="live", compare=False)

    def attainment(self, kind: str) -> Decimal | None:
        expected = getattr(self, f"expected_{kind}")
        return None if expected is None else ratio(getattr(self, kind), expected)


@dataclass(frozen=True)
class Attainment:
    """Won revenue ÷ the revenue target of the same scope and period."""

    target: Decimal = ZERO
    won: Decimal = ZERO
    target_id: int | None = None

    @property
    def ratio(self) -> Decimal | None:
        """Won ÷ target, or ``None`` when there is no revenue target to measure against."""
        if not self.target:
            return None
        return self.won / self.target

    @property
    def percent(self) -> Decimal | None:
        value = self.ratio
        return None if value is None else (value * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class FunnelStage:
    stage_id: int
    code: str
    name: str
    order: int
    deals: int = 0
    amount: Decimal = ZERO
    weighted_amount: Decimal = ZERO
    other_currency: int = 0


@dataclass(frozen=True)
class Funnel:
    """Open deals by stage at the end of ``as_of`` (count, CNY amount, weighted amount)."""

    as_of: date
    stages: tuple[FunnelStage, ...] = ()
    source: str = field(default="live", compare=False)

    @property
    def deals(self) -> int:
        return sum(s.deals for s in self.stages)

    @property
    def amount(self) -> Decimal:
        return sum((s.amount for s in self.stages), ZERO)

    @property
    def weighted_amount(self) -> Decimal:
        return sum((s.weighted_amount for s in self.stages), ZERO)


@dataclass(frozen=True)
class StageStep(_Rate):
    """Deals that entered ``stage`` in the period, and how many moved further on since."""

    stage_id: int = 0
    code: str = ""
    name: str = ""
    order: int = 0
    entered: int = 0
    advanced: int = 0
    _numerator = "advanced"
    _denominator = "entered"


@dataclass(frozen=True)
class StageConversion:
    steps: tuple[StageStep, ...] = ()

    @property
    def bottleneck(self) -> StageStep | None:
        """The stage deals most often get stuck in (lowest conversion with deals in it)."""
        measured = [s for s in self.steps if s.entered]
        return min(measured, key=lambda s: (s.rate, s.order)) if measured else None


@dataclass(frozen=True)
class VisitConversion(_Rate):
    """Prospects visited in the period, and how many of them have a won deal since."""

    visited: int = 0
    converted: int = 0
    _numerator = "converted"
    _denominator = "visited"


@dataclass(frozen=True)
class NegotiationCycle:
    """Days from a deal first entering negotiation to its contract's signature."""

    contracts: int = 0
    total_days: int = 0
    source: str = field(default="live", compare=False)

    @property
    def average_days(self) -> Decimal | None:
        if not self.contracts:
            return None
        return (Decimal(self.total_days) / self.contracts).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class AverageContract:
    """Contracts signed in the period: how many, their CNY total and average."""

    contracts: int = 0
    total: Decimal = ZERO
    other_currency: int = 0
    source: str = field(default="live", compare=False)

    @property
    def average(self) -> Decimal | None:
        counted = self.contracts - self.other_currency
        return (self.total / counted).quantize(Decimal("0.01")) if counted else None


@dataclass(frozen=True)
class RenewalRate(_Rate):
    """Contracts renewed ÷ contracts that reached their end date in the period."""

    ended: int = 0
    renewed: int = 0
    source: str = field(default="live", compare=False)
    _numerator = "renewed"
    _denominator = "ended"


@dataclass(frozen=True)
class PipelineMonth:
    month: date
    deals: int = 0
    amount: Decimal = ZERO
    weighted_amount: Decimal = ZERO
    other_currency: int = 0


@dataclass(frozen=True)
class WeightedPipeline:
    """Open deals by expected close month: Σ amount × probability (CNY)."""

    months: tuple[PipelineMonth, ...] = ()

    @property
    def weighted_amount(self) -> Decimal:
        return sum((m.weighted_amount for m in self.months), ZERO)

    @property
    def amount(self) -> Decimal:
        return sum((m.amount for m in self.months), ZERO)


@dataclass(frozen=True)
class CadenceCompliance(_Rate):
    """Clients with a visit cadence visited within its interval, as of a day."""

    as_of: date
    clients: int = 0
    on_cadence: int = 0
    _numerator = "on_cadence"
    _denominator = "clients"

    @property
    def overdue(self) -> int:
        return self.clients - self.on_cadence


@dataclass(frozen=True)
class RfmCell:
    recency: int
    frequency: int
    monetary: int
    clients: int
    segment: str


@dataclass(frozen=True)
class RfmDistribution:
    """How the scope's clients score on recency, frequency and monetary value (1–5 each)."""

    as_of: date
    cells: tuple[RfmCell, ...] = ()

    @property
    def scored(self) -> int:
        return sum(c.clients for c in self.cells)

    def marginal(self, dimension: str) -> dict[int, int]:
        out = dict.fromkeys(range(1, 6), 0)
        for cell in self.cells:
            out[getattr(cell, dimension)] += cell.clients
        return out

    @property
    def segments(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for cell in self.cells:
            out[cell.segment] = out.get(cell.segment, 0) + cell.clients
        return out


def as_plain(value: Any) -> Any:
    """A result as JSON-friendly data (dataclass fields and the figures built on them)."""
    if isinstance(value, tuple | list):
        return [as_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        out = {name: as_plain(getattr(value, name)) for name in value.__dataclass_fields__}
        for name in (
            "rate",
            "percent",
            "score",
            "average",
            "average_days",
            "passives",
            "missed",
            "overdue",
        ):
            if hasattr(type(value), name):
                out[name] = as_plain(getattr(value, name))
        return out
    return value
