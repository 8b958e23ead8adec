"""The main menu: one list, filtered by what the user may open.

An item whose URL name does not exist (yet) is simply left out, so each app
can name its pages here without breaking the menu.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str = ""
    perm: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    #: view-name prefix that counts as "this section" for highlighting
    section: str = ""
    children: tuple[NavItem, ...] = ()


NAV: list[NavItem] = [
    NavItem(_("Home"), "home", section="reports:home"),
    NavItem(_("Clients"), "clients:list", perm="clients.view_client", section="clients:"),
    NavItem(
        _("Sales"),
        children=(
            NavItem(
                _("Leads"), "pipeline:lead-list", perm="pipeline.view_lead", section="pipeline:lead"
            ),
            NavItem(
                _("Deal board"),
                "pipeline:deal-board",
                perm="pipeline.view_deal",
                section="pipeline:deal",
            ),
            NavItem(_("Deals"), "pipeline:deal-list", perm="pipeline.view_deal"),
            NavItem(
                _("Activities"),
                "pipeline:activity-list",
                perm="pipeline.view_activity",
                section="pipeline:activit",
            ),
            NavItem(
                _("Visit calendar"), "pipeline:activity-calendar", perm="pipeline.view_activity"
            ),
            # --- quick log and visit cadence (pipeline-activities) ---
            NavItem(_("Quick log"), "pipeline:activity-quick", perm="pipeline.add_activity"),
            NavItem(
                _("Visit cadence"),
                "pipeline:cadence",
                perm="clients.view_client",
                section="pipeline:cadence",
            ),
            # --- end pipeline-activities ---
            NavItem(
                _("Quotes"),
                "pipeline:quote-list",
                perm="pipeline.view_quote",
                section="pipeline:quote",
            ),
            # discount approvals (pipeline-quotes)
            NavItem(
                _("Discount approvals"),
                "pipeline:approval-list",
                perm="pipeline.approve_discount",
                section="pipeline:approval",
            ),
            NavItem(
                _("Products"),
                "pipeline:product-list",
                perm="pipeline.view_product",
                section="pipeline:product",
            ),
        ),
    ),
    NavItem(
        _("Accounts"),
        children=(
            NavItem(
                _("Contracts and renewals"),
                "pipeline:contract-list",
                perm="pipeline.view_contract",
                section="pipeline:contract",
            ),
            NavItem(
                _("Delivery projects"),
                "pipeline:project-list",
                perm="pipeline.view_project",
                section="pipeline:project",
            ),
            # renewals and overdue milestones (pipeline-quotes)
            NavItem(
                _("Renewals"),
                "pipeline:renewal-list",
                perm="pipeline.view_contract",
                section="pipeline:renewal",
            ),
            NavItem(
                _("Overdue milestones"),
                "pipeline:milestones-overdue",
                perm="pipeline.view_milestone",
                section="pipeline:milestone",
            ),
            NavItem(
                _("Targets"),
                "pipeline:target-list",
                perm="pipeline.view_target",
                section="pipeline:target",
            ),
            NavItem(
                _("Events"),
                "pipeline:event-list",
                perm="pipeline.view_event",
                section="pipeline:event",
            ),
            # complaints (care-complaints)
            NavItem(
                _("Complaints"),
                "clients:complaint-list",
                perm="clients.view_complaint",
                section="clients:complaint",
            ),
            # --- satisfaction surveys and NPS (care-surveys) ---
            NavItem(
                _("Surveys"),
                "clients:survey-list",
                perm="clients.view_surveycampaign",
                section="clients:survey-campaign",
            ),
            NavItem(
                _("Survey results"),
                "clients:survey-results",
                perm="clients.view_surveyresponse",
            ),
            # --- end of surveys ---
        ),
    ),
    NavItem(
        _("Data"),
        children=(
            NavItem(
                _("Data quality"),
                "clients:quality",
                perm="clients.merge_client",
                section="clients:quality",
            ),
            NavItem(
                _("Import clients"),
                "clients:import",
                perm="clients.import_client",
                section="clients:import",
            ),
        ),
    ),
    # --- planning and team tools, weekly reports (reports-planning) ---
    NavItem(
        _("Team"),
        children=(
            NavItem(
                _("My weekly report"),
                "reports:weekly-report",
                perm="reports.add_weeklyreport",
                section="reports:weekly-report",
            ),
            NavItem(
                _("Team's weekly reports"),
                "reports:weekly-team",
                perm="reports.comment_weeklyreport",
                section="reports:weekly-team",
            ),
            NavItem(
                _("Weekly reports"),
                "reports:weekly-report-list",
                perm="reports.view_weeklyreport",
                section="reports:weekly-report-list",
            ),
            NavItem(
                _("Sales plans"),
                "reports:plan-list",
                perm="reports.view_salesplan",
                section="reports:plan",
            ),
            NavItem(
                _("Market research"),
                "reports:analysis-list",
                perm="reports.view_marketanalysis",
                section="reports:analysis",
            ),
            NavItem(
                _("Competitors"),
                "reports:competitor-list",
                perm="reports.view_competitor",
                section="reports:competitor",
            ),
            NavItem(
                _("Risk register"),
                "reports:risk-list",
                perm="reports.view_risk",
                section="reports:risk",
            ),
            NavItem(
                _("Improvement actions"),
                "reports:improvement-list",
                perm="reports.view_improvementaction",
                section="reports:improvement",
            ),
            NavItem(
                _("Performance reviews"),
                "reports:review-list",
                perm="reports.view_performancereview",
                section="reports:review",
            ),
            NavItem(
                _("Training records"),
                "reports:training-list",
                perm="reports.view_trainingrecord",
                section="reports:training",
            ),
            NavItem(
                _("Skill matrix"),
                "reports:skill-matrix",
                perm="reports.view_skillassessment",
                section="reports:skill",
            ),
        ),
    ),
    # --- end reports-planning ---
    NavItem(
        _("Organisation"),
        children=(
            NavItem(_("Org chart"), "accounts:org-chart", section="accounts:org"),
            NavItem(
                _("People"),
                "accounts:user-list",
                perm="accounts.view_user",
                section="accounts:user",
            ),
            # --- operations page (care-jobs)
            NavItem(
                _("Operations"),
                "reports:operations",
                perm="reports.view_operations",
                section="reports:operations",
            ),
        ),
    ),
]


def _entry(item: NavItem, request: HttpRequest, current: str) -> dict[str, Any] | None:
    user = request.user
    if item.perm and not user.has_perm(item.perm):
        return None
    if item.roles and user.role not in item.roles:
        return None
    if item.children:
        children = [e for c in item.children if (e := _entry(c, request, current))]
        if not children:
            return None
        return {
            "label": item.label,
            "children": children,
            "active": any(c["active"] for c in children),
        }
    try:
        url = reverse(item.url_name)
    except NoReverseMatch:
        return None
    active = current == item.url_name or (bool(item.section) and current.startswith(item.section))
    return {"label": item.label, "url": url, "active": active}


def menu_for(request: HttpRequest) -> list[dict[str, Any]]:
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    return [e for item in NAV if (e := _entry(item, request, current))]
