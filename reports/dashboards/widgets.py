"""The pieces a dashboard is made of: tiles, charts, tables, grouped in sections.

Builders only fill these dataclasses; the templates in
``reports/templates/reports/dashboards/`` draw them and ``static/js/dashboards.js``
turns each chart's data into a Chart.js chart whose bars, slices and points
open the records behind them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

from django.template import Context, engines
from django.template.backends.django import Template as DjangoTemplate
from django.template.base import render_value_in_context
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
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


# ------------------------------------------------------------------ table cells
#: The context ``{{ value }}`` prints in on a dashboard page: autoescape on, numbers
#: and dates localized per the settings and the active language, datetimes in the
#: current time zone (no page wraps a table in ``{% autoescape %}``/``{% localize %}``).
_PAGE = Context(autoescape=True)


def _printed(value: Any) -> str:
    """``value`` exactly as ``{{ value }}`` prints it on a dashboard page.

    The template engine's own ``render_value_in_context`` (local time, ``localize``,
    ``str``, ``conditional_escape``), so a cell built here is byte for byte the cell
    the template drew. A plain string, most cells, takes the short cut of what that
    amounts to for it: ``django.utils.html.escape`` is ``html.escape`` behind a lazy
    check and a ``SafeString`` that a table row does not need one by one.
    """
    if type(value) is str:
        return html.escape(value)
    return render_value_in_context(value, _PAGE)


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


#: Cells in which the template's ``cell.url``/``cell.tone`` find nothing: printed as they are.
_PLAIN = frozenset({SafeString, int, bool, float, Decimal, date, datetime, time})

#: The rules the table template used for one cell, kept for cells of any other type
#: (a dict, a model instance, a subclass…): its lookups try ``cell["url"]``, then an
#: attribute, then an index, and call what they find if it is callable.
_CELL_RULES = (
    '{% if cell.url %}<a href="{{ cell.url }}">{{ cell.text }}</a>'
    '{% elif cell.tone %}<span class="badge text-bg-{{ cell.tone }}">{{ cell.text }}</span>'
    "{% elif cell is None %}—{% else %}{{ cell }}{% endif %}"
)


@cache
def _cell_rules() -> DjangoTemplate:
    return engines["django"].from_string(_CELL_RULES)


def _cell_html(cell: Any) -> str:
    """One cell's HTML (escaped), by the template's rules in its order.

    A truthy ``url`` makes a link, else a truthy ``tone`` a badge, ``None`` a dash,
    anything else is printed as ``{{ cell }}`` would print it.
    """
    kind = type(cell)
    if kind is str:
        return html.escape(cell)
    if cell is None:
        return "—"
    if kind is Link:
        if cell.url:
            return f'<a href="{_printed(cell.url)}">{_printed(cell.text)}</a>'
        return _printed(cell)  # no tone either: {{ cell }}, i.e. its text
    if kind is Badge:
        if cell.tone:
            return f'<span class="badge text-bg-{_printed(cell.tone)}">{_printed(cell.text)}</span>'
        return _printed(cell)
    if kind in _PLAIN or isinstance(cell, Promise):
        return render_value_in_context(cell, _PAGE)
    return _cell_rules().render({"cell": cell})


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

    @cached_property
    def body_html(self) -> SafeString:
        """The ``<tr>`` rows of the drawn rows, as ``_table.html`` printed them cell by cell.

        A dashboard table is thousands of template nodes (an ``if`` chain and a
        column test per cell, each lookup trying a dict key, an attribute and an
        index); built here it is one string, byte for byte the same.
        """
        numeric = self.numeric or ()
        parts: list[str] = []
        append = parts.append
        for row in self.shown or ():
            append("<tr>")
            for index, cell in enumerate(row or ()):
                append('<td class="text-end text-nowrap">' if index in numeric else "<td>")
                append(_cell_html(cell))
                append("</td>")
            append("</tr>")
        return mark_safe("".join(parts))  # noqa: S308 — every cell is escaped by _cell_html

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
