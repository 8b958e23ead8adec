"""Optimistic concurrency: a stale write is refused, never silently applied."""

import threading

import pytest
from django.db import connection, transaction

from clients.models import Client
from salesorg.lib.concurrency import StaleWrite


@pytest.mark.django_db
def test_a_stale_version_is_refused_and_changes_nothing(org):
    client = Client.objects.create(name="Acme", owner=org.rep)
    first = Client.objects.get(pk=client.pk)
    second = Client.objects.get(pk=client.pk)
    first.phone = "021 5555 0001"
    first.save_versioned(expected_version=1)
    second.phone = "021 5555 0002"
    with pytest.raises(StaleWrite):
        second.save_versioned(expected_version=1)
    client.refresh_from_db()
    assert (client.phone, client.version) == ("021 5555 0001", 2)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_on_postgresql_one_wins(org):
    client = Client.objects.create(name="Acme", owner=org.rep)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(phone: str) -> None:
        try:
            with transaction.atomic():
                mine = Client.objects.get(pk=client.pk)
                barrier.wait(timeout=10)  # both have read version 1
                mine.phone = phone
                mine.save_versioned(expected_version=1)
            outcomes.append("saved")
        except StaleWrite:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(p,)) for p in ("021 1", "021 2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "saved"]
    client.refresh_from_db()
    assert client.version == 2
