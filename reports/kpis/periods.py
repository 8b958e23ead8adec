"""Periods of local (Asia/Shanghai) days that every KPI is measured over."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The longest custom period a report may ask for (about five years).
MAX_CUSTOM_DAYS = 5 * 366


class PeriodKind(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
    CUSTOM = "custom", _("Custom range")


def local_midnight(day: date) -> datetime:
    """The aware moment a local day starts (``TIME_ZONE``, Asia/Shanghai by default)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The local days ``start`` (inclusive) to ``end`` (exclusive).

    Days are calendar days in ``settings.TIME_ZONE``: a deal closed or a call
    made at 23:30 in Shanghai on 31 January belongs to January, whatever the
    UTC clock said. Weeks start on Monday (ISO).
    """

    kind: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("A period ends after it starts.")

    # ------------------------------------------------------------ constructors
    @classmethod
    def containing(cls, kind: str, day: date | None = None) -> Period:
        """The day, week, month, quarter or year ``day`` (default: today) falls in."""
        day = day or timezone.localdate()
        if kind == PeriodKind.DAY:
            return cls(kind, day, day + timedelta(days=1))
        if kind == PeriodKind.WEEK:
            monday = day - timedelta(days=day.weekday())
            return cls(kind, monday, monday + timedelta(days=7))
        if kind == PeriodKind.MONTH:
            start = day.replace(day=1)
            return cls(kind, start, _add_months(start, 1))
        if kind == PeriodKind.QUARTER:
            start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            return cls(kind, start, _add_months(start, 3))
        if kind == PeriodKind.YEAR:
            return cls(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))
        raise ValueError(f"unknown period kind {kind!r}")

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        """The days ``first`` to ``last``, both included."""
        if last < first:
            raise ValidationError({"end": _("The period ends before it starts.")})
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise ValidationError({"end": _("A period can be at most five years long.")})
        return cls(PeriodKind.CUSTOM, first, last + timedelta(days=1))

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        """``[start, end)`` as a custom period (end exclusive, as stored here)."""
        return cls(PeriodKind.CUSTOM, start, end)

    # -------------------------------------------------------------- properties
    @property
    def last(self) -> date:
        """The last day in the period (inclusive)."""
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def local_start(self) -> datetime:
        return local_midnight(self.start)

    @property
    def local_end(self) -> datetime:
        return local_midnight(self.end)

    def __iter__(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def previous(self) -> Period:
        """The period of the same kind just before (the same length for a custom one)."""
        if self.kind == PeriodKind.CUSTOM:
            return Period(self.kind, self.start - timedelta(days=self.days), self.start)
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def clip(self, start: date | None = None, end: date | None = None) -> Period | None:
        """The part of this period within ``[start, end)``, or ``None`` when empty."""
        lo = max(self.start, start) if start else self.start
        hi = min(self.end, end) if end else self.end
        return Period(self.kind, lo, hi) if lo < hi else None

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.DAY:
            return self.start.isoformat()
        if self.kind == PeriodKind.WEEK:
            year, week, _day = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()} – {self.last.isoformat()}"

    @property
    def target_period(self) -> str | None:
        """The ``Target.Period`` this period is, when targets are set for it."""
        if self.kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
            return self.kind
        return None

    def workdays(self, *, until: date | None = None) -> int:
        """Monday-to-Friday days in the period (up to ``until``, exclusive, if given)."""
        end = min(self.end, until) if until else self.end
        if end <= self.start:
            return 0
        total = (end - self.start).days
        weeks, rest = divmod(total, 7)
        first = self.start.weekday()
        extra = sum(1 for i in range(rest) if (first + i) % 7 < 5)
        return weeks * 5 + extra
