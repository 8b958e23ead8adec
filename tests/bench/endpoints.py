"""Every page and API endpoint the benchmark measures, in one list.

Add a line when you add a page or an endpoint. A page is named by its URL name
(``"clients:list"``), an API endpoint by its path (``"/api/v1/clients/"``);
``args`` picks what goes into the URL for each persona — typically a record
that persona can see. Entries whose URL does not exist yet, or for which a
persona sees no record, are skipped and listed in the report, so entries for
pages being built elsewhere can be declared before they land.

Targets (issue 3): at 10,000 clients, list and detail pages p95 ≤ 100 ms and
API lists p95 ≤ 100 ms (server time). ``target_ms`` is the p95 an entry is held
to; ``None`` measures without a target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: The personas, one per role (DESIGN.md "Contracts"): usernames of the demo company.
PERSONAS: tuple[str, ...] = ("director", "manager1", "am1", "rep1", "support1")
SELLERS: tuple[str, ...] = ("director", "manager1", "am1", "rep1")

Args = Callable[[Any], Sequence[Any] | None]


@dataclass(frozen=True)
class Endpoint:
    name: str
    #: a URL name (pages) or a path starting with "/" that may hold "{}" for args (API)
    target: str
    kind: str = "page"  # "page": signed in with a session; "api": with a token
    args: Args | None = None
    query: str = ""
    personas: tuple[str, ...] = PERSONAS
    target_ms: float | None = 100.0


def visible(
    model: str, *order: str, field: str = "pk", **filters: Any
) -> Callable[[Any], tuple[Any] | None]:
    """Args picker: the first record of ``model`` the persona sees, in ``order``.

    Ordering by the busiest record (``-spend_12m``, ``-amount``) measures the
    heavy end of detail pages rather than an empty one.
    """

    def pick(user: Any) -> tuple[Any] | None:
        from django.apps import apps

        qs = apps.get_model(model)._default_manager.visible_to(user).filter(**filters)
        value = qs.order_by(*(order or ("pk",))).values_list(field, flat=True).first()
        return None if value is None else (value,)

    pick.__name__ = f"visible({model})"
    return pick


def own_role(user: Any) -> tuple[str]:
    return (user.role,)


def api(name: str, path: str, **kw: Any) -> Endpoint:
    return Endpoint(name, path, kind="api", **kw)


ENDPOINTS: list[Endpoint] = [
    # --- accounts (foundation)
    Endpoint("home (redirect)", "home", target_ms=None),
    # --- role dashboards (issue 6): p95 ≤ 150 ms, the director's ≤ 300 ms
    Endpoint(
        "dashboard",
        "reports:home",
        args=own_role,
        personas=("manager1", "am1", "rep1", "support1"),
        target_ms=150.0,
    ),
    Endpoint(
        "dashboard, the quarter",
        "reports:home",
        args=own_role,
        query="?period=quarter",
        personas=("manager1", "am1", "support1"),
        target_ms=150.0,
    ),
    Endpoint("dashboard", "reports:home", args=own_role, personas=("director",), target_ms=300.0),
    Endpoint(
        "dashboard, the year",
        "reports:home",
        args=own_role,
        query="?period=year",
        personas=("director",),
        target_ms=300.0,
    ),
    Endpoint("dashboard records: won revenue", "reports:records", args=lambda u: ("won-revenue",)),
    Endpoint(
        "dashboard records: funnel",
        "reports:records",
        args=lambda u: ("funnel",),
        personas=SELLERS,
    ),
    Endpoint("org chart", "accounts:org-chart"),
    Endpoint("people", "accounts:user-list"),
    Endpoint("person", "accounts:user-detail", args=visible("accounts.User", "-path")),
    api("api users", "/api/v1/users/"),
    api("api me", "/api/v1/me/"),
    api("api teams", "/api/v1/teams/"),
    # --- clients (issue 3)
    Endpoint("clients", "clients:list"),
    Endpoint("clients search", "clients:list", query="?q=%E5%8D%8E"),  # 华
    Endpoint("clients filtered", "clients:list", query="?status=active&sort=-spend_12m"),
    Endpoint("client", "clients:detail", args=visible("clients.Client", "-spend_12m")),
    api("api clients", "/api/v1/clients/"),
    api("api clients search", "/api/v1/clients/", query="?search=%E5%8D%8E"),
    api("api client", "/api/v1/clients/{}/", args=visible("clients.Client", "-spend_12m")),
    api("api contacts", "/api/v1/contacts/"),
    api("api contact", "/api/v1/contacts/{}/", args=visible("clients.Contact", "-pk")),
    # --- pipeline (issue 4)
    Endpoint("leads", "pipeline:lead-list"),
    Endpoint("deals", "pipeline:deal-list"),
    Endpoint("deal board", "pipeline:deal-board", personas=(*SELLERS, "support1")),
    Endpoint("deal", "pipeline:deal-detail", args=visible("pipeline.Deal", "-amount")),
    Endpoint("activities", "pipeline:activity-list"),
    Endpoint("visit calendar", "pipeline:activity-calendar"),
    Endpoint("visit cadence", "pipeline:cadence"),
    Endpoint("quotes", "pipeline:quote-list"),
    Endpoint("contracts", "pipeline:contract-list"),
    Endpoint("projects", "pipeline:project-list"),
    Endpoint("targets", "pipeline:target-list"),
    api("api leads", "/api/v1/leads/"),
    api("api deals", "/api/v1/deals/"),
    api("api deal", "/api/v1/deals/{}/", args=visible("pipeline.Deal", "-amount")),
    api("api stages", "/api/v1/stages/"),
    api("api activities", "/api/v1/activities/"),
    api("api products", "/api/v1/products/"),
    api("api quotes", "/api/v1/quotes/"),
    api("api contracts", "/api/v1/contracts/"),
    api("api projects", "/api/v1/projects/"),
    api("api targets", "/api/v1/targets/"),
    # --- complaints (care-complaints)
    Endpoint("complaints", "clients:complaint-list", query="?tab=all"),
    Endpoint("complaints overdue", "clients:complaint-list", query="?tab=all&overdue=1"),
    Endpoint(
        "complaint", "clients:complaint-detail", args=visible("clients.Complaint", "-received_at")
    ),
    api("api complaints", "/api/v1/complaints/"),
    api(
        "api complaint",
        "/api/v1/complaints/{}/",
        args=visible("clients.Complaint", "-received_at"),
    ),
    # --- planning and team tools, weekly sales reports (reports-planning)
    Endpoint("sales plans", "reports:plan-list"),
    Endpoint(
        "sales plan", "reports:plan-detail", args=visible("reports.SalesPlan", "-period_start")
    ),
    Endpoint("competitors", "reports:competitor-list"),
    Endpoint("market analyses", "reports:analysis-list"),
    Endpoint("risk register", "reports:risk-list"),
    Endpoint("improvement actions", "reports:improvement-list"),
    Endpoint("performance reviews", "reports:review-list"),
    Endpoint("training records", "reports:training-list"),
    Endpoint("skill matrix", "reports:skill-matrix"),
    Endpoint("my weekly report", "reports:weekly-report", personas=("am1", "rep1")),
    Endpoint("weekly reports", "reports:weekly-report-list"),
    Endpoint(
        "team's weekly reports",
        "reports:weekly-team",
        personas=("director", "manager1", "am1", "support1"),
    ),
    Endpoint(
        "weekly report",
        "reports:weekly-report-detail",
        args=visible("reports.WeeklyReport", "-week_start", status="submitted"),
    ),
    api("api weekly reports", "/api/v1/weekly-reports/"),
    api("api risks", "/api/v1/risks/"),
    api("api risk heat map", "/api/v1/risks/heatmap/"),
    # --- end reports-planning
]
