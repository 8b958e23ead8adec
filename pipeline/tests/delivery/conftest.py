"""Records for the quote, contract and project tests, on the personas' tree.

``east`` is the East region's business: a client owned by ``rep`` with ``am``
as its account manager, a deal in proposal and a won deal, a quote, an active
contract ending in 64 days and a running project with a milestone and a task.
``north`` is the same shape owned by ``outsider`` (North region), which nobody
in the East may see. The fixtures are shared by every test module in this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import User
from clients.models import Client
from pipeline.models import Contract, Deal, Milestone, Project, Quote, Task
from pipeline.services import quotes as quote_service
from pipeline.tests.delivery.factories import (
    ClientFactory,
    ContractFactory,
    DealFactory,
    MilestoneFactory,
    ProjectFactory,
    TaskFactory,
)
from tests.personas import Org


@dataclass
class Book:
    client: Client
    deal: Deal
    won_deal: Deal
    quote: Quote
    contract: Contract
    project: Project
    milestone: Milestone
    task: Task


def make_book(owner: User, account_manager: User | None, *, label: str) -> Book:
    client = ClientFactory(name=f"{label} Client", owner=owner, account_manager=account_manager)
    deal = DealFactory(client=client, owner=owner, title=f"{label} deal")
    won = DealFactory(client=client, owner=owner, title=f"{label} won deal", won=True)
    quote = quote_service.quote_create(
        deal=deal,
        by=owner if owner.has_perm("pipeline.add_quote") else account_manager,
        lines=[
            {
                "product": None,
                "description": f"{label} licence",
                "quantity": Decimal("2"),
                "unit_price": Decimal("1000.00"),
                "discount_percent": Decimal("5"),
            }
        ],
    )
    contract = ContractFactory(
        client=client, deal=won, owner=account_manager or owner, title=f"{label} contract"
    )
    project = ProjectFactory(
        client=client, deal=won, contract=contract, owner=account_manager or owner
    )
    milestone = MilestoneFactory(
        project=project, name=f"{label} kick-off", due_date=date.today() - timedelta(days=3)
    )
    task = TaskFactory(project=project, milestone=milestone, title=f"{label} install")
    return Book(client, deal, won, quote, contract, project, milestone, task)


@pytest.fixture
def east(org: Org) -> Book:
    return make_book(org.rep, org.am, label="East")


@pytest.fixture
def north(org: Org) -> Book:
    return make_book(org.outsider, org.peer_am, label="North")


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Stages and role groups, even after a transactional test emptied the tables.

    With ``pytest -n 2 --dist=loadfile`` a file that mixes ordinary and
    transactional tests (``salesorg/tests/test_concurrency.py``) can run its
    flush before this package's tests in the same worker; the rows the data
    migrations made are then gone. One cheap query when they are there.
    """
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")
    from django.contrib.auth.models import Group

    from pipeline.models import Stage
    from pipeline.tests.delivery.factories import ensure_reference_data

    if not (Stage.objects.exists() and Group.objects.filter(permissions__isnull=False).exists()):
        ensure_reference_data()
