"""A rep fills in and submits the weekly sales report on a phone; their manager
finds it in the team's week, reads the figures and comments; the rep sees the
comment (and is notified)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification, User
from clients.models import Client
from pipeline.models import Activity
from reports.models import Risk, SkillAssessment, WeeklyReport
from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_rep_submits_the_weekly_report_on_a_phone_and_the_manager_comments(
    phone_page, page, demo_company
):
    rep = User.objects.get(username="rep1")
    customer = Client.objects.create(name="Suzhou Gearworks", owner=rep)
    now = timezone.now()
    for kind in ("call", "call", "call", "visit"):
        Activity.objects.create(
            type=kind, client=customer, owner=rep, start_at=now, subject=f"{kind} with Suzhou"
        )

    # --- the rep, on the road
    phone = phone_page
    phone.on("dialog", lambda dialog: dialog.accept())  # "Submit to your manager?"
    sign_in(phone, "rep1")
    phone.wait_for_url(re.compile(r"/dashboard/rep/$"))
    phone.goto("/dashboard/weekly-report/")
    assert phone.get_by_test_id("report-status").inner_text() == "Not started"
    assert phone.get_by_test_id("fig-calls").inner_text() == "3"
    assert phone.get_by_test_id("fig-visits").inner_text() == "1"
    assert "Suzhou Gearworks" in phone.get_by_test_id("fig-visit-list").inner_text()
    assert _fits_the_phone(phone)

    phone.get_by_label("Customer feedback").fill("Suzhou Gearworks wants a second demo")
    phone.get_by_test_id("save-draft").click()
    phone.wait_for_load_state()
    assert phone.get_by_test_id("report-status").inner_text() == "Draft"
    assert phone.get_by_label("Customer feedback").input_value() == (
        "Suzhou Gearworks wants a second demo"
    )
    phone.get_by_label("Market information").fill("Steel prices are up 8%")
    phone.get_by_label("Competitor news").fill("Rival X offered 20% off")
    phone.get_by_label("Next week's forecast").fill("Close the gearbox line order")
    phone.get_by_label("Revenue expected next week (CNY)").fill("180000")
    phone.get_by_test_id("submit-report").click()
    phone.get_by_test_id("report-text").wait_for()
    assert phone.get_by_test_id("report-status").inner_text() == "Submitted"
    assert phone.get_by_test_id("weekly-form").count() == 0  # read-only now
    assert _fits_the_phone(phone)
    report = WeeklyReport.objects.get(owner=rep)
    assert report.status == WeeklyReport.Status.SUBMITTED
    assert report.figures["activities"] == {"call": 3, "visit": 1}

    # --- the manager, at the desk
    sign_in(page, "manager1")
    page.wait_for_url(re.compile(r"/dashboard/manager/$"))
    page.goto("/dashboard/weekly-reports/team/")
    row = page.locator(f'tr[data-person="{rep.pk}"]')
    assert row.get_attribute("data-status") == "submitted"
    assert page.locator('tr[data-person][data-status="missing"]').count() >= 1
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/dashboard/weekly-reports/{report.pk}/$"))
    assert "Rival X offered 20% off" in page.get_by_test_id("report-text").inner_text()
    assert page.get_by_test_id("fig-calls").inner_text() == "3"
    comment_box = page.get_by_test_id("comment-form").get_by_role("textbox")
    comment_box.fill("Good week. Bring their plant manager to the demo.")
    page.get_by_test_id("add-comment").click()
    page.get_by_test_id("comment").first.wait_for()
    assert page.console_errors == []

    # --- the rep sees the comment, and was told
    assert Notification.objects.filter(recipient=rep, kind="weekly_report_comment").exists()
    phone.goto("/dashboard/weekly-report/")
    comment = phone.get_by_test_id("comment").first
    assert "Bring their plant manager" in comment.inner_text()
    assert _fits_the_phone(phone)


def test_the_manager_sees_a_skill_radar_and_the_risk_heat_map(page, demo_company):
    manager = User.objects.get(username="manager1")
    rep = User.objects.get(username="rep1")
    SkillAssessment.objects.create(
        person=rep,
        assessed_on=timezone.localdate() - timedelta(days=1),
        leadership=60,
        communication=88,
        negotiation=80,
        analysis=70,
        assessed_by=manager,
    )
    Risk.objects.create(
        title="Key account may churn",
        category="customer",
        likelihood=4,
        impact=5,
        response="reduce",
        owner=rep,
        created_by=manager,
        review_date=timezone.localdate() - timedelta(days=2),
    )
    sign_in(page, "manager1")
    page.wait_for_url(re.compile(r"/dashboard/manager/$"))
    page.goto("/dashboard/team/skills/")
    cell = page.locator(f'tr[data-person="{rep.pk}"] td[data-skill="leadership"]')
    assert cell.get_attribute("data-level") == "gap"
    # the page says red for a gap: the cell is painted so (not the table's white)
    paint = "(el) => getComputedStyle(el).backgroundColor"
    assert cell.evaluate(paint) == "rgb(248, 215, 218)"
    met = page.locator(f'tr[data-person="{rep.pk}"] td[data-skill="negotiation"]')
    assert met.get_attribute("data-level") == "meets"
    assert met.evaluate(paint) == "rgb(209, 231, 221)"
    page.locator(f'tr[data-person="{rep.pk}"]').get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/dashboard/team/skills/{rep.pk}/$"))
    page.wait_for_function("document.getElementById('skill-radar').dataset.ready === '1'")
    page.goto("/dashboard/risks/")
    page.locator('[data-cell="4-5"]').click()
    page.wait_for_url(re.compile(r"likelihood=4&impact=5"))
    row = page.locator("tr[data-risk]")
    assert row.count() == 1 and row.get_attribute("data-overdue") == "1"
    assert page.console_errors == []
