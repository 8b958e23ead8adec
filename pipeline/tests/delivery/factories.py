"""Factories for the quote, contract and delivery-project tests.

Minimal client, deal and product factories live here too so these tests stand
on their own; they can be swapped for the shared ``clients/tests/factories.py``
and ``pipeline/tests/factories.py`` ones once those exist.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from clients.models import Client
from pipeline.models import (
    Contract,
    ContractStatus,
    Deal,
    Milestone,
    Product,
    Project,
    Quote,
    QuoteLine,
    Stage,
    Task,
)


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n} Ltd")
    address = "1 Century Avenue"
    city = "Shanghai"
    phone = "021-5555-0100"
    email = factory.Sequence(lambda n: f"buyer{n}@client.example.com")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda d: d.client.owner)
    title = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("500000.00")
    stage = factory.LazyFunction(lambda: stage("proposal"))
    probability = factory.LazyAttribute(lambda d: d.stage.probability)

    class Params:
        won = factory.Trait(
            stage=factory.LazyFunction(lambda: stage("won")),
            closed_on=factory.LazyFunction(date.today),
        )


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    code = factory.Sequence(lambda n: f"P-{n:04d}")
    unit_price = Decimal("1000.00")


class QuoteFactory(factory.django.DjangoModelFactory):
    """A quote with stored totals as left by the service (call quote_recalculate after lines)."""

    class Meta:
        model = Quote

    deal = factory.SubFactory(DealFactory)
    number = factory.Sequence(lambda n: f"Q-TEST-{n:05d}")
    revision = 1
    valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=30))


class QuoteLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuoteLine

    quote = factory.SubFactory(QuoteFactory)
    description = factory.Sequence(lambda n: f"Item {n}")
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    discount_percent = Decimal("0")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda c: c.client.account_manager or c.client.owner)
    number = factory.Sequence(lambda n: f"C-TEST-{n:05d}")
    title = factory.Sequence(lambda n: f"Contract {n}")
    amount = Decimal("500000.00")
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=300))
    end_date = factory.LazyFunction(lambda: date.today() + timedelta(days=64))
    status = ContractStatus.ACTIVE
    signed_on = factory.LazyAttribute(lambda c: c.start_date)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda p: p.client.account_manager or p.client.owner)
    name = factory.Sequence(lambda n: f"Roll-out {n}")
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    due_date = factory.LazyFunction(lambda: date.today() + timedelta(days=60))
    status = Project.Status.IN_PROGRESS


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    owner = factory.LazyAttribute(lambda m: m.project.owner)
    due_date = factory.LazyFunction(lambda: date.today() + timedelta(days=10))


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    owner = factory.LazyAttribute(lambda t: t.project.owner)


def ensure_reference_data() -> None:
    """Put back the rows the data migrations made (stages, role groups and their permissions).

    A transactional test (``transaction=True``, the browser tests) empties every
    table when it ends; Django then re-creates content types and permissions but
    not what data migrations inserted. Tests that run after such a flush call this
    first; it is idempotent.
    """
    import importlib

    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes
    from django.db.models import Q

    from accounts.roles import ROLE_PERMISSIONS, group_name

    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    migration = importlib.import_module("pipeline.migrations.0002_stages_and_role_permissions")
    for code, name, name_zh, order, probability, kind in migration.STAGES:
        Stage.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "order": order,
                "probability": probability,
                "kind": kind,
            },
        )
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        condition = Q()
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            condition |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(condition))
