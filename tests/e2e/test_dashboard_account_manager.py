"""The account manager opens their dashboard: the charts draw, a tile opens the
records behind it, and the scope picker switches to a rep's figures."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def _story() -> dict[str, str]:
    from reports.tests import factories as f

    am = User.objects.get(username="am1")
    rep = User.objects.get(username="rep1")
    today = timezone.localdate()
    visited = f.client(rep, account_manager=am, cadence="monthly", status="active")
    f.activity(rep, when=f.at(today - timedelta(days=2)), type="visit", client_=visited)
    forgotten = f.client(rep, account_manager=am, cadence="weekly")
    reps_own = f.client(rep, cadence="weekly")
    for stage, amount in (("needs_analysis", "150000"), ("proposal", "300000")):
        f.deal(
            am,
            client_=visited,
            created=f.at(today - timedelta(days=6)),
            path=[(stage, f.at(today - timedelta(days=5)))],
            amount=amount,
        )
    f.deal(
        rep,
        client_=reps_own,
        created=f.at(today - timedelta(days=6)),
        path=[("negotiation", f.at(today - timedelta(days=5)))],
    )
    for score in (10, 9, 4):
        f.survey_response(visited, submitted=f.at(today, 0, 5), nps=score)
    f.survey_response(visited, submitted=f.at(today - timedelta(days=40)), nps=10)
    f.complaint(am, client_=forgotten, received=f.at(today - timedelta(days=2)))
    f.contract(
        am, client_=visited, start=today - timedelta(days=300), end=today + timedelta(days=25)
    )
    return {
        "visited": visited.name,
        "forgotten": forgotten.name,
        "reps_own": reps_own.name,
        "rep": str(rep.pk),
    }


def test_the_account_manager_dashboard_draws_drills_down_and_changes_scope(page, demo_company):
    names = _story()
    sign_in(page, "am1")
    page.wait_for_url(re.compile(r"/dashboard/account_manager/$"))
    page.wait_for_selector('canvas[data-ready="1"]')
    page.wait_for_function(
        "document.querySelectorAll('canvas[data-ready=\"1\"]').length"
        " === document.querySelectorAll('canvas[data-chart]').length"
    )
    for key in ("cadence", "nps-trend", "nps-parts", "funnel"):
        assert page.locator(f'[data-testid="chart-{key}"] canvas[data-ready="1"]').count() == 1
    assert page.get_by_test_id("tile-visits-overdue-value").inner_text() == "2"
    assert page.get_by_test_id("tile-renewals-value").inner_text() == "1"
    assert page.get_by_test_id("tile-complaints-value").inner_text() == "1"
    assert page.get_by_test_id("tile-nps-value").inner_text() == "+33"
    visits = page.get_by_test_id("table-visits").inner_text()
    assert names["forgotten"] in visits and names["reps_own"] in visits
    assert names["visited"] not in visits
    assert page.console_errors == []

    # a tile opens the records behind it
    page.get_by_test_id("tile-visits-overdue-value").click()
    page.wait_for_url(re.compile(r"/dashboard/records/cadence-compliance/"))
    records = page.get_by_test_id("records-table").inner_text()
    assert names["forgotten"] in records and names["reps_own"] in records
    assert names["visited"] not in records

    # the scope picker: the rep's own figures
    page.go_back()
    page.wait_for_url(re.compile(r"/dashboard/account_manager/"))
    page.get_by_test_id("scope-picker").select_option(f"person:{names['rep']}")
    page.wait_for_url(re.compile(r"scope=person"))
    assert page.get_by_test_id("tile-visits-overdue-value").inner_text() == "1"
    assert page.get_by_test_id("tile-nps-value").inner_text() == "—"
    visits = page.get_by_test_id("table-visits").inner_text()
    assert names["reps_own"] in visits and names["forgotten"] not in visits
    page.wait_for_selector('[data-testid="chart-funnel"] canvas[data-ready="1"]')
    assert page.console_errors == []
