"""A rep's day with leads and deals, in a real browser.

- a rep converts a lead into a client, a contact and a deal;
- a rep moves a deal across the board on a phone, with the card's stage select
  (no drag), all the way to won — without a page reload.
"""

import re

import pytest

from accounts.models import User
from clients.models import Client, Contact
from pipeline.models import Deal, DealStageChange, Lead, LeadStatus
from pipeline.tests.factories import ClientFactory, DealFactory, LeadFactory
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def rep1(demo_company) -> User:
    return User.objects.get(username="rep1")


def test_a_rep_converts_a_lead(page, rep1):
    lead = LeadFactory(
        owner=rep1, name="Sun Li", company="Harbour Logistics", title="Purchasing manager"
    )
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    page.goto("/pipeline/leads/")
    page.get_by_test_id("lead-table").get_by_role("link", name="Sun Li").click()
    page.get_by_test_id("convert").click()
    form = page.get_by_test_id("convert-form")
    assert form.get_by_label("A new client").is_checked()
    form.get_by_label("Deal title").fill("Harbour fleet tracking")
    form.get_by_label("Amount").fill("260000")
    form.get_by_label("Expected close").fill("2030-06-30")
    page.get_by_test_id("convert-submit").click()

    page.get_by_test_id("deal-title").filter(has_text="Harbour fleet tracking").wait_for()
    assert page.get_by_test_id("deal-stage").inner_text() == "First contact"
    assert "¥260,000.00" in page.get_by_test_id("deal-amount").inner_text()
    assert "First contact" in page.get_by_test_id("stage-history").inner_text()

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_by == rep1
    client = Client.objects.get(name="Harbour Logistics")
    assert client.owner == rep1
    assert Contact.objects.get(client=client).name == "Sun Li"
    deal = Deal.objects.get(client=client)
    assert lead.converted_deal == deal and deal.owner == rep1
    assert page.console_errors == []

    page.get_by_role("link", name="Sun Li").click()  # "From lead" on the deal page
    assert "Converted on" in page.get_by_test_id("converted").inner_text()


def test_a_rep_moves_a_deal_across_the_board_on_a_phone(phone_page, rep1):
    page = phone_page
    client = ClientFactory(owner=rep1, name="Lakeside Foods")
    deal = DealFactory(owner=rep1, client=client, title="Cold-chain sensors", amount="88000")
    other = DealFactory(owner=User.objects.get(username="rep3"), title="Somebody else's")
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    page.goto("/pipeline/deals/board/")
    board = page.get_by_test_id("board")
    card = page.get_by_test_id(f"card-{deal.pk}")
    assert card.is_visible()
    assert page.get_by_test_id(f"card-{other.pk}").count() == 0  # another region's deal
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    for code, label in (
        ("needs_analysis", "Needs analysis"),
        ("proposal", "Proposal / quote"),
        ("negotiation", "Negotiation"),
    ):
        page.get_by_test_id(f"move-{deal.pk}").select_option(label=label)
        page.get_by_test_id("board-notice").filter(has_text=f"moved to {label}").wait_for()
        # htmx wires up the swapped-in board when it settles (20 ms on): a choice made
        # before then went nowhere, and the next move's notice never came
        page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-request')")
        column = board.get_by_test_id(f"column-{code}")
        assert column.get_by_test_id(f"card-{deal.pk}").is_visible()
        assert column.get_by_test_id("column-count").inner_text() == "1"
        assert "¥88,000" in column.get_by_test_id("column-sum").inner_text()

    page.get_by_test_id(f"move-{deal.pk}").select_option(label="Won…")
    close = page.get_by_test_id("close-form")
    close.get_by_label("Final amount").fill("91500")
    page.get_by_test_id("close-submit").click()
    page.get_by_test_id("board-notice").filter(has_text="is won").wait_for()
    assert page.get_by_test_id(f"card-{deal.pk}").count() == 0  # won deals leave the board
    assert page.evaluate("window.__sameDocument") is True

    deal.refresh_from_db()
    assert deal.stage.code == "won" and str(deal.amount) == "91500.00"
    moves = list(
        DealStageChange.objects.filter(deal=deal)
        .order_by("pk")
        .values_list("to_stage__code", "changed_by__username")
    )
    assert moves == [
        ("first_contact", "rep1"),
        ("needs_analysis", "rep1"),
        ("proposal", "rep1"),
        ("negotiation", "rep1"),
        ("won", "rep1"),
    ]
    client.refresh_from_db()
    assert client.spend_12m == deal.amount
    assert Lead.objects.count() == 0
