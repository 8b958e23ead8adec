"""Pieces more than one role's dashboard shows the same way."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import Chart
from reports.kpis import CadenceCompliance


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
