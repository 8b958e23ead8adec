"""Lead workflows: duplicates, status, conversion (atomic, idempotent) and web sign-ups."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from clients.models import Client, Contact
from pipeline.models import Activity, Deal, DealStageChange, Lead, LeadSource, LeadStatus
from pipeline.services import leads as services
from pipeline.tests.factories import ClientFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Client.objects.count(),
        Contact.objects.count(),
        Deal.objects.count(),
        DealStageChange.objects.count(),
    )


# ------------------------------------------------------------------- duplicates
def test_duplicates_match_normalised_company_phone_and_email_among_visible_records(org):
    mine = ClientFactory(owner=org.rep, name="上海华为有限公司")
    by_phone = ClientFactory(owner=org.rep, name="Other", phone="+86 138-0013-8000")
    with_contact = ClientFactory(owner=org.rep, name="Via contact")
    ContactFactory(client=with_contact, email="boss@example.com")
    ClientFactory(owner=org.outsider, name="上海华为")  # the same, but not the rep's to see
    lead = LeadFactory(owner=org.rep, company="Shanghai Huawei", email="x@y.example")
    LeadFactory(owner=org.outsider, company="上海华为")

    found = services.lead_duplicates(user=org.rep, company="上海华为", phone="", email="")
    assert [c.pk for c in found.clients] == [mine.pk] and found.leads == []
    found = services.lead_duplicates(user=org.rep, phone="13800138000")
    assert [c.pk for c in found.clients] == [by_phone.pk]
    found = services.lead_duplicates(user=org.rep, email=" Boss@Example.com ")
    assert [c.pk for c in found.clients] == [with_contact.pk]
    found = services.lead_duplicates(user=org.rep, email="X@y.example")
    assert [x.pk for x in found.leads] == [lead.pk]
    assert not services.lead_duplicates(user=org.rep, email="X@y.example", exclude_lead=lead.pk)
    assert not services.lead_duplicates(user=org.rep, phone="123")  # too short to mean anything
    assert not services.lead_duplicates(user=org.rep)
    # the director sees both 上海华为 clients
    assert len(services.lead_duplicates(user=org.director, company="上海华为").clients) == 2


# ------------------------------------------------------------------ create/edit
def test_create_and_edit_a_lead(org):
    lead = services.lead_create(by=org.rep, name="Li Lei", company="Acme", phone="13900000000")
    assert lead.owner == org.rep and lead.status == LeadStatus.NEW
    assert lead.phone_normalized == "13900000000" and lead.history.count() == 1
    assert lead.history.first().history_user == org.rep
    lead = services.lead_update(
        by=org.rep, lead=lead, expected_version=lead.version, title="CTO", status="contacted"
    )
    assert lead.title == "CTO" and lead.status == LeadStatus.CONTACTED
    with pytest.raises(ValidationError):
        services.lead_update(
            by=org.rep, lead=lead, expected_version=lead.version, status="converted"
        )
    with pytest.raises(ValidationError):
        services.lead_create(by=org.rep, name="x", owner=org.outsider)
    # support staff keep their region's leads in order; people outside never reach them
    lead = services.lead_update(
        by=org.support, lead=lead, expected_version=lead.version, wechat_id="lilei"
    )
    assert lead.history.first().history_user == org.support
    with pytest.raises(Http404):
        services.lead_update(by=org.peer_rep, lead=lead, expected_version=lead.version, title="x")


def test_disqualifying_needs_a_reason_and_requalifying_clears_it(org):
    lead = LeadFactory(owner=org.rep)
    with pytest.raises(ValidationError):
        services.lead_disqualify(by=org.rep, lead=lead, reason=" ", expected_version=lead.version)
    lead = services.lead_disqualify(
        by=org.rep, lead=lead, reason="No budget", expected_version=lead.version
    )
    assert lead.status == LeadStatus.DISQUALIFIED and lead.disqualified_reason == "No budget"
    lead = services.lead_set_status(
        by=org.rep, lead=lead, status=LeadStatus.QUALIFIED, expected_version=lead.version
    )
    assert lead.status == LeadStatus.QUALIFIED and lead.disqualified_reason == ""
    assert lead.history.count() == 3


# -------------------------------------------------------------------- conversion
def test_convert_makes_client_contact_and_deal_and_links_them(org):
    lead = LeadFactory(
        owner=org.rep, name="Han Meimei", company="Bright Co", title="Buyer", source="website"
    )
    visit = Activity.objects.create(
        type="visit", lead=lead, owner=org.rep, start_at=lead.created_at, subject="First visit"
    )
    result = services.lead_convert(
        lead=lead, by=org.am, deal_title="Bright pumps", amount=Decimal("80000")
    )
    assert result.created
    client, contact, deal = result.client, result.contact, result.deal
    assert client.name == "Bright Co" and client.owner == org.rep and client.source == "website"
    assert client.created_by == org.am
    assert contact.client == client and contact.name == "Han Meimei" and contact.is_primary
    assert contact.phone == lead.phone and contact.email == lead.email
    assert deal.client == client and deal.owner == org.rep and deal.title == "Bright pumps"
    assert deal.stage.code == "first_contact" and deal.amount == Decimal("80000")
    assert deal.stage_changes.get().changed_by == org.am
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_by == org.am
    assert (lead.converted_client, lead.converted_contact, lead.converted_deal) == (
        client,
        contact,
        deal,
    )
    assert lead.converted_at is not None
    visit.refresh_from_db()
    assert visit.client == client and visit.lead == lead  # history kept, on both
    assert lead.history.count() == 2  # created, converted: the lead's history is kept


def test_a_done_visit_to_the_lead_becomes_the_clients_last_visit(org):
    """The visit-cadence page and cadence compliance read the client's last visit."""
    existing = ClientFactory(owner=org.rep, name="Known Co", cadence="monthly")
    ContactFactory(client=existing, is_primary=True)
    earlier = timezone.now() - timedelta(days=40)
    Client.objects.filter(pk=existing.pk).update(last_visit_at=earlier)
    lead = LeadFactory(owner=org.rep, company="Known Co")
    visited = timezone.now() - timedelta(days=3)
    Activity.objects.create(
        type="visit", status="done", lead=lead, owner=org.rep, start_at=visited, subject="Visit"
    )
    Activity.objects.create(  # planned: not a visit yet
        type="visit", status="planned", lead=lead, owner=org.rep, start_at=timezone.now()
    )
    services.lead_convert(lead=lead, by=org.rep, client=existing)
    existing.refresh_from_db()
    assert existing.last_visit_at == visited
    assert existing.next_visit_due == timezone.localdate(visited) + timedelta(days=30)


def test_converting_a_lead_without_done_visits_keeps_the_clients_last_visit(org):
    existing = ClientFactory(owner=org.rep, name="Known Co")
    ContactFactory(client=existing, is_primary=True)
    earlier = timezone.now() - timedelta(days=40)
    Client.objects.filter(pk=existing.pk).update(last_visit_at=earlier)
    lead = LeadFactory(owner=org.rep, company="Known Co")
    Activity.objects.create(
        type="call", status="done", lead=lead, owner=org.rep, start_at=timezone.now()
    )
    services.lead_convert(lead=lead, by=org.rep, client=existing)
    existing.refresh_from_db()
    assert existing.last_visit_at == earlier


def test_convert_into_an_existing_visible_client(org):
    existing = ClientFactory(owner=org.rep, name="Known Co")
    ContactFactory(client=existing, is_primary=True)
    lead = LeadFactory(owner=org.rep, company="Known Co")
    result = services.lead_convert(lead=lead, by=org.rep, client=existing)
    assert result.client == existing and result.deal.client == existing
    assert not result.contact.is_primary  # the client has its primary contact already
    assert Client.objects.count() == 1


def test_convert_refuses_a_client_the_user_cannot_see(org):
    foreign = ClientFactory(owner=org.outsider)
    lead = LeadFactory(owner=org.rep)
    before = _counts()
    with pytest.raises(ValidationError):
        services.lead_convert(lead=lead, by=org.rep, client=foreign)
    assert _counts() == before
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_a_failure_halfway_leaves_nothing_behind(org):
    """The deal is invalid (a negative amount), after the client and contact were made."""
    lead = LeadFactory(owner=org.rep, company="Halfway Co")
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(lead=lead, by=org.rep, amount=Decimal("-1"))
    assert "amount" in exc.value.message_dict
    assert _counts() == before
    assert not Client.objects.filter(name="Halfway Co").exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.converted_client is None
    assert lead.version == 1


def test_converting_twice_returns_the_same_records_and_creates_nothing(org):
    lead = LeadFactory(owner=org.rep)
    first = services.lead_convert(lead=lead, by=org.rep)
    after_first = _counts()
    second = services.lead_convert(lead=lead, by=org.rep, deal_title="Again?")
    assert not second.created
    assert (second.client, second.contact, second.deal) == (first.client, first.contact, first.deal)
    assert _counts() == after_first


def test_who_may_convert(org):
    lead = LeadFactory(owner=org.rep)
    with pytest.raises(PermissionDenied):
        services.lead_convert(lead=lead, by=org.support)  # may edit leads, not make deals
    with pytest.raises(Http404):
        services.lead_convert(lead=lead, by=org.outsider)
    with pytest.raises(Http404):
        services.lead_convert(lead=lead, by=org.peer_rep)
    disqualified = LeadFactory(owner=org.rep, status="disqualified", disqualified_reason="x")
    with pytest.raises(ValidationError):
        services.lead_convert(lead=disqualified, by=org.rep)


# --------------------------------------------------------------------- sign-ups
def test_signup_goes_to_the_configured_owner_who_is_told(org, django_capture_on_commit_callbacks):
    with (
        override_settings(SALESORG_WEB_LEAD_OWNER="peer_rep"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead = services.lead_signup(name="Web Visitor", email="v@example.com", message="Hi")
    assert lead.owner == org.peer_rep and lead.source == LeadSource.WEBSITE
    assert lead.notes == "Hi" and lead.status == LeadStatus.NEW
    assert [m.to for m in mail.outbox] == [["peer_rep@example.com"]]
    assert f"/pipeline/leads/{lead.pk}/" in mail.outbox[0].body


def test_signup_round_robin_among_active_reps(org):
    UserFactory(username="gone", role=Role.REP, reports_to=org.am, is_active=False)
    with override_settings(SALESORG_WEB_LEAD_OWNER=""):
        owners = [services.lead_signup(name=f"V{i}", phone="13800000000").owner for i in range(6)]
    reps = sorted([org.rep, org.peer_rep, org.outsider], key=lambda u: u.pk)
    assert owners == reps + reps  # each active rep in turn, the inactive one never
    with override_settings(SALESORG_WEB_LEAD_OWNER="nobody-by-this-name"):
        assert services.lead_signup(name="V", phone="13800000000").owner == reps[0]


def test_signup_needs_a_way_to_reach_the_person(org):
    with pytest.raises(ValidationError):
        services.lead_signup(name="No contact")
    assert not Lead.objects.exists()


def test_a_lead_with_a_history_is_not_deleted(org):
    with_visit = LeadFactory(owner=org.rep)
    Activity.objects.create(
        type="visit", lead=with_visit, owner=org.rep, start_at=with_visit.created_at
    )
    with pytest.raises(ValidationError):
        services.lead_delete(by=org.am, lead=with_visit)
    converted = LeadFactory(owner=org.rep)
    services.lead_convert(lead=converted, by=org.rep)
    with pytest.raises(ValidationError):
        services.lead_delete(by=org.am, lead=converted)
    plain = LeadFactory(owner=org.rep)
    with pytest.raises(PermissionDenied):
        services.lead_delete(by=org.rep, lead=plain)
    services.lead_delete(by=org.am, lead=plain)
    assert not Lead.objects.filter(pk=plain.pk).exists()
    assert Activity.objects.filter(lead=with_visit).exists()
