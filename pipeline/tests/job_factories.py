"""Small factories for the scheduled-job tests (kept apart so branches merge cleanly)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from clients.models import Client
from pipeline.models import Activity, ActivityType, Contract, ContractStatus, Deal, Stage


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Job Client {n:03d}")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda d: d.client.owner)
    title = factory.Sequence(lambda n: f"Job Deal {n:03d}")
    amount = Decimal("100000.00")
    stage = factory.LazyFunction(lambda: stage("proposal"))
    probability = factory.LazyAttribute(lambda d: d.stage.probability)


def won_deal(client: Client, closed_on: date, amount: str | int = 100000, **extra) -> Deal:
    return DealFactory(
        client=client,
        owner=client.owner,
        stage=stage("won"),
        closed_on=closed_on,
        amount=Decimal(str(amount)),
        **extra,
    )


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity
        skip_postgeneration_save = True

    type = ActivityType.VISIT
    status = Activity.Status.PLANNED
    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda a: a.client.owner)
    start_at = factory.LazyFunction(timezone.now)
    duration_minutes = 45


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda c: c.client.owner)
    number = factory.Sequence(lambda n: f"C-JOB-{n:05d}")
    title = factory.Sequence(lambda n: f"Service contract {n}")
    amount = Decimal("500000.00")
    start_date = factory.LazyAttribute(lambda c: c.end_date - timedelta(days=365))
    end_date = factory.LazyFunction(lambda: date.today() + timedelta(days=90))
    status = ContractStatus.ACTIVE
