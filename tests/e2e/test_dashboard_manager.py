"""The sales manager opens the dashboard: the charts draw, a tile opens the records
behind it, and picking one person in the scope picker changes the figures."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from pipeline.models import Deal
from reports.tests import factories as f
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_manager_s_dashboard_draws_and_drills_down(page, demo_company):
    rep1 = User.objects.get(username="rep1")
    rep2 = User.objects.get(username="rep2")
    north = User.objects.get(username="rep3")
    now = timezone.now()
    won = f.deal(
        rep1,
        created=now - timedelta(hours=3),
        path=[("needs_analysis", now - timedelta(hours=2)), ("won", now - timedelta(hours=1))],
        amount="250000",
    )
    Deal.objects.filter(pk=won.pk).update(title="Gearbox line order")
    f.deal(rep2, created=now - timedelta(hours=3), path=[("needs_analysis", now)])
    f.deal(north, created=now - timedelta(hours=3), path=[("won", now)], amount="990000")
    f.activity(rep1, when=now - timedelta(minutes=30), type="call")

    sign_in(page, "manager1")
    page.wait_for_url(re.compile(r"/dashboard/manager/$"))
    page.locator('canvas[data-ready="1"]').first.wait_for()
    assert page.locator('canvas[data-ready="1"]').count() >= 3  # leaderboard, funnel, cadence
    assert page.get_by_test_id("tile-won-revenue-value").inner_text() == "¥250,000"
    leaderboard = page.get_by_test_id("table-leaderboard").inner_text()
    assert str(rep1) in leaderboard and "¥250,000" in leaderboard
    assert page.console_errors == []

    # the tile opens the won deals behind it — East's, not North's
    page.get_by_test_id("tile-won-revenue-value").click()
    page.wait_for_url(re.compile(r"/dashboard/records/won-revenue/"))
    table = page.get_by_test_id("records-table").inner_text()
    assert "Gearbox line order" in table
    assert "990,000" not in table

    # one person's figures
    page.go_back()
    page.get_by_test_id("scope-picker").select_option(f"person:{rep2.pk}")
    page.wait_for_url(re.compile(rf"scope=person%3A{rep2.pk}|scope=person:{rep2.pk}"))
    assert page.get_by_test_id("tile-won-revenue-value").inner_text() == "¥0"
    rows = page.get_by_test_id("table-leaderboard").locator("tbody tr")
    assert rows.count() == 1 and str(rep2) in rows.first.inner_text()
    page.get_by_test_id("scope-picker").select_option(f"person:{rep1.pk}")
    page.wait_for_url(re.compile(rf"person%3A{rep1.pk}|person:{rep1.pk}"))
    assert page.get_by_test_id("tile-won-revenue-value").inner_text() == "¥250,000"
    page.locator('canvas[data-ready="1"]').first.wait_for()
    assert page.console_errors == []
