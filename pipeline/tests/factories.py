"""Factories for the pipeline's tests (and the clients they hang off)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from clients.models import Client, Contact
from pipeline.models import Deal, DealStageChange, Lead, LeadSource, Stage


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Client {n} Ltd")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"Lead Person {n}")
    company = factory.Sequence(lambda n: f"Prospect {n} Co")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    email = factory.Sequence(lambda n: f"lead{n}@prospect.example")
    source = LeadSource.TRADE_SHOW


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


class DealFactory(factory.django.DjangoModelFactory):
    """A deal in a stage, with the stage change that put it there (as the services write it)."""

    class Meta:
        model = Deal
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory, owner=factory.SelfAttribute("..owner"))
    title = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("100000.00")
    stage = factory.LazyFunction(lambda: stage("first_contact"))
    probability = factory.LazyAttribute(lambda d: d.stage.probability)
    stage_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):
        if create:
            DealStageChange.objects.create(
                deal=obj,
                from_stage=None,
                to_stage=obj.stage,
                changed_by=obj.owner,
                changed_at=obj.stage_changed_at,
                amount=obj.amount,
                probability=obj.probability,
            )
