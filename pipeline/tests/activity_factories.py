"""Factories for the activity, product and target tests.

Kept apart from ``pipeline/tests/factories.py`` (the deals and quotes helpers
own that one) so the branches merge without conflicts; the client factories
here are minimal stand-ins until the clients app's own factories exist.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from clients.models import Client, Contact
from pipeline.models import Activity, ActivityType, Deal, Lead, Product, Stage, Target


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    owner = None


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"Lead {n}")
    company = factory.Sequence(lambda n: f"Prospect {n} Co")


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda d: d.client.owner)
    title = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("100000")
    stage = factory.LazyFunction(lambda: stage("first_contact"))
    probability = 10


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity
        skip_postgeneration_save = True

    type = ActivityType.CALL
    status = Activity.Status.DONE
    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda a: a.client.owner if a.client else a.lead.owner)
    start_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    duration_minutes = 10
    outcome = "Talked"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    code = factory.Sequence(lambda n: f"P-{n:04d}")
    unit_price = Decimal("1999.00")
    feature = "Fast"
    advantage = "Faster than the rest"
    benefit = "Saves an hour a day"


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    period = Target.Period.MONTH
    revenue = Decimal("100000")
