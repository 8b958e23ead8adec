"""The bell: a rep sees the unread count, opens the list, marks one and then all read;
the director runs a job from the operations page."""

import re

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def _notify(username: str, n: int) -> None:
    from accounts.models import User
    from accounts.notifications import notify

    user = User.objects.get(username=username)
    for i in range(n):
        notify(
            recipients=[user],
            kind="web_lead",
            subject=f"Sign-up {i}",
            message="A visitor signed up.",
            url="/pipeline/leads/",
        )


def test_a_rep_reads_notifications_from_the_bell(page, demo_company):
    _notify("rep1", 3)
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    assert page.get_by_test_id("unread-count").inner_text().startswith("3")

    page.get_by_test_id("bell").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    items = page.get_by_test_id("notification")
    assert items.count() == 3
    assert "Sign-up 2" in items.first.inner_text()  # newest first

    page.get_by_test_id("mark-read").first.click()  # htmx: the item and the bell update
    page.locator('[data-testid="notification"][data-read="yes"]').first.wait_for()
    page.get_by_test_id("unread-count").filter(has_text="2").wait_for()

    page.get_by_test_id("mark-all-read").click()
    page.get_by_test_id("unread-summary").filter(has_text="0 unread").wait_for()
    page.get_by_test_id("unread-count").wait_for(state="detached")
    assert page.locator('[data-testid="notification"][data-read="no"]').count() == 0
    assert page.console_errors == []


def test_the_director_runs_a_job_from_the_operations_page(page, demo_company):
    sign_in(page, "director")
    page.wait_for_url(re.compile(r"/dashboard/director/$"))
    page.goto("/dashboard/operations/")
    page.get_by_test_id("health-report").wait_for()  # loaded by htmx
    page.get_by_test_id("run-now-expire_documents").click()
    page.wait_for_url(re.compile(r"/dashboard/operations/jobs/expire_documents/$"))
    assert "is queued" in page.content()
    assert page.get_by_test_id("job-title").inner_text() == "expire_documents"
    # no worker consumes the default queue here: take the message back off it
    from reports.tests.test_operations import _pop_sent

    assert _pop_sent("jobs.expire_documents")
