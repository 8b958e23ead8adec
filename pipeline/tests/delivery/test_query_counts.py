"""Query counts of the quote, contract and project pages and API lists, pinned.

Each endpoint is measured with a little data and with a lot more (more rows
than a page, more lines, milestones, tasks, files, revisions); the count must
be the same at both sizes and stay under the pinned number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from pipeline.models import ContractFile, Quote
from pipeline.services import quotes as quote_service
from pipeline.tests.delivery.factories import (
    ClientFactory,
    ContractFactory,
    DealFactory,
    MilestoneFactory,
    ProductFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date.today()


def grow(org, n: int, tmp_path) -> dict:
    """``n`` of everything in the East region, hung off one client, deal, contract, project."""
    client = ClientFactory(owner=org.rep, account_manager=org.am)
    deal = DealFactory(client=client, owner=org.rep)
    won = DealFactory(client=client, owner=org.rep, won=True)
    products = ProductFactory.create_batch(2)
    lines = [
        {
            "product": products[i % 2],
            "description": "",
            "quantity": Decimal("1"),
            "unit_price": None,
            "discount_percent": Decimal("15"),
        }
        for i in range(n)
    ]
    for _ in range(n):
        quote_service.quote_create(deal=deal, by=org.rep, lines=lines[:3])
    quote = quote_service.quote_create(deal=deal, by=org.rep, lines=lines)
    for _ in range(n - 1):
        quote = quote_service.quote_revise(quote=quote, by=org.rep)
    quote_service.quote_request_approval(quote=quote, by=org.rep)
    contract = None
    for i in range(n):
        contract = ContractFactory(
            client=client, deal=won, owner=org.am, end_date=TODAY + timedelta(days=10 + i)
        )
    for i in range(n):
        ContractFile.objects.create(
            contract=contract, title=f"f{i}", file=SimpleUploadedFile(f"f{i}.pdf", b"x")
        )
        contract.amount += 1
        contract.save()  # one more history row each
    for _ in range(n):
        other = ProjectFactory(client=client, deal=won, contract=contract, owner=org.am)
        MilestoneFactory(project=other, due_date=TODAY - timedelta(days=1))
    project = ProjectFactory(client=client, deal=won, contract=contract, owner=org.am)
    for _ in range(n):
        milestone = MilestoneFactory(project=project, due_date=TODAY - timedelta(days=1))
        TaskFactory.create_batch(2, project=project, milestone=milestone)
        TaskFactory(project=project)
    return {"quote": quote, "contract": contract, "project": project}


def count(call: Callable[[], int]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        status = call()
    assert status == 200
    return len(ctx.captured_queries)


#: (name, persona, URL builder, pinned count). Every page starts with the same three:
#: the user (the session and the permission set come from the cache), the visibility scope, and
#: the ids of the clients whose account managers are in that scope (deals, contracts
#: and projects are also their client's account manager's).
PAGES = [
    # + count (capped) + the page's rows with client, deal and owner joined
    ("quote-list", "manager", lambda r: reverse("pipeline:quote-list"), 5),
    # + the rows, streamed
    ("quote-list csv", "manager", lambda r: reverse("pipeline:quote-list") + "?export=csv", 3),
    # + quote, its lines with products, revisions, approvals, history
    ("quote-detail", "manager", lambda r: r["quote"].get_absolute_url(), 8),
    # + quote, lines
    ("quote-print", "rep", lambda r: reverse("pipeline:quote-print", args=[r["quote"].pk]), 5),
    # + count + rows
    ("approval-list", "manager", lambda r: reverse("pipeline:approval-list"), 5),
    ("contract-list", "am", lambda r: reverse("pipeline:contract-list"), 5),
    # + contract, renewals, files, history, projects
    ("contract-detail", "am", lambda r: r["contract"].get_absolute_url(), 8),
    # + renewal-rate aggregate + count + rows
    ("renewal-list", "am", lambda r: reverse("pipeline:renewal-list"), 6),
    # + count + rows with progress annotated
    ("project-list", "manager", lambda r: reverse("pipeline:project-list"), 5),
    # + project with progress, milestones, their tasks, other tasks, history, and the
    #   three choice lists of the add-milestone and add-task forms
    ("project-detail", "am", lambda r: r["project"].get_absolute_url(), 11),
    # + project, milestones
    (
        "project-timeline",
        "am",
        lambda r: reverse("pipeline:project-timeline", args=[r["project"].pk]),
        5,
    ),
    # + count + rows
    ("milestones-overdue", "manager", lambda r: reverse("pipeline:milestones-overdue"), 5),
]


@pytest.mark.parametrize(("name", "persona", "url", "pinned"), PAGES, ids=[p[0] for p in PAGES])
def test_page_query_counts_are_flat(org, login, tmp_path, settings, name, persona, url, pinned):
    settings.MEDIA_ROOT = tmp_path
    client = login(getattr(org, persona))
    small = grow(org, 2, tmp_path)
    first = count(lambda: client.get(url(small)).status_code)
    large = grow(org, 26, tmp_path)
    second = count(lambda: client.get(url(large)).status_code)
    assert (first, second) == (pinned, pinned), f"{name}: {first}, then {second} queries"


def test_quote_editor_query_count(org, login):
    client = login(org.rep)
    deal = DealFactory(client=ClientFactory(owner=org.rep), owner=org.rep)
    counts = []
    for n in (2, 30):
        ProductFactory.create_batch(n)
        lines = [
            {"description": f"l{i}", "quantity": 1, "unit_price": Decimal("1")} for i in range(n)
        ]
        quote = quote_service.quote_create(deal=deal, by=org.rep, lines=lines)
        counts.append(
            count(
                lambda q=quote: client.get(reverse("pipeline:quote-edit", args=[q.pk])).status_code
            )
        )
    # two as every page, quote, "is it the newest revision?", lines, the catalogue once
    assert counts == [7, 7], counts


def fresh_api(user) -> APIClient:
    """A client for a freshly loaded user, as each real request has (no warm caches)."""
    api = APIClient()
    api.force_authenticate(type(user).objects.get(pk=user.pk))
    return api


#: The API loads the user and the visibility scope (reads need no role permission),
#: then a count, the rows, and the prefetched children (quotes: lines and approvals;
#: contracts: renewals and files; projects: none, progress is annotated).
API = [
    ("quotes", "manager", 7),
    ("contracts", "am", 7),
    ("projects", "manager", 5),
]


@pytest.mark.parametrize(("endpoint", "persona", "pinned"), API, ids=[a[0] for a in API])
def test_api_list_query_counts_are_flat(org, tmp_path, settings, endpoint, persona, pinned):
    settings.MEDIA_ROOT = tmp_path
    user = getattr(org, persona)
    grow(org, 2, tmp_path)
    first = count(lambda: fresh_api(user).get(f"/api/v1/{endpoint}/").status_code)
    grow(org, 26, tmp_path)
    second = count(lambda: fresh_api(user).get(f"/api/v1/{endpoint}/").status_code)
    assert (first, second) == (pinned, pinned), (first, second)


def test_api_milestones_query_count_is_flat(org, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    small = grow(org, 2, tmp_path)["project"]
    url = f"/api/v1/projects/{small.pk}/milestones/"
    fresh_api(org.am).get(url)  # the permission set is cached after a first request
    first = count(lambda: fresh_api(org.am).get(url).status_code)
    large = grow(org, 26, tmp_path)["project"]
    url = f"/api/v1/projects/{large.pk}/milestones/"
    second = count(lambda: fresh_api(org.am).get(url).status_code)
    # user, scope, client ids by account manager, the project (with client) — once
    # for "not yours" before the role check and once for the listing's own check —
    # count, rows (the user's permissions come from the cache)
    assert (first, second) == (7, 7), (first, second)
    assert Quote.objects.count() > 30
