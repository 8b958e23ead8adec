"""A rep on the road logs a visit with SPIN notes from a phone, and finds it on
the client's activities; the week calendar is a day list on the same phone;
the full activity form picks a client, its deal and contact, and objections."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from clients.models import Cadence, Client, Contact
from pipeline.models import Activity
from pipeline.tests.activity_factories import DealFactory
from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _fits_the_phone(page) -> bool:
    """Nothing sticks out sideways, so the phone need not zoom out to show the page."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_rep_logs_a_visit_with_spin_notes_on_a_phone(phone_page, demo_company):
    rep = User.objects.get(username="rep1")
    customer = Client.objects.create(
        name="Hangzhou Widget Works", owner=rep, cadence=Cadence.WEEKLY
    )
    Client.objects.create(name="Widget Rival North", owner=User.objects.get(username="rep3"))
    page = phone_page

    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    page.goto("/pipeline/activities/quick/")
    assert _fits_the_phone(page)

    page.get_by_text("Visit", exact=True).click()
    page.get_by_test_id("pick-search-client").fill("widget")
    result = page.get_by_test_id("pick-result")
    result.first.wait_for()
    assert [r.strip() for r in result.all_inner_texts()] == ["Hangzhou Widget Works"]
    result.first.click()

    page.get_by_label("Outcome").fill("Toured the plant with the operations head")
    page.get_by_label("Next step").fill("Send the pilot proposal")
    page.get_by_test_id("spin-details").locator("summary").click()
    page.get_by_label("Situation").fill("Three lines, manual QC")
    page.get_by_label("Problem").fill("Defects found late")
    page.get_by_label("Implication").fill("Returns cost 2% of revenue")
    page.get_by_label("Need-payoff").fill("Catching defects early saves a shift a week")
    page.get_by_test_id("save").click()

    page.get_by_test_id("logged").wait_for()
    activity = Activity.objects.get(owner=rep)
    assert activity.type == "visit" and activity.status == "done" and activity.client == customer
    assert activity.spin_implication == "Returns cost 2% of revenue"
    customer.refresh_from_db()
    assert customer.next_visit_due == timezone.localdate() + timedelta(days=7)

    page.get_by_test_id("client-activities").click()
    page.wait_for_url(re.compile(rf"/pipeline/activities/\?client={customer.pk}$"))
    assert page.get_by_test_id("filter-client").inner_text() == "Hangzhou Widget Works"
    row = page.locator(f'tr[data-activity="{activity.pk}"]')
    assert "Visit" in row.inner_text() and "Toured the plant" in row.inner_text()
    assert _fits_the_phone(page)  # the table scrolls inside its box, the page does not
    row.get_by_role("link").first.click()
    spin = page.get_by_test_id("spin")
    spin.wait_for()
    assert "Defects found late" in spin.inner_text()
    assert _fits_the_phone(page)


def test_the_week_calendar_is_a_day_list_on_a_phone(phone_page, demo_company):
    rep = User.objects.get(username="rep1")
    customer = Client.objects.create(name="Ningbo Port Logistics", owner=rep)
    Activity.objects.create(
        type="visit",
        status="planned",
        client=customer,
        owner=rep,
        start_at=timezone.now() + timedelta(hours=1),
        duration_minutes=45,
    )
    sign_in(phone_page, "rep1")
    phone_page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    phone_page.goto("/pipeline/activities/calendar/")
    entry = phone_page.get_by_test_id("calendar-entry")
    assert "Ningbo Port Logistics" in entry.inner_text()
    columns = phone_page.get_by_test_id("week").evaluate(
        "el => getComputedStyle(el).gridTemplateColumns.split(' ').length"
    )
    assert columns == 1
    assert _fits_the_phone(phone_page)
    phone_page.get_by_test_id("next-week").click()
    phone_page.wait_for_url(re.compile(r"week=\d{4}-W\d{2}"))
    assert phone_page.get_by_test_id("calendar-entry").count() == 0

    customer.next_visit_due = timezone.localdate() - timedelta(days=1)
    customer.save()
    phone_page.goto("/pipeline/cadence/")
    assert phone_page.get_by_test_id("count-overdue").inner_text() == "1"
    assert _fits_the_phone(phone_page)
    phone_page.get_by_test_id("log-visit").click()
    phone_page.wait_for_url(
        re.compile(rf"/pipeline/activities/quick/\?type=visit&client={customer.pk}$")
    )
    assert phone_page.locator(f'input[name=client][value="{customer.pk}"]').is_checked()
    assert phone_page.locator('input[name=type][value="visit"]').is_checked()


def test_the_full_form_links_a_deal_and_contact_and_records_objections(page, demo_company):
    rep = User.objects.get(username="rep1")
    customer = Client.objects.create(name="Hangzhou Widget Works", owner=rep)
    Contact.objects.create(client=customer, name="Ms Fang")
    deal = DealFactory(client=customer, owner=rep, title="Pilot line")
    sign_in(page, "rep1")
    page.wait_for_url(re.compile(r"/dashboard/rep/$"))
    page.goto("/pipeline/activities/new/")

    spin = page.locator("[data-for-types='visit meeting']")
    assert spin.is_hidden()
    page.select_option("#id_type", "meeting")
    assert spin.is_visible()

    page.get_by_test_id("pick-search-client").fill("widget")
    page.get_by_test_id("pick-result").first.click()
    option = page.locator("#id_deal option", has_text="Pilot line")
    option.wait_for(state="attached")  # the client's deals arrive with htmx
    page.select_option("#id_deal", label=option.inner_text())
    page.select_option("#id_contact", label="Ms Fang")
    page.get_by_label("Outcome").fill("Agreed on a pilot")
    page.get_by_label("Problem").fill("Audits take a week")
    page.get_by_role("button", name="Add another objection").click()
    page.locator("#id_objections-0-objection").fill("Too expensive")
    page.locator("#id_objections-1-objection").fill("No time to train")
    page.get_by_test_id("save").click()

    page.wait_for_url(re.compile(r"/pipeline/activities/\d+/$"))
    activity = Activity.objects.get()
    assert (activity.type, activity.deal, activity.contact.name) == ("meeting", deal, "Ms Fang")
    assert sorted(activity.objections.values_list("objection", flat=True)) == [
        "No time to train",
        "Too expensive",
    ]
    assert "Audits take a week" in page.get_by_test_id("spin").inner_text()
    assert page.console_errors == []
