"""Query counts of the busy pages and endpoints, pinned at two data sizes.

The same number of queries with 3 or 20 deals per stage (and the deal page with
2 or 12 activities, quotes, contracts and projects) shows that nothing runs per
row. Measured for a rep (the director skips the scope and grant look-ups):

- board, 11: session, user, permissions (user, groups), the viewer's scope,
  client grants, stages, totals per stage (one GROUP BY), the cards (one UNION
  ALL of per-stage LIMITs), closing stages, the owner filter's choices;
- deal list, 10: session, user, permissions (2), scope, client grants, the
  capped count, owner and stage choices, the page of deals;
- deal page, 14: session, user, scope, the deal with stage, client and owner,
  permissions (2), stages, source lead, stage history, products, activities,
  quotes, contracts, projects.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from pipeline.models import Activity, Contract, Project, Quote
from pipeline.tests.factories import ClientFactory, DealFactory, LeadFactory, stage

pytestmark = pytest.mark.django_db

OPEN = ("first_contact", "needs_analysis", "proposal", "negotiation")

#: pinned maxima (the measured counts, which must also not grow with the data);
#: deals cost one query for the ids of the clients their account managers see
MAX_BOARD = 12
MAX_DEAL_LIST = 11
MAX_DEAL_PAGE = 18  # + the timeline check, + contracts and projects by client AM
MAX_LEAD_LIST = 9
MAX_LEAD_PAGE = 11
MAX_API_LIST = 5


def _populate(org, per_stage: int, per_deal: int):
    clients = [ClientFactory(owner=org.rep, name=f"C{i}") for i in range(3)]
    for i in range(per_stage):
        for code in (*OPEN, "won", "lost"):
            DealFactory(
                owner=(org.rep, org.peer_rep)[i % 2],
                client=clients[i % 3],
                stage=stage(code),
                amount=Decimal(1000 + i),
                expected_close_date=timezone.localdate() + timedelta(days=i),
            )
        LeadFactory(owner=(org.rep, org.peer_rep)[i % 2])
    focus = DealFactory(owner=org.rep, client=clients[0], title="Focus")
    now = timezone.now()
    for i in range(per_deal):
        Activity.objects.create(
            type="call", client=focus.client, deal=focus, owner=org.rep, start_at=now
        )
        Quote.objects.create(deal=focus, number=f"Q{focus.pk}-{i}")
        Contract.objects.create(
            client=focus.client,
            deal=focus,
            owner=org.rep,
            number=f"K{focus.pk}-{i}",
            amount=1,
            start_date=now.date(),
            end_date=now.date(),
        )
        Project.objects.create(client=focus.client, deal=focus, owner=org.rep, name=f"P{i}")
    lead = LeadFactory(owner=org.rep)
    for i in range(per_deal):
        lead.title = f"T{i}"
        lead.save()
    return focus, lead


def _count(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def measure(org, login):
    """Counts for each endpoint at a small and a larger data size."""

    def _measure(user, urls: dict[str, str], api: bool = False) -> dict[str, tuple[int, int]]:
        sizes = []
        for per_stage, per_deal in ((3, 2), (20, 12)):
            focus, lead = _populate(org, per_stage, per_deal)
            if api:
                client = APIClient()
                client.force_authenticate(user)
            else:
                client = login(user)
            counts = {}
            for name, url in urls.items():
                url = url.format(deal=focus.pk, lead=lead.pk)
                _count(client, url)  # warm the per-process caches (content types, ...)
                counts[name] = _count(client, url)
            sizes.append(counts)
        return {name: (sizes[0][name], sizes[1][name]) for name in urls}

    return _measure


@pytest.mark.parametrize("persona", ["rep", "manager", "director"])
def test_board_deal_list_and_deal_page_are_constant(org, measure, persona):
    counts = measure(
        getattr(org, persona),
        {
            "board": "/pipeline/deals/board/",
            "board_mine": "/pipeline/deals/board/?scope=mine",
            "deal_list": "/pipeline/deals/",
            "deal_list_filtered": "/pipeline/deals/?state=open&sort=-amount&amount_min=1000",
            "deal_csv": "/pipeline/deals/?export=csv",
            "deal_page": "/pipeline/deals/{deal}/",
            "lead_list": "/pipeline/leads/",
            "lead_page": "/pipeline/leads/{lead}/",
        },
    )
    for name, (small, large) in counts.items():
        assert small == large, (name, counts)
    assert counts["board"][0] <= MAX_BOARD, counts
    assert counts["deal_list"][0] <= MAX_DEAL_LIST, counts
    assert counts["deal_page"][0] <= MAX_DEAL_PAGE, counts
    assert counts["lead_list"][0] <= MAX_LEAD_LIST, counts
    assert counts["lead_page"][0] <= MAX_LEAD_PAGE, counts


def test_api_lists_are_constant(org, measure):
    counts = measure(
        org.manager,
        {
            "deals": "/api/v1/deals/",
            "deal": "/api/v1/deals/{deal}/",
            "leads": "/api/v1/leads/",
            "stages": "/api/v1/stages/",
        },
        api=True,
    )
    for name, (small, large) in counts.items():
        assert small == large, (name, counts)
        assert small <= MAX_API_LIST, counts
