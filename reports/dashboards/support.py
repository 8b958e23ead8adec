"""The support's dashboard."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import Dashboard


def build(params: DashboardParams) -> Dashboard:
    return Dashboard(role="support", title=_("Dashboard"))
