"""EXPLAIN ANALYZE of the visibility queries the list pages are built on.

For a manager and a rep (and the director, who sees everything), the first
page of clients, deals and activities as a list orders and limits them, and the
capped count the pagination runs. The report says which indexes each plan uses
and how long it took, so a missing index shows up before a page gets slow.
"""

from __future__ import annotations

import re
from typing import Any

PERSONAS = ("director", "manager1", "rep1")
PAGE = 25
COUNT_CAP = 10_000


def queries(user: Any) -> list[tuple[str, Any]]:
    from clients.models import Client
    from pipeline.models import Activity, Deal

    clients = Client.objects.visible_to(user)
    deals = Deal.objects.visible_to(user)
    activities = Activity.objects.visible_to(user)
    return [
        ("clients by name", clients.order_by("name", "pk")[:PAGE]),
        ("clients: capped count", clients.order_by()[: COUNT_CAP + 1]),
        ("deals by last update", deals.order_by("-updated_at", "pk")[:PAGE]),
        (
            "board column: negotiation",
            deals.filter(stage__code="negotiation").order_by("-updated_at", "pk")[:PAGE],
        ),
        ("activities, newest first", activities.order_by("-start_at", "-pk")[:PAGE]),
        ("activities: capped count", activities.order_by()[: COUNT_CAP + 1]),
    ]


_INDEX = re.compile(r"Index (?:Only )?Scan(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)")
_TIME = re.compile(r"Execution Time: ([\d.]+) ms")


def explain_all() -> list[dict[str, Any]]:
    from django.db import connection

    from accounts.models import User

    if connection.vendor != "postgresql":
        return []
    results = []
    for username in PERSONAS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        for label, qs in queries(user):
            if label.endswith("count"):
                sql, params = qs.values("pk").query.sql_with_params()
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) AS capped",
                        params,
                    )
                    plan = "\n".join(row[0] for row in cursor.fetchall())
            else:
                plan = qs.explain(analyze=True, buffers=True)
            indexes = sorted({a or b for a, b in _INDEX.findall(plan)})
            took = _TIME.search(plan)
            results.append(
                {
                    "persona": username,
                    "query": label,
                    "indexes": indexes,
                    "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan))),
                    "ms": float(took.group(1)) if took else None,
                    "plan": plan,
                }
            )
    return results
