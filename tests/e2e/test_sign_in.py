"""Each demo role signs in, lands on its home page and switches language."""

import re

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser

ROLES = {
    "director": ("director", "Director's home", "销售总监首页"),
    "manager1": ("manager", "Sales manager's home", "销售经理首页"),
    "am1": ("account_manager", "Account manager's home", "客户经理首页"),
    "rep1": ("rep", "Sales rep's home", "销售代表首页"),
    "support1": ("support", "Sales support's home", "销售支持首页"),
}


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_lands_home_and_switches_language(page, demo_company, username):
    role, title_en, title_zh = ROLES[username]
    sign_in(page, username)
    page.wait_for_url(re.compile(rf"/dashboard/{role}/$"))
    assert page.get_by_test_id("home-title").inner_text() == title_en

    page.select_option("#language-select", "zh-hans")
    page.wait_for_load_state("load")
    page.get_by_test_id("home-title").filter(has_text=title_zh).wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    page.select_option("#language-select", "en")
    page.get_by_test_id("home-title").filter(has_text=title_en).wait_for()
    assert page.console_errors == []


def test_a_rep_on_a_phone_sees_their_line_and_signs_out(phone_page, demo_company):
    sign_in(phone_page, "rep1")
    phone_page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    phone_page.goto("/me/")  # their place in the organisation
    line = phone_page.get_by_test_id("line").first
    for name in ("Wei Wang", "Li Na", "Chen Jing", "Zhao Lei"):
        assert name in line.inner_text()
    phone_page.get_by_role("button", name="Menu").click()
    # Bootstrap marks the menu "show" once it has finished opening; a click on the
    # user menu while it still slides open can land before the menu is in place.
    phone_page.locator("#mainnav.show").wait_for()
    phone_page.get_by_test_id("user-menu").click()
    phone_page.get_by_role("button", name="Sign out").click()
    phone_page.wait_for_url(re.compile(r"/login/$"))


def test_a_wrong_password_is_explained(page, demo_company):
    sign_in(page, "rep1", "wrong")
    assert "do not match an active account" in page.content()
