"""A rep opens the dashboard on a phone and at the desk: today's plan, calls today
against the target, the deals chart; a tile opens the calls behind it; the scope
picker switches between the rep's line and the rep alone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from clients.models import Client
from pipeline.models import Activity, Target
from reports.tests import factories as f
from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _work() -> tuple[User, User]:
    rep = User.objects.get(username="rep1")
    # someone learning the trade under rep1, so the line and the person differ
    junior = UserFactory(role=Role.REP, team=rep.team, reports_to=rep)
    customer = Client.objects.create(name="Suzhou Gearworks", owner=rep)
    now = timezone.localtime()
    earlier = max(now - timedelta(minutes=30), now.replace(hour=0, minute=1))
    for _i in range(2):
        Activity.objects.create(
            type="call", client=customer, owner=rep, start_at=earlier, subject="Price check"
        )
    Activity.objects.create(
        type="call",
        client=Client.objects.create(name="Junior's customer", owner=junior),
        owner=junior,
        start_at=earlier,
    )
    Activity.objects.create(
        type="visit",
        status="planned",
        client=customer,
        owner=rep,
        start_at=now.replace(hour=23, minute=30),
        subject="Plant tour",
    )
    f.deal(rep, client_=customer, created=now - timedelta(days=3), path=[("proposal", earlier)])
    Target.objects.create(
        user=rep,
        period="month",
        period_start=now.date().replace(day=1),
        revenue=100000,
        calls_per_day=20,
        visits_per_week=10,
    )
    return rep, junior


def _calls_today(page) -> str:
    return page.get_by_test_id("tile-calls-today-value").inner_text()


def test_a_rep_reads_the_day_on_a_phone_and_drills_into_the_calls(page, phone_page, demo_company):
    rep, _junior = _work()

    # --- on the phone: the plan, the tiles, a chart, and nothing wider than the screen
    sign_in(phone_page, "rep1")
    phone_page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    plan = phone_page.get_by_test_id("section-plan")
    assert "Plant tour" in plan.inner_text()
    assert "Suzhou Gearworks" in plan.inner_text()
    assert (
        plan.get_by_role("link", name="Log", exact=True)
        .get_attribute("href")
        .startswith("/pipeline/activities/quick/?type=visit&client=")
    )
    assert _calls_today(phone_page) == "3"  # the line: rep1's two and the junior's one
    phone_page.locator('canvas[data-ready="1"]').first.wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # --- at the desk: charts drawn, no console errors
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    page.locator('[data-testid="chart-deals-by-stage"] canvas[data-ready="1"]').wait_for()
    assert (
        page.get_by_test_id("period-label")
        .inner_text()
        .startswith(f"{timezone.localdate().isocalendar()[0]}-W")
    )
    assert _calls_today(page) == "3"
    # 20 calls a working day; Saturdays and Sundays expect none
    expected = 20 if timezone.localdate().weekday() < 5 else 0
    assert f"target {expected}" in page.get_by_test_id("tile-calls-today").inner_text()

    # the scope picker: rep1 alone
    page.get_by_test_id("scope-picker").select_option(f"person:{rep.pk}")
    page.wait_for_url(re.compile(rf"scope=person%3A{rep.pk}"))
    assert _calls_today(page) == "2"
    page.locator('canvas[data-ready="1"]').first.wait_for()

    # the tile opens the calls behind it
    page.get_by_test_id("tile-calls-today-value").click()
    page.wait_for_url(re.compile(r"/dashboard/records/activities/.*part=calls"))
    rows = page.get_by_test_id("records-table").locator("tbody tr")
    assert rows.count() == 2
    assert all("Suzhou Gearworks" in t for t in rows.all_inner_texts())
    assert page.console_errors == []
