"""Two people editing the same client at once, in two real transactions on
PostgreSQL: one wins, the other is told (409 / form error) — no lost update."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from clients import services
from clients.models import Client
from clients.tests.factories import ClientFactory
from salesorg.lib.concurrency import StaleWrite
from tests.personas import build_org

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)

    def runner(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except Exception as exc:  # recorded for the assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_transactions_editing_the_same_version_cannot_both_win():
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL (DATABASE_URL).")
    org = build_org()
    client = ClientFactory(owner=org.rep, city="", industry="")
    version = client.version
    both_read = threading.Barrier(2)

    def edit(user, **changes) -> str:
        with transaction.atomic():
            mine = Client.objects.get(pk=client.pk)  # each reads version N
            both_read.wait(timeout=10)
            services.client_update(by=user, client=mine, expected_version=version, **changes)
            time.sleep(0.3)  # hold the row lock while the other one tries
        return "saved"

    results = _run_in_threads(
        lambda: edit(org.rep, city="Suzhou"), lambda: edit(org.am, industry="Mining")
    )
    assert sorted(type(r).__name__ for r in results) == ["StaleWrite", "str"]
    client.refresh_from_db()
    assert client.version == version + 1
    winner = results.index("saved")
    assert (client.city, client.industry) == (("Suzhou", "") if winner == 0 else ("", "Mining"))
    assert client.history.count() == 2  # created + the winner's change; nothing of the loser


def test_two_api_clients_patching_at_once_get_200_and_409():
    org = build_org()
    client = ClientFactory(owner=org.rep)
    start = threading.Barrier(2)

    def patch(user, city: str) -> int:
        api = APIClient()
        api.force_authenticate(user)
        start.wait(timeout=10)
        response = api.patch(
            f"/api/v1/clients/{client.pk}/",
            {"city": city, "version": client.version},
            format="json",
        )
        return response.status_code

    results = _run_in_threads(lambda: patch(org.rep, "Hefei"), lambda: patch(org.manager, "Jinan"))
    assert sorted(results) == [200, 409]
    client.refresh_from_db()
    assert client.city == ("Hefei" if results[0] == 200 else "Jinan")


def test_stale_write_is_the_exception_services_raise():
    org = build_org()
    client = ClientFactory(owner=org.rep)
    services.client_update(by=org.rep, client=client, expected_version=client.version, city="A")
    with pytest.raises(StaleWrite):
        services.client_update(
            by=org.rep, client=Client.objects.get(pk=client.pk), expected_version=1, city="B"
        )
