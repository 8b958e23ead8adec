"""Pieces more than one role's dashboard shows the same way."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import Chart
from reports.kpis import CadenceCompliance, Period, Totals


def text(name: str) -> Cast:
    """A column as text inside a JSON row (amounts keep their exact decimals)."""
    return Cast(name, output_field=CharField())


def sum_totals(groups: Mapping[date, Totals], period: Period) -> Totals:
    """The measures of the groups (days, months…) whose first day falls in ``period``."""
    total = Totals()
    for day, values in groups.items():
        if day in period:
            total = total + values
    return total


def attainment_tone(value: Decimal | None, good: int = 100, fair: int = 70) -> str:
    """Green at ``good`` per cent or more, amber from ``fair``, red below; none without a value."""
    if value is None:
        return ""
    return "success" if value >= good else "warning" if value >= fair else "danger"


def cadence_chart(params: DashboardParams, cadence: CadenceCompliance, *, height: int) -> Chart:
    """Accounts on cadence and overdue as a doughnut; each slice opens its accounts."""
    return Chart(
        key="cadence",
        title=_("Accounts by visit cadence"),
        kind="doughnut",
        labels=[_("On cadence"), _("Overdue")],
        datasets=[
            {
                "label": _("Accounts"),
                "data": [cadence.on_cadence, cadence.overdue],
                "colors": ["#198754", "#dc3545"],
            }
        ],
        urls=[
            params.drill("cadence-compliance", part="on_cadence"),
            params.drill("cadence-compliance", part="overdue"),
        ],
        height=height,
    )
