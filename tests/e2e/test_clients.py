"""A rep on a phone adds a client with its first contact and finds it in their list."""

import re

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _fits_the_screen(page) -> bool:
    """Nothing sticks out sideways on a 390 px phone (tables scroll in their own box)."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_rep_adds_a_client_with_a_contact_from_a_phone(phone_page, demo_company):
    page = phone_page
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Clients", exact=True).click()
    page.wait_for_url(re.compile(r"/clients/$"))
    assert _fits_the_screen(page)
    page.get_by_test_id("add-client").click()
    page.wait_for_url(re.compile(r"/clients/new/$"))
    assert _fits_the_screen(page)

    page.fill("#id_name", "杭州湖畔贸易有限公司")
    page.fill("#id_phone", "0571 8888 1234")
    page.select_option("#id_source", "trade_show")
    page.select_option("#id_cadence", "biweekly")
    page.fill("#id_industry", "Trading")
    page.fill("#id_contact-name", "周杰")
    page.fill("#id_contact-title", "采购经理")
    page.fill("#id_contact-phone", "139 0571 0000")
    page.fill("#id_contact-email", "zhou.jie@lakeview.example.cn")
    page.get_by_test_id("save-client").click()

    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    assert page.get_by_test_id("client-name").inner_text() == "杭州湖畔贸易有限公司"
    contact = page.get_by_test_id("contact").first
    assert "周杰" in contact.inner_text() and "采购经理" in contact.inner_text()
    assert page.get_by_test_id("primary-badge").count() == 1
    assert "Contact added: 周杰" in page.get_by_test_id("timeline").inner_text()
    assert _fits_the_screen(page)

    page.goto("/clients/")
    page.fill("#search", "湖畔")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("client-row")
    rows.first.wait_for()
    assert rows.count() == 1 and "杭州湖畔贸易有限公司" in rows.first.inner_text()
    page.goto("/clients/?search=zhou.jie")
    assert "杭州湖畔贸易有限公司" in page.get_by_test_id("client-table").inner_text()


def test_the_referrer_is_picked_by_typing_part_of_its_name(page, demo_company):
    from accounts.models import User
    from clients import services

    rep = User.objects.get(username="rep1")
    services.client_create(by=rep, name="Acme Trading Ltd")
    beta = services.client_create(by=rep, name="Beta Foods")
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    page.goto(f"/clients/{beta.pk}/edit/")
    page.fill("input[name=q]", "acm")
    page.locator("#id_referred_by option", has_text="Acme Trading Ltd").wait_for(state="attached")
    page.select_option("#id_source", "referral")
    page.get_by_test_id("save-client").click()
    page.wait_for_url(re.compile(rf"/clients/{beta.pk}/$"))
    assert "referred by Acme Trading Ltd" in page.get_by_test_id("client-facts").inner_text()
    assert page.console_errors == []
