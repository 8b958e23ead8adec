"""The demo quotes, contracts, renewals and projects (``seed_delivery``)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest

from pipeline.models import Contract, ContractStatus, Milestone, Project, Quote
from pipeline.seed_delivery import seed_delivery
from pipeline.services.contracts import renewal_rate
from pipeline.services.projects import with_progress
from pipeline.services.quotes import compute_totals
from pipeline.tests.delivery.factories import ClientFactory, DealFactory, ProductFactory, stage
from salesorg.lib.seeding import SeedContext

pytestmark = pytest.mark.django_db


def test_seed_delivery_makes_consistent_history_once(org):
    rng = random.Random(7)
    ProductFactory.create_batch(5)
    for i in range(60):
        client = ClientFactory(owner=org.rep, account_manager=org.am)
        closed = date.today() - timedelta(days=rng.randint(10, 900))
        if i % 3:
            DealFactory(
                client=client,
                owner=org.rep,
                won=True,
                closed_on=closed,
                amount=Decimal(rng.randint(100, 900) * 1000),
            )
        else:
            DealFactory(client=client, owner=org.rep, stage=stage("negotiation"))
    ctx = SeedContext.create(size="small", seed=7, stdout=StringIO())
    seed_delivery(ctx)
    counts = (Quote.objects.count(), Contract.objects.count(), Project.objects.count())
    assert all(counts)

    for quote in Quote.objects.prefetch_related("lines")[:20]:
        totals = compute_totals(quote.lines.all(), quote.tax_rate)
        assert (quote.subtotal, quote.total) == (totals.subtotal, totals.total)
        assert quote.number.startswith("Q-")
    assert len(set(Quote.objects.values_list("number", flat=True))) == counts[0]

    renewed = Contract.objects.filter(status=ContractStatus.RENEWED)
    assert renewed.exists()
    for old in renewed:
        successor = old.renewals.get()
        assert successor.start_date == old.end_date + timedelta(days=1)
        assert successor.signed_on is not None
    rate = renewal_rate(
        Contract.objects.all(), start=date.today() - timedelta(days=900), end=date.today()
    )
    assert rate.ended > 0 and Decimal("0.5") <= rate.rate <= Decimal("1")

    projects = list(with_progress(Project.objects.all()))
    assert all(p.milestones_total == 4 and p.tasks_total == 8 for p in projects)
    assert Milestone.objects.filter(status="done").exists()

    seed_delivery(SeedContext.create(size="small", seed=7, stdout=StringIO()))
    assert (Quote.objects.count(), Contract.objects.count(), Project.objects.count()) == counts
