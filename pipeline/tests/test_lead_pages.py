"""What a person sees on the lead pages: the duplicate check on entry, history, conversion."""

import pytest
from django.urls import reverse

from clients.models import Client
from clients.timeline import timeline_for
from pipeline.models import Deal, Lead, LeadStatus
from pipeline.services import deals as deal_services
from pipeline.services import leads as lead_services
from pipeline.tests.factories import ClientFactory, ContactFactory, DealFactory, LeadFactory

pytestmark = pytest.mark.django_db

NEW = "/pipeline/leads/new/"


def test_entry_shows_look_alikes_then_saves_when_the_user_continues(login, org):
    known = ClientFactory(owner=org.rep, name="上海华为有限公司")
    ClientFactory(owner=org.outsider, name="上海华为")  # not the rep's: never shown
    client = login(org.rep)
    data = {"name": "Zhang San", "company": "上海华为", "source": "trade_show", "status": "new"}
    first = client.post(NEW, data)
    assert first.status_code == 200 and not Lead.objects.exists()
    html = first.content.decode()
    assert (
        f'data-duplicate-client="{known.pk}"' in html and html.count("data-duplicate-client") == 1
    )
    assert "Save anyway" in html and 'name="confirm_duplicates" value="1"' in html
    second = client.post(NEW, {**data, "confirm_duplicates": "1"})
    assert second.status_code == 302
    assert Lead.objects.get().company == "上海华为"


def test_without_look_alikes_a_lead_saves_at_once_and_the_check_answers_while_typing(login, org):
    contact = ContactFactory(client=ClientFactory(owner=org.rep), phone="021 5555 1234")
    client = login(org.rep)
    html = client.get(
        reverse("pipeline:lead-duplicates") + "?phone=021-5555-1234&company=&email="
    ).content.decode()
    assert f'data-duplicate-client="{contact.client_id}"' in html
    response = client.post(NEW, {"name": "Unique", "source": "referral", "status": "contacted"})
    assert response.status_code == 302
    assert Lead.objects.get().status == LeadStatus.CONTACTED


def test_the_lead_page_shows_its_history_with_who_and_what(login, org):
    lead = lead_services.lead_create(by=org.rep, name="Hist", company="H Co")
    lead = lead_services.lead_update(
        by=org.am, lead=lead, expected_version=lead.version, owner=org.peer_rep, title="CFO"
    )
    lead_services.lead_disqualify(
        by=org.am, lead=lead, reason="No budget", expected_version=lead.version
    )
    html = login(org.am).get(reverse("pipeline:lead-detail", args=[lead.pk])).content.decode()
    history = html.split('data-testid="lead-history"')[1]
    assert "Created" in history and "Changed" in history
    assert "Owner: " in history and f"{org.rep} → {org.peer_rep}" in history
    assert "Status: New → Disqualified" in history
    assert "No budget" in history and str(org.am) in history


def test_a_stale_edit_keeps_the_input_and_explains(login, org):
    lead = LeadFactory(owner=org.rep, name="Stale")
    Lead.objects.filter(pk=lead.pk).update(version=2)
    response = login(org.rep).post(
        reverse("pipeline:lead-edit", args=[lead.pk]),
        {"name": "Typed name", "source": "trade_show", "status": "new", "version": 1},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this record" in html and 'value="Typed name"' in html
    lead.refresh_from_db()
    assert lead.name == "Stale"


def test_disqualify_without_a_reason_is_refused_with_a_message(login, org):
    lead = LeadFactory(owner=org.rep)
    response = login(org.rep).post(
        reverse("pipeline:lead-status", args=[lead.pk]),
        {"status": "disqualified", "reason": "", "version": 1},
        follow=True,
    )
    assert "Say why the lead is disqualified." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_convert_page_offers_the_matching_client_and_uses_it(login, org):
    known = ClientFactory(owner=org.rep, name="Known Co")
    lead = LeadFactory(owner=org.rep, company="Known Co Ltd")
    client = login(org.rep)
    html = client.get(reverse("pipeline:lead-convert", args=[lead.pk])).content.decode()
    assert f'value="{known.pk}"' in html and "A new client" in html
    response = client.post(
        reverse("pipeline:lead-convert", args=[lead.pk]),
        {
            "client_choice": str(known.pk),
            "client_name": "",
            "deal_title": "Extension",
            "amount": "5000",
            "currency": "CNY",
        },
    )
    deal = Deal.objects.get(title="Extension")
    assert response.status_code == 302 and deal.client == known
    assert Client.objects.count() == 1
    page = client.get(reverse("pipeline:lead-detail", args=[lead.pk])).content.decode()
    assert 'data-testid="converted"' in page and "Extension" in page
    # a second visit to the conversion page does not convert again
    again = client.get(reverse("pipeline:lead-convert", args=[lead.pk]))
    assert again.status_code == 302 and Deal.objects.count() == 1


def test_timeline_providers_show_deals_and_converted_leads_to_those_who_see_them(org):
    lead = LeadFactory(owner=org.rep, company="Timeline Co")
    result = lead_services.lead_convert(lead=lead, by=org.rep, deal_title="TL deal")
    deal = deal_services.deal_mark_lost(
        by=org.rep, deal=result.deal, reason="Timing", expected_version=result.deal.version
    )
    DealFactory(owner=org.rep, client=result.client, title="Second TL deal")
    entries = timeline_for(result.client, org.rep)
    titles = [e.title for e in entries]
    assert "Deal lost: TL deal" in titles and "Deal opened: TL deal" in titles
    assert "Deal opened: Second TL deal" in titles
    assert f"Lead converted: {lead.name} (Timeline Co)" in titles
    lost = next(e for e in entries if e.title == "Deal lost: TL deal")
    assert lost.url == reverse("pipeline:deal-detail", args=[deal.pk]) and lost.summary == "Timing"
    assert timeline_for(result.client, org.outsider) == []
