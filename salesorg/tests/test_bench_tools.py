"""The benchmark's own tools: the timing headers and the bulk loader of the seeders."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from accounts.models import User
from pipeline.models import Event
from salesorg.lib import bulkload
from salesorg.lib.bulkload import BulkLoader, check_foreign_keys

pytestmark = pytest.mark.django_db

BENCH_MIDDLEWARE = ["salesorg.lib.benchheaders.BenchHeadersMiddleware", *settings.MIDDLEWARE]


def test_no_timing_headers_unless_enabled(client):
    response = client.get("/healthz")
    assert "X-Server-Time-Ms" not in response
    assert "salesorg.lib.benchheaders.BenchHeadersMiddleware" not in settings.MIDDLEWARE


@override_settings(MIDDLEWARE=BENCH_MIDDLEWARE)
def test_timing_headers_count_the_queries_of_the_request(client, org):
    client.force_login(org.rep)
    client.get("/org/")  # the first request caches the permission set
    response = client.get("/org/")
    assert response.status_code == 200
    assert float(response["X-Server-Time-Ms"]) > 0
    queries = int(response["X-Query-Count"])
    assert queries >= 1  # the user at least (the session is cached)
    assert float(response["X-Query-Time-Ms"]) <= float(response["X-Server-Time-Ms"])

    with override_settings(MIDDLEWARE=settings.MIDDLEWARE):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            client.get("/org/")
    assert queries == len(captured.captured_queries)


TEXTS = ["plain", "tab\there", "line\nbreak", "back\\slash", "上海华信科技有限公司", ""]


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "executemany"])
def test_bulk_loader_writes_the_same_rows_both_ways(copy, monkeypatch, org):
    """COPY (PostgreSQL) and the portable INSERT path store exactly what was given."""
    monkeypatch.setattr(bulkload, "uses_copy", lambda connection=None: copy)
    loader = BulkLoader(chunk_size=2)
    events = loader.table(
        "events", Event, ["id", "name", "kind", "starts_on", "venue", "owner", "budget",
                          "notes", "created_at", "ends_on"]
    )  # fmt: skip
    ids = loader.ids.take(Event, len(TEXTS))
    at = datetime(2026, 3, 4, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    for pk, text in zip(ids, TEXTS, strict=True):
        events.add(
            (pk, f"Event {pk}", "forum", date(2026, 3, 4), text, org.manager.pk,
             Decimal("1234.50"), text, at, None)
        )  # fmt: skip
    loader.flush()
    stored = {e.pk: e for e in Event.objects.filter(pk__in=ids)}
    assert [stored[pk].venue for pk in ids] == TEXTS
    assert all(stored[pk].created_at == at and stored[pk].ends_on is None for pk in ids)
    assert all(stored[pk].budget == Decimal("1234.50") for pk in ids)
    # ids handed out up front never collide with an ordinary insert afterwards
    later = Event.objects.create(
        name="later", kind="forum", starts_on=date(2026, 3, 5), owner=org.rep
    )
    assert later.pk not in ids


def test_dangling_foreign_keys_are_found(org):
    """The set-based check that replaces the per-row triggers during the large seed."""
    loader = BulkLoader()
    columns = ["name", "kind", "starts_on", "venue", "owner", "budget", "notes", "created_at"]
    events = loader.table("events", Event, columns)
    missing_user = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 999
    now = datetime.now(tz=ZoneInfo("UTC"))
    with pytest.raises(IntegrityError, match=r"pipeline_event\.owner_id"), transaction.atomic():
        events.add(("ghost", "forum", date(2026, 3, 4), "", missing_user, 0, "", now))
        loader.flush()  # the database checks deferred keys only at commit
        check_foreign_keys([Event])
    check_foreign_keys([Event, User])  # nothing dangling now
