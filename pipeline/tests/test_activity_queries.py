"""Query counts of the pages and endpoints, pinned and shown constant in the data size.

Each case loads the page at two data sizes and asserts the same number of
queries, under a pinned maximum. What the queries are (for a manager):
session + user, the user's role permissions, the visibility scope (the
people below them), then the page's own reads — each one query however many
rows there are.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Cadence, Client
from pipeline.models import Activity, Event, Objection, Target
from pipeline.tests.activity_factories import DealFactory, ProductFactory
from reports.kpis.tree import ensure_fresh as ensure_tree_history

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 10, 15, 0, tzinfo=SHANGHAI)  # Wednesday of 2026-W24


def grow(org, size: int) -> None:
    """``size`` clients, deals and activities (with objections and products) per East person."""
    product = ProductFactory()
    for owner in (org.rep, org.peer_rep, org.am):
        start = Client.objects.count()
        clients = Client.objects.bulk_create(
            Client(
                name=f"Q client {start + i}",
                name_normalized=f"qclient{start + i}",
                owner=owner,
                account_manager=org.am,
                cadence=[Cadence.WEEKLY, Cadence.MONTHLY, Cadence.ON_DEMAND][i % 3],
                next_visit_due=date(2026, 6, 10) + timedelta(days=(i % 20) - 10),
            )
            for i in range(size)
        )
        deals = [DealFactory(client=c) for c in clients[: max(1, size // 4)]]
        activities = Activity.objects.bulk_create(
            Activity(
                type=["visit", "call", "meeting", "demo"][i % 4],
                status=["done", "planned"][i % 2],
                client=clients[i],
                deal=deals[i % len(deals)] if i % 3 == 0 else None,
                owner=owner,
                start_at=NOW - timedelta(days=i % 7, hours=i % 5),
                duration_minutes=30,
                outcome=f"outcome {i}",
                subject=f"subject {i}",
            )
            for i in range(size)
        )
        Objection.objects.bulk_create(
            Objection(activity=a, objection="Too expensive") for a in activities[::2]
        )
        for a in activities[::3]:
            a.products_demonstrated.add(product)
        taken = Target.objects.filter(user=owner).count()
        Target.objects.bulk_create(
            Target(
                user=owner,
                period="month",
                period_start=date(2026, 6 - taken - i, 1),
                revenue=Decimal(size * 1000),
            )
            for i in range(2 if size < 10 else 4)
        )
    for i in range(size):
        ProductFactory(category=f"Cat {i % 3}")
        Event.objects.create(
            name=f"Fair {i}", kind="trade_show", starts_on=date(2026, 6, 1), owner=org.support
        )


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(ctx.captured_queries)


CASES = [
    # (persona, url name or path, query string, pinned maximum)
    ("manager", "pipeline:activity-list", "", 8),
    ("manager", "pipeline:activity-list", "?type=visit&status=done&sort=client", 8),
    ("rep", "pipeline:activity-list", "", 7),
    ("manager", "pipeline:activity-calendar", "?week=2026-W24&who=team", 7),
    ("rep", "pipeline:activity-calendar", "?week=2026-W24", 6),
    ("am", "pipeline:cadence", "", 9),
    ("am", "pipeline:cadence", "?status=on_demand&who=all", 9),
    ("rep", "pipeline:activity-quick", "", 9),
    ("rep", "pipeline:activity-pick-client", "?q=client", 7),
    ("manager", "pipeline:product-list", "", 7),
    ("support", "pipeline:event-list", "", 6),
    ("manager", "pipeline:target-list", "", 16),
    # + 1: is the organisation's history (team figures, reports.kpis.tree) current?
    ("manager", "pipeline:target-breakdown", "?period=month&start=2026-06", 19),
    ("director", "pipeline:target-breakdown", "?period=month&start=2026-06", 13),
    ("manager", "/api/v1/activities/", "", 7),
    ("rep", "/api/v1/activities/", "?type=visit", 7),
    ("manager", "/api/v1/products/", "", 7),
    ("manager", "/api/v1/targets/", "", 9),
]


@pytest.mark.parametrize(("persona", "target", "query", "pinned"), CASES)
def test_query_count_is_pinned_and_constant(login, org, persona, target, query, pinned):
    url = (target if target.startswith("/") else reverse(target)) + query
    web = login(getattr(org, persona))
    with time_machine.travel(NOW, tick=False):
        grow(org, 4)
        ensure_tree_history()  # recorded once after the people are hired, not per request
        small = queries(web, url)
        grow(org, 30)
        large = queries(web, url)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    assert large <= pinned, f"{url}: {large} queries, pinned at {pinned}"


def test_activity_detail_and_csv_export_are_constant(login, org):
    web = login(org.manager)
    with time_machine.travel(NOW, tick=False):
        grow(org, 4)
        first = Activity.objects.filter(objections__isnull=False).first()
        detail = reverse("pipeline:activity-detail", args=[first.pk])
        export = reverse("pipeline:activity-list") + "?export=csv"
        small = (queries(web, detail), queries(web, export))
        grow(org, 30)
        assert (queries(web, detail), queries(web, export)) == small
    assert small[0] <= 9
