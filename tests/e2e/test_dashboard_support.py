"""Sales support opens their dashboard: the region's data quality, imports, events and
survey campaigns, drawn as charts; a tile opens the data-quality page with the records
it counts; picking one person of the region changes the figures."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from clients.models import Client, ClientImport, Contact, SurveyInvitation
from clients.tests import survey_helpers as sv
from pipeline.models import Event
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def _records() -> dict[str, Client]:
    """East clients (rep1's, rep2's) with gaps, and a North one (rep3's) that must not count."""
    rep1, rep2, rep3, support = (
        User.objects.get(username=name) for name in ("rep1", "rep2", "rep3", "support1")
    )
    no_phone = Client.objects.create(
        name="Ningbo Valves", owner=rep1, industry="Machinery", email="info@valves.example"
    )
    contact = Contact.objects.create(client=no_phone, name="Ma Li", email="ma@valves.example")
    no_contact = Client.objects.create(
        name="Wuxi Textiles",
        owner=rep2,
        industry="Textiles",
        phone="0510 8888 0001",
        email="info@wuxi.example",
    )
    Client.objects.create(name="Harbin Ice Works", owner=rep3, industry="Food", email="")
    ClientImport.objects.create(
        created_by=support,
        original_name="east-leads.xlsx",
        file="imports/east-leads.xlsx",
        status=ClientImport.Status.COMMITTED,
        row_count=12,
        created_count=9,
        updated_count=2,
        error_count=1,
    )
    Event.objects.create(
        name="Shanghai Industry Forum",
        kind=Event.Kind.FORUM,
        starts_on=timezone.localdate() + timedelta(days=5),
        owner=support,
    )
    campaign = sv.campaign("nps", created_by=support)
    campaign.name = "East satisfaction"
    campaign.save()
    answered = sv.invitation(campaign, contact)
    SurveyInvitation.objects.filter(pk=answered.pk).update(answered_at=timezone.now())
    other = Contact.objects.create(client=no_phone, name="Qian Bo", email="qian@valves.example")
    sv.invitation(campaign, other)
    return {"no_phone": no_phone, "no_contact": no_contact}


def _tile(page, key: str) -> str:
    return page.get_by_test_id(f"tile-{key}-value").inner_text().strip()


def test_support_sees_the_regions_data_quality_and_drills_down(page, demo_company):
    records = _records()
    sign_in(page, "support1")
    page.wait_for_url(re.compile(r"/dashboard/support/$"))

    for chart in ("incomplete", "imports", "surveys"):
        page.locator(f'#chart-{chart}[data-ready="1"]').wait_for()
    assert _tile(page, "incomplete") == "2"  # Harbin Ice Works is North's
    assert _tile(page, "missing-phone") == "1"
    assert _tile(page, "missing-contact") == "1"
    assert _tile(page, "events") == "1"
    assert _tile(page, "survey-response") == "50.0%"
    assert "east-leads.xlsx" in page.get_by_test_id("table-imports").inner_text()
    assert "Shanghai Industry Forum" in page.get_by_test_id("table-events").inner_text()
    assert "East satisfaction" in page.get_by_test_id("table-campaigns").inner_text()
    assert page.console_errors == []

    # The number opens the data-quality page listing the records it counts.
    page.get_by_test_id("tile-missing-phone-value").click()
    page.wait_for_url(re.compile(r"/clients/quality/\?show=incomplete&missing=phone"))
    rows = page.get_by_test_id("incomplete-table").locator("tbody tr[data-client]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-client") == str(records["no_phone"].pk)

    # One person of the region: only rep2's record counts.
    page.go_back()
    page.wait_for_url(re.compile(r"/dashboard/support/"))
    rep2 = User.objects.get(username="rep2")
    page.get_by_test_id("scope-picker").select_option(f"person:{rep2.pk}")
    page.wait_for_url(re.compile(rf"scope=person%3A{rep2.pk}"))
    assert _tile(page, "incomplete") == "1"
    assert _tile(page, "missing-phone") == "0"
    assert _tile(page, "missing-contact") == "1"
    assert "east-leads.xlsx" not in page.get_by_test_id("table-imports").inner_text()
    assert page.console_errors == []
