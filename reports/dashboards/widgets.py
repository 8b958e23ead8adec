"""The pieces a dashboard is made of: tiles, charts, tables, grouped in sections.

Builders only fill these dataclasses; the templates in
``reports/templates/reports/dashboards/`` draw them and ``static/js/dashboards.js``
turns each chart's data into a Chart.js chart whose bars, slices and points
open the records behind them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from salesorg.lib.export import ReportTable


# ------------------------------------------------------------------ formatting
def money(value: Decimal | int | None) -> str:
    """A CNY amount as the board shows it: ``¥1,234,567`` (whole yuan)."""
    if value is None:
        return "—"
    return "¥" + number_format(Decimal(value).quantize(Decimal("1")), 0, force_grouping=True)


def count(value: int | None) -> str:
    return "—" if value is None else number_format(value, 0, force_grouping=True)


def pct(value: Decimal | None) -> str:
    """A percentage (already × 100), or a dash when there was nothing to divide by."""
    return "—" if value is None else f"{number_format(value, 1)}%"


def ratio_detail(numerator: int, denominator: int) -> str:
    return _("%(n)s of %(d)s") % {"n": count(numerator), "d": count(denominator)}


class LazyRows(Sequence[Sequence[Any]]):
    """Table rows made from ``items`` by ``make`` only when read.

    A dashboard table draws its first rows; the download has them all. A list
    of a hundred stale deals or approvals then formats fifteen for the page
    (dates, amounts, links), and all of them only when exported.
    """

    def __init__(self, items: Sequence[Any], make: Callable[[Any], Sequence[Any]]) -> None:
        self._items = items
        self._make = make

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._make(item) for item in self._items[index]]
        return self._make(self._items[index])


@dataclass(frozen=True)
class Link:
    """A table cell that opens a record or the records behind a number."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Badge:
    """A table cell shown as a coloured label (``tone``: a Bootstrap colour name)."""

    text: str
    tone: str = "secondary"

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------- widgets
@dataclass
class Tile:
    """One headline number; ``url`` lists the records behind it."""

    key: str
    label: str
    value: str
    url: str = ""
    detail: str = ""
    tone: str = ""  # "success", "warning", "danger" or "" (neutral)
    progress: Decimal | None = None  # 0–100+, drawn as a bar under the number

    template = "reports/dashboards/_tile.html"

    @property
    def progress_width(self) -> int:
        return 0 if self.progress is None else max(0, min(100, int(self.progress)))


@dataclass
class Chart:
    """A Chart.js chart; ``urls[i]`` (or ``urls[dataset][i]``) opens the records behind point i."""

    key: str
    title: str
    kind: str  # "bar", "line", "doughnut", "radar"
    labels: Sequence[str]
    datasets: list[dict[str, Any]]
    urls: Sequence[Any] = ()
    money: bool = False
    percent: bool = False
    stacked: bool = False
    horizontal: bool = False
    highlight: int | None = None  # a bar drawn in the warning colour (the bottleneck)
    note: str = ""
    height: int = 260

    template = "reports/dashboards/_chart.html"

    @property
    def json_id(self) -> str:
        return f"chart-data-{self.key}"

    @property
    def is_empty(self) -> bool:
        return not any(any(v for v in ds.get("data", []) if v) for ds in self.datasets)

    @property
    def data(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "labels": [str(label) for label in self.labels],
            "datasets": [
                {**ds, "data": [_plain(v) for v in ds.get("data", [])]} for ds in self.datasets
            ],
            "urls": list(self.urls),
            "money": self.money,
            "percent": self.percent,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "highlight": self.highlight,
        }


@dataclass
class Table:
    """A table; ``export`` offers it as CSV and XLSX (``?export=csv&table=<key>``)."""

    key: str
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]  # a list, or LazyRows for long lists
    empty: str = ""
    export: bool = True
    numeric: frozenset[int] = frozenset()  # column indexes aligned right
    more_url: str = ""  # "see all" link when the table shows the first rows only
    #: rows drawn on the page (the download has them all): a dashboard is read at a glance
    limit: int = 15

    template = "reports/dashboards/_table.html"

    @cached_property
    def shown(self) -> Sequence[Sequence[Any]]:
        return self.rows[: self.limit] if self.limit else self.rows

    @property
    def hidden(self) -> int:
        return max(0, len(self.rows) - len(self.shown))

    def report_table(self, stem: str) -> ReportTable:
        return ReportTable(
            f"{stem}_{self.key}",
            [str(h) for h in self.header],
            [[_cell(c) for c in row] for row in self.rows],
            sheet=str(self.title)[:31],
        )


@dataclass
class Section:
    """A card on the dashboard holding widgets; ``width`` is its Bootstrap column classes."""

    key: str
    title: str
    widgets: list[Any] = field(default_factory=list)
    width: str = "col-12 col-xl-6"
    note: str = ""
    link: Link | None = None


@dataclass
class Dashboard:
    """What a role sees: headline tiles, then sections of charts and tables."""

    role: str
    title: str
    tiles: list[Tile] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    period_kinds: Sequence[str] = ("week", "month", "quarter", "year", "custom")

    def tables(self) -> dict[str, Table]:
        return {w.key: w for s in self.sections for w in s.widgets if isinstance(w, Table)}

    def charts(self) -> list[Chart]:
        return [w for s in self.sections for w in s.widgets if isinstance(w, Chart)]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, Link | Badge):
        return value.text
    return value
