"""A rep quotes a discount above the threshold and asks for approval; the manager
approves it with a comment; the rep can then send the quote."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_manager_approves_a_reps_discount(browser, live_server, page, demo_company):
    from accounts.models import User
    from pipeline.models import Quote
    from pipeline.tests.delivery.factories import (
        ClientFactory,
        DealFactory,
        ensure_reference_data,
    )

    ensure_reference_data()
    rep1 = User.objects.get(username="rep1")
    client = ClientFactory(name="Hangzhou Tea Co.", owner=rep1, account_manager=rep1.reports_to)
    deal = DealFactory(client=client, owner=rep1, title="Tea plantation ERP")

    # The rep writes the quote with an 18% discount.
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"/pipeline/deals/{deal.pk}/quotes/new/")
    line = page.get_by_test_id("quote-line").first
    line.locator("input[name$='-description']").fill("ERP licence, 50 seats")
    line.locator("input[name$='-quantity']").fill("50")
    line.locator("input[name$='-unit_price']").fill("1200")
    line.locator("input[name$='-discount_percent']").fill("18")
    page.get_by_test_id("save-quote").click()
    page.wait_for_url(re.compile(r"/pipeline/quotes/\d+/$"))
    assert page.get_by_test_id("quote-approval").inner_text() == "Needs approval"
    assert page.get_by_test_id("send-quote").count() == 0
    assert "needs a manager" in page.get_by_test_id("send-blocker").inner_text()
    # 50 × 1200 = 60,000; −18% = 49,200; +13% tax = 55,596
    assert page.get_by_test_id("quote-total").inner_text() == "55,596.00 CNY"

    page.get_by_label("Note for the approver").fill("Competitor offered 15%; they sign this week.")
    page.get_by_test_id("request-approval").click()
    page.get_by_test_id("pending-note").wait_for()
    assert page.get_by_test_id("quote-approval").inner_text() == "Waiting for approval"
    quote = Quote.objects.get(deal=deal)
    assert quote.approvals.get().approver.username == "manager1"

    # The manager finds it among the approvals waiting for them and approves it.
    manager_context = browser.new_context(base_url=live_server.url, locale="en-US")
    manager = manager_context.new_page()
    manager.set_default_timeout(15_000)
    sign_in(manager, "manager1")
    manager.wait_for_url(re.compile(r"/dashboard/"))
    manager.goto("/pipeline/approvals/")
    row = manager.get_by_test_id("approval-table").locator(f"tr[data-quote='{quote.number}-1']")
    assert "18%" in row.inner_text()
    row.get_by_role("link", name=str(quote)).click()
    manager.get_by_label("Comment").fill("Approved once: strategic account.")
    manager.get_by_test_id("approve").click()
    manager.get_by_text("The discount was approved.").wait_for()
    assert manager.get_by_test_id("quote-approval").inner_text() == "Approved"
    manager_context.close()

    # Back to the rep: the comment is there and the quote can go out.
    page.reload()
    assert (
        "Approved once: strategic account." in page.get_by_test_id("approval-history").inner_text()
    )
    page.get_by_test_id("send-quote").click()
    page.get_by_text("The quote is marked as sent.").wait_for()
    assert page.get_by_test_id("quote-status").inner_text() == "Sent"
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT and quote.total == Decimal("55596.00")
    assert page.console_errors == []


def test_the_quote_editor_and_timeline_on_a_phone(phone_page, demo_company):
    from accounts.models import User
    from pipeline.models import Milestone
    from pipeline.tests.delivery.factories import (
        ClientFactory,
        DealFactory,
        MilestoneFactory,
        ProductFactory,
        ProjectFactory,
        ensure_reference_data,
    )

    ensure_reference_data()
    am1 = User.objects.get(username="am1")
    client = ClientFactory(name="Suzhou Silk Ltd", owner=am1, account_manager=am1)
    deal = DealFactory(client=client, owner=am1, title="Silk warehouse WMS")
    ProductFactory(name="WMS core", code="WMS-1", unit_price=Decimal("80000.00"))
    project = ProjectFactory(client=client, owner=am1, name="WMS go-live")
    from datetime import date, timedelta

    MilestoneFactory(project=project, name="Pilot", due_date=date.today() - timedelta(days=3))
    MilestoneFactory(
        project=project,
        name="Design",
        due_date=date.today() - timedelta(days=20),
        status=Milestone.Status.DONE,
    )

    sign_in(phone_page, "am1")
    phone_page.wait_for_url(re.compile(r"/dashboard/"))
    phone_page.goto(f"/pipeline/deals/{deal.pk}/quotes/new/")
    phone_page.get_by_test_id("add-line").click()
    assert phone_page.get_by_test_id("quote-line").count() == 2
    first = phone_page.get_by_test_id("quote-line").first
    first.locator("select[name$='-product']").select_option(label="WMS core (WMS-1)")
    assert first.locator("input[name$='-unit_price']").input_value() == "80000.00"
    phone_page.get_by_test_id("save-quote").click()
    phone_page.wait_for_url(re.compile(r"/pipeline/quotes/\d+/$"))
    assert phone_page.get_by_test_id("quote-total").inner_text() == "90,400.00 CNY"

    phone_page.goto(f"/pipeline/projects/{project.pk}/timeline/")
    items = phone_page.get_by_test_id("timeline-item")
    assert items.count() == 2
    assert (
        items.nth(1).get_attribute("data-overdue") == "1" and "Pilot" in items.nth(1).inner_text()
    )
    assert not phone_page.get_by_test_id("timeline-horizontal").is_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the timeline scrolls sideways on a phone ({width}px)"
