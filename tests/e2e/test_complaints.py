"""An account manager logs a client's complaint from the client page on a phone,
answers it before the 24-hour deadline, and the SLA job later escalates nothing
for it (while it does escalate another complaint nobody answered)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Notification, User
from clients.models import Client, Complaint, ComplaintEscalation
from clients.tasks import complaint_sla
from clients.tests.complaint_factories import ComplaintFactory
from reports.models import JobRun
from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_am_answers_in_time_and_nothing_escalates(phone_page, demo_company):
    am1 = User.objects.get(username="am1")
    rep1 = User.objects.get(username="rep1")
    customer = Client.objects.create(name="Suzhou Silk Mills", owner=rep1, account_manager=am1)
    customer.contacts.create(name="Ms Wang", phone="138 0013 8000", is_primary=True)
    forgotten = ComplaintFactory(
        client=Client.objects.create(name="Nanjing Forgotten Co", owner=rep1, account_manager=am1),
        subject="Nobody called back",
    )
    page = phone_page

    sign_in(page, "am1")
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"/clients/{customer.pk}/")
    page.get_by_test_id("log-complaint").click()
    page.wait_for_url(re.compile(r"/clients/complaints/new/\?client=\d+$"))
    assert _fits_the_phone(page)
    page.get_by_label("Subject").fill("Colour fades after washing")
    page.get_by_label("Description").fill("The last two batches fade after one wash.")
    page.get_by_label("Contact").select_option(label="Ms Wang")
    page.get_by_label("Severity").select_option("high")
    page.get_by_test_id("save-complaint").click()

    page.wait_for_url(re.compile(r"/clients/complaints/\d+/$"))
    complaint = Complaint.objects.get(subject="Colour fades after washing")
    assert complaint.owner == am1 and complaint.contact.name == "Ms Wang"
    assert page.get_by_test_id("sla-badge").get_attribute("data-sla") == "running"
    badge = page.get_by_test_id("sla-badge").inner_text().replace("\xa0", " ")
    assert badge.startswith("respond within 23 hours")
    assert _fits_the_phone(page)

    page.get_by_label("Response to the client").fill(
        "Called Ms Wang: we collect the batches tomorrow and test the dye."
    )
    page.get_by_test_id("respond-form-submit").click()
    page.get_by_text("Your response was recorded.").wait_for()
    assert page.get_by_test_id("sla-badge").get_attribute("data-sla") == "met"
    assert page.get_by_test_id("complaint-status").inner_text() == "Responded"
    log = page.get_by_test_id("complaint-log")
    assert "we collect the batches tomorrow" in log.inner_text()
    assert _fits_the_phone(page)

    # Two days later the SLA job runs: the answered complaint stays with the AM,
    # the one nobody answered goes up to the manager and then the director.
    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=False):
        summary = complaint_sla.apply().get()
    assert summary == {"checked": 1, "escalated_to_manager": 1, "escalated_to_director": 1}
    complaint.refresh_from_db()
    assert complaint.escalation_level == 0 and complaint.answered_within_sla
    assert not ComplaintEscalation.objects.filter(complaint=complaint).exists()
    assert set(forgotten.escalations.values_list("escalated_to__username", flat=True)) == {
        "manager1",
        "director",
    }
    assert not Notification.objects.filter(url=complaint.get_absolute_url()).exists()
    assert all(complaint.subject not in m.subject for m in mail.outbox)
    assert JobRun.objects.get(job="complaint_sla").status == "ok"

    page.reload()
    assert page.get_by_test_id("escalation-level").inner_text() == "0"
    assert page.get_by_test_id("escalation-badge").count() == 0
