"""Two people moving the same deal at once, on real PostgreSQL connections (threads).

Each thread has its own database connection and transaction, as two web
requests would. One move wins; the other gets ``StaleWrite`` (409 in the API,
a conflict notice on the board); the stored deal and its history show exactly
one move — no lost update, no double history row.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from clients.models import Client
from pipeline.models import Deal, DealStageChange
from pipeline.services import deals as services
from pipeline.services import leads as lead_services
from pipeline.tests.factories import DealFactory, LeadFactory, stage
from salesorg.lib.concurrency import StaleWrite

pytestmark = pytest.mark.django_db(transaction=True)


def _run(target, results: dict, name: str, *args) -> threading.Thread:
    def body() -> None:
        try:
            results[name] = target(*args)
        except Exception as exc:  # the test inspects what happened
            results[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=body, name=name)
    thread.start()
    return thread


def test_two_moves_at_once_one_wins_the_other_conflicts(org):
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL (row locks)")
    deal = DealFactory(owner=org.rep, title="Race")
    read_version = deal.version
    start = threading.Barrier(2)

    def move(user, code):
        start.wait()
        return services.deal_move(
            by=user,
            deal=Deal.objects.get(pk=deal.pk),
            stage=stage(code),
            expected_version=read_version,
        )

    results: dict = {}
    threads = [
        _run(move, results, "rep", org.rep, "proposal"),
        _run(move, results, "am", org.am, "negotiation"),
    ]
    for t in threads:
        t.join(timeout=30)
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["Deal", "StaleWrite"], results
    winner = next(name for name, r in results.items() if isinstance(r, Deal))
    deal.refresh_from_db()
    assert deal.stage.code == {"rep": "proposal", "am": "negotiation"}[winner]
    assert deal.version == read_version + 1
    assert DealStageChange.objects.filter(deal=deal).count() == 2  # creation + one move


def test_the_second_mover_waits_for_the_first_and_then_gets_a_conflict(org):
    """Deterministic interleaving: A holds its transaction open while B tries."""
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL (row locks)")
    deal = DealFactory(owner=org.rep, title="Held", amount=Decimal("10"))
    a_moved, a_may_commit = threading.Event(), threading.Event()

    def a() -> Deal:
        with transaction.atomic():
            moved = services.deal_move(
                by=org.rep, deal=deal, stage=stage("proposal"), expected_version=1
            )
            a_moved.set()
            a_may_commit.wait(timeout=20)
        return moved

    def b() -> Deal:
        a_moved.wait(timeout=20)
        return services.deal_update(by=org.am, deal=deal, expected_version=1, amount=Decimal("999"))

    results: dict = {}
    thread_a = _run(a, results, "a")
    thread_b = _run(b, results, "b")
    a_moved.wait(timeout=20)
    time.sleep(0.5)
    assert "b" not in results  # B is blocked on A's row lock, not racing past it
    a_may_commit.set()
    thread_a.join(timeout=30)
    thread_b.join(timeout=30)
    assert isinstance(results["a"], Deal)
    assert isinstance(results["b"], StaleWrite)
    deal.refresh_from_db()
    assert deal.stage.code == "proposal" and deal.amount == Decimal("10")
    assert deal.version == 2


def test_two_conversions_at_once_make_one_client_contact_and_deal(org):
    lead = LeadFactory(owner=org.rep, company="Twice Co")
    start = threading.Barrier(2)

    def convert(user):
        start.wait()
        return lead_services.lead_convert(lead=lead, by=user)

    results: dict = {}
    threads = [_run(convert, results, "rep", org.rep), _run(convert, results, "am", org.am)]
    for t in threads:
        t.join(timeout=30)
    created = sorted(r.created for r in results.values())
    assert created == [False, True], results
    first, second = results.values()
    assert first.deal == second.deal and first.client == second.client
    assert Client.objects.filter(name="Twice Co").count() == 1
    assert Deal.objects.filter(client__name="Twice Co").count() == 1
