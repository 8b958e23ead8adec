"""The deal board: columns with SQL totals, htmx moves without a reload, won/lost in place,
conflicts, filters and the per-column cap."""

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Deal, DealStageChange
from pipeline.tests.factories import ClientFactory, DealFactory, stage

pytestmark = pytest.mark.django_db

BOARD = "/pipeline/deals/board/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _column(html: str, code: str) -> str:
    """The HTML of one stage's column."""
    match = re.search(rf'data-testid="column-{code}".*?</section>', html, re.S)
    assert match, code
    return match.group(0)


def _move(client, deal, stage_code, version=None, query="", **extra):
    return client.post(
        reverse("pipeline:deal-move", args=[deal.pk]) + (f"?{query}" if query else ""),
        {"stage": stage(stage_code).pk, "version": version or deal.version, **extra},
        **HTMX,
    )


def test_columns_are_the_open_stages_with_counts_and_sums(login, org):
    client_rec = ClientFactory(owner=org.rep)
    for amount in ("1000", "2499.60"):
        DealFactory(owner=org.rep, client=client_rec, stage=stage("proposal"), amount=amount)
    DealFactory(owner=org.rep, client=client_rec, stage=stage("proposal"), currency="USD")
    DealFactory(owner=org.rep, client=client_rec, stage=stage("won"), title="Already won")
    DealFactory(owner=org.outsider, stage=stage("proposal"), amount="99999", title="Not yours")
    html = login(org.rep).get(BOARD).content.decode()
    assert re.findall(
        r'<section class="board-column"[^>]*data-testid="column-([a-z_]+)"', html
    ) == [
        "first_contact",
        "needs_analysis",
        "proposal",
        "negotiation",
    ]
    proposal = _column(html, "proposal")
    assert '<span data-testid="column-count">3</span>' in proposal
    assert "¥3,500" in proposal and "+1" in proposal  # the USD deal is counted, not summed
    assert "Already won" not in html and "Not yours" not in html
    assert 'data-testid="column-count">0<' in _column(html, "negotiation")


def test_a_card_moves_with_htmx_and_the_board_comes_back_updated(login, org):
    deal = DealFactory(owner=org.rep, title="Mover", amount="4000")
    client = login(org.rep)
    response = _move(client, deal, "needs_analysis")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment for #board, not a page
    assert "Mover" in _column(html, "needs_analysis") and "Mover" not in _column(
        html, "first_contact"
    )
    assert "moved to Needs analysis" in html
    deal.refresh_from_db()
    assert deal.stage.code == "needs_analysis" and deal.probability == 25
    change = DealStageChange.objects.filter(deal=deal).latest("pk")
    assert change.from_stage.code == "first_contact" and change.changed_by == org.rep


def test_every_card_has_a_stage_select_for_phones(login, org):
    deal = DealFactory(owner=org.rep)
    html = login(org.rep).get(BOARD).content.decode()
    select = re.search(rf'<select[^>]*data-testid="move-{deal.pk}".*?</select>', html, re.S)
    assert select is not None
    assert "Won…" in select.group(0) and "Lost…" in select.group(0)
    assert f'hx-post="/pipeline/deals/{deal.pk}/move/' in html
    # support staff see the board but cannot move anything
    html = login(org.support).get(BOARD).content.decode()
    assert f'card-{deal.pk}"' in html and f'data-testid="move-{deal.pk}"' not in html


def test_winning_from_the_board_asks_for_date_and_amount_then_updates_spend(login, org):
    deal = DealFactory(owner=org.rep, title="Big one", stage=stage("negotiation"))
    client = login(org.rep)
    asked = _move(client, deal, "won")
    assert asked.status_code == 200
    form = re.search(r'data-testid="close-form".*?</form>', asked.content.decode(), re.S)
    assert form and 'name="closed_on"' in form.group(0) and 'name="amount"' in form.group(0)
    deal.refresh_from_db()
    assert deal.stage.code == "negotiation"  # nothing changes before the answers

    wrong = _move(client, deal, "won", outcome="1", closed_on="", amount="")
    assert wrong.status_code == 422 and "This field is required" in wrong.content.decode()
    done = _move(
        client,
        deal,
        "won",
        outcome="1",
        closed_on=timezone.localdate().isoformat(),
        amount="1200000",
    )
    assert done.status_code == 200 and "is won" in done.content.decode()
    deal.refresh_from_db()
    deal.client.refresh_from_db()
    assert deal.stage.code == "won" and deal.amount == Decimal("1200000")
    assert deal.client.spend_12m == Decimal("1200000") and deal.client.is_key_account
    assert "Big one" not in done.content.decode().split("board-notice")[-1].split("</div>", 1)[1]


def test_losing_from_the_board_needs_a_reason(login, org):
    deal = DealFactory(owner=org.rep)
    client = login(org.rep)
    response = _move(client, deal, "lost", outcome="1", lost_reason="", competitor="")
    assert response.status_code == 422
    response = _move(client, deal, "lost", outcome="1", lost_reason="Budget cut", competitor="X")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.code == "lost" and deal.lost_reason == "Budget cut"


def test_two_people_moving_the_same_card_one_gets_a_conflict_and_the_fresh_card(login, org):
    deal = DealFactory(owner=org.rep, title="Contested")
    shown_version = deal.version
    assert _move(login(org.rep), deal, "proposal", version=shown_version).status_code == 200
    response = _move(login(org.am), deal, "negotiation", version=shown_version)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed “Contested”" in html
    assert "Contested" in _column(html, "proposal")  # the card, reloaded where it really is
    deal.refresh_from_db()
    assert deal.stage.code == "proposal"
    assert DealStageChange.objects.filter(deal=deal).count() == 2


def test_filters_mine_and_owner_keep_to_the_visible_scope(login, org):
    DealFactory(owner=org.rep, title="Rep deal")
    DealFactory(owner=org.peer_rep, title="Peer deal")
    DealFactory(owner=org.outsider, title="North deal")
    client = login(org.am)
    html = client.get(BOARD).content.decode()
    assert "Rep deal" in html and "Peer deal" in html and "North deal" not in html
    html = client.get(BOARD + f"?owner={org.peer_rep.pk}").content.decode()
    assert "Peer deal" in html and "Rep deal" not in html
    html = client.get(BOARD + "?scope=mine").content.decode()
    assert "Peer deal" not in html and "Rep deal" not in html
    html = client.get(BOARD + "?scope=team").content.decode()
    assert "Peer deal" in html and "Rep deal" in html
    # an owner outside the scope is not a choice: the filter is ignored, nothing leaks
    html = client.get(BOARD + f"?owner={org.outsider.pk}").content.decode()
    assert "North deal" not in html
    # a move keeps the filters the board was showing
    rep_deal = Deal.objects.get(title="Rep deal")
    response = _move(client, rep_deal, "proposal", query=f"owner={org.rep.pk}")
    assert "Peer deal" not in response.content.decode()


@override_settings(SALESORG_BOARD_CARDS_PER_STAGE=2)
def test_a_column_shows_its_first_cards_and_links_to_the_rest(login, org):
    client_rec = ClientFactory(owner=org.rep)
    for i in range(5):
        DealFactory(owner=org.rep, client=client_rec, title=f"Card {i}")
    html = login(org.rep).get(BOARD).content.decode()
    column = _column(html, "first_contact")
    assert column.count('class="card board-card') == 2
    assert 'data-testid="column-count">5<' in column and "3 more in the list" in column
