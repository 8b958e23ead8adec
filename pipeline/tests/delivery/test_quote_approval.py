"""Discount approval: above the threshold a quote cannot be sent until the deal owner's
manager approves; a rejection keeps it unsendable; both sides are notified."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from pipeline.models import Quote, QuoteApproval
from pipeline.services import quotes as service
from pipeline.tests.delivery.factories import ClientFactory, DealFactory

pytestmark = pytest.mark.django_db

D = Decimal


def line(discount: str, price: str = "1000.00", qty: str = "2") -> dict:
    return {
        "product": None,
        "description": "Licence",
        "quantity": D(qty),
        "unit_price": D(price),
        "discount_percent": D(discount),
    }


@pytest.fixture
def deal(org):
    return DealFactory(client=ClientFactory(owner=org.rep, account_manager=org.am), owner=org.rep)


@pytest.fixture
def big_discount(org, deal) -> Quote:
    return service.quote_create(deal=deal, by=org.rep, lines=[line("5"), line("15")])


def test_up_to_the_threshold_no_approval_is_needed(org, deal):
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line("10")])
    assert quote.approval == Quote.Approval.NOT_NEEDED
    sent = service.quote_send(quote=quote, by=org.rep)
    assert sent.status == Quote.Status.SENT and sent.sent_at is not None


def test_above_the_threshold_the_quote_cannot_be_sent(org, big_discount):
    assert big_discount.approval == Quote.Approval.REQUIRED
    assert big_discount.max_discount_percent == D("15.00")
    with pytest.raises(ValidationError, match="needs a manager's approval"):
        service.quote_send(quote=big_discount, by=org.rep)
    big_discount.refresh_from_db()
    assert big_discount.status == Quote.Status.DRAFT


def test_the_threshold_is_a_setting(org, deal, settings):
    settings.SALESORG_DISCOUNT_APPROVAL_THRESHOLD = 20
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line("15")])
    assert quote.approval == Quote.Approval.NOT_NEEDED
    settings.SALESORG_DISCOUNT_APPROVAL_THRESHOLD = 10
    service.quote_recalculate(quote=quote)
    assert quote.approval == Quote.Approval.REQUIRED


def test_the_request_goes_to_the_owners_nearest_manager_who_may_approve(
    org, big_discount, django_capture_on_commit_callbacks
):
    # rep → am (may not approve discounts) → manager (may): the manager decides.
    with django_capture_on_commit_callbacks(execute=True):
        approval = service.quote_request_approval(quote=big_discount, by=org.rep)
    assert approval.approver == org.manager
    assert approval.discount_percent == D("15.00")
    big_discount.refresh_from_db()
    assert big_discount.approval == Quote.Approval.PENDING
    assert [m.to for m in mail.outbox] == [[org.manager.email]]
    assert big_discount.number in mail.outbox[0].subject
    assert f"/pipeline/quotes/{big_discount.pk}/" in mail.outbox[0].body


def test_a_managers_own_deal_goes_to_the_director(org):
    deal = DealFactory(client=ClientFactory(owner=org.manager), owner=org.manager)
    quote = service.quote_create(deal=deal, by=org.manager, lines=[line("30")])
    assert service.quote_request_approval(quote=quote, by=org.manager).approver == org.director


def test_the_director_approves_their_own_deals_discount(org):
    deal = DealFactory(client=ClientFactory(owner=org.director), owner=org.director)
    quote = service.quote_create(deal=deal, by=org.director, lines=[line("30")])
    approval = service.quote_request_approval(quote=quote, by=org.director)
    assert approval.approver == org.director
    service.quote_approve(quote=quote, by=org.director)
    assert service.quote_send(quote=quote, by=org.director).status == Quote.Status.SENT


def test_only_the_approver_or_someone_above_decides(org, big_discount):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    for outsider in (org.am, org.rep, org.support):
        with pytest.raises(PermissionDenied):  # no approve_discount permission
            service.quote_approve(quote=big_discount, by=outsider)
    with pytest.raises(PermissionDenied):  # may approve, but not this one: not their line
        service.quote_approve(quote=big_discount, by=org.peer_manager)
    service.quote_approve(quote=big_discount, by=org.director, comment="Manager is away.")
    approval = big_discount.approvals.get()
    assert approval.decision == QuoteApproval.Decision.APPROVED
    assert approval.approver == org.director


def test_approval_lets_the_rep_send_and_tells_them(
    org, big_discount, django_capture_on_commit_callbacks
):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    with django_capture_on_commit_callbacks(execute=True):
        service.quote_approve(quote=big_discount, by=org.manager, comment="Strategic client.")
    big_discount.refresh_from_db()
    assert big_discount.approval == Quote.Approval.APPROVED
    assert [m.to for m in mail.outbox] == [[org.rep.email]]
    assert "Strategic client." in mail.outbox[0].body
    assert service.quote_send(quote=big_discount, by=org.rep).status == Quote.Status.SENT


def test_a_rejection_needs_a_reason_and_keeps_the_quote_unsendable(
    org, big_discount, django_capture_on_commit_callbacks
):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    with pytest.raises(ValidationError):
        service.quote_reject(quote=big_discount, by=org.manager, comment="  ")
    with django_capture_on_commit_callbacks(execute=True):
        service.quote_reject(quote=big_discount, by=org.manager, comment="Too deep; max 12%.")
    big_discount.refresh_from_db()
    assert big_discount.approval == Quote.Approval.REJECTED
    assert [m.to for m in mail.outbox] == [[org.rep.email]]
    assert "Too deep; max 12%." in mail.outbox[0].body
    with pytest.raises(ValidationError, match="rejected"):
        service.quote_send(quote=big_discount, by=org.rep)
    # Still above the threshold after an edit: still rejected, until asked again.
    quote = service.quote_update(
        quote=big_discount,
        by=org.rep,
        expected_version=big_discount.version,
        lines=[line("12")],
    )
    assert quote.approval == Quote.Approval.REJECTED
    assert service.quote_request_approval(quote=quote, by=org.rep).approver == org.manager
    # ...and this time the manager agrees.
    quote.refresh_from_db()
    service.quote_approve(quote=quote, by=org.manager)


def test_lowering_the_discount_after_a_rejection_makes_it_sendable(org, big_discount):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    service.quote_reject(quote=big_discount, by=org.manager, comment="No.")
    big_discount.refresh_from_db()
    quote = service.quote_update(
        quote=big_discount, by=org.rep, expected_version=big_discount.version, lines=[line("8")]
    )
    assert quote.approval == Quote.Approval.NOT_NEEDED
    assert service.quote_send(quote=quote, by=org.rep).status == Quote.Status.SENT


def test_an_approval_covers_up_to_the_approved_discount(org, big_discount):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    service.quote_approve(quote=big_discount, by=org.manager)
    big_discount.refresh_from_db()
    lower = service.quote_update(
        quote=big_discount, by=org.rep, expected_version=big_discount.version, lines=[line("12")]
    )
    assert lower.approval == Quote.Approval.APPROVED
    higher = service.quote_update(
        quote=lower, by=org.rep, expected_version=lower.version, lines=[line("25")]
    )
    assert higher.approval == Quote.Approval.REQUIRED
    with pytest.raises(ValidationError):
        service.quote_send(quote=higher, by=org.rep)


def test_lines_are_frozen_while_waiting_for_the_decision(org, big_discount):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    big_discount.refresh_from_db()
    with pytest.raises(ValidationError, match="waiting for approval"):
        service.quote_update(
            quote=big_discount, by=org.rep, expected_version=big_discount.version, lines=[]
        )
    with pytest.raises(ValidationError, match="already waiting"):
        service.quote_request_approval(quote=big_discount, by=org.rep)


def test_a_new_revision_needs_its_own_approval(org, big_discount):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    service.quote_approve(quote=big_discount, by=org.manager)
    new = service.quote_revise(quote=big_discount, by=org.rep)
    assert new.approval == Quote.Approval.REQUIRED
    big_discount.refresh_from_db()
    assert big_discount.approval == Quote.Approval.APPROVED


# ------------------------------------------------------------------ pages
def test_the_flow_through_the_pages(login, org, big_discount, client):
    detail = reverse("pipeline:quote-detail", args=[big_discount.pk])
    page = login(org.rep).get(detail).content.decode()
    assert 'data-testid="request-approval"' in page
    assert 'data-testid="send-quote"' not in page
    assert "needs a manager" in page

    response = client.post(
        reverse("pipeline:quote-action", args=[big_discount.pk, "send"]), follow=True
    )
    assert "needs a manager" in response.content.decode()

    client.post(
        reverse("pipeline:quote-action", args=[big_discount.pk, "request-approval"]),
        {"note": "Competitor offered 14%.", "version": big_discount.version},
    )
    big_discount.refresh_from_db()
    assert big_discount.approval == Quote.Approval.PENDING

    manager = login(org.manager)
    approvals = manager.get(reverse("pipeline:approval-list")).content.decode()
    assert f'data-quote="{big_discount.number}-1"' in approvals
    assert 'data-testid="decision-form"' in manager.get(detail).content.decode()
    response = manager.post(
        reverse("pipeline:quote-action", args=[big_discount.pk, "approve"]),
        {"comment": "OK this once."},
    )
    assert response.status_code == 302
    approvals = manager.get(reverse("pipeline:approval-list")).content.decode()
    assert f'data-quote="{big_discount.number}-1"' not in approvals
    decided = manager.get(reverse("pipeline:approval-list"), {"show": "decided"}).content.decode()
    assert f'data-quote="{big_discount.number}-1"' in decided

    rep = login(org.rep)
    page = rep.get(detail).content.decode()
    assert "OK this once." in page and 'data-testid="send-quote"' in page
    rep.post(reverse("pipeline:quote-action", args=[big_discount.pk, "send"]))
    big_discount.refresh_from_db()
    assert big_discount.status == Quote.Status.SENT


def test_the_am_sees_the_pending_request_but_cannot_decide(login, org, big_discount):
    service.quote_request_approval(quote=big_discount, by=org.rep)
    am = login(org.am)
    page = am.get(reverse("pipeline:quote-detail", args=[big_discount.pk])).content.decode()
    assert 'data-testid="decision-form"' not in page and 'data-testid="pending-note"' in page
    response = am.post(reverse("pipeline:quote-action", args=[big_discount.pk, "approve"]))
    assert response.status_code == 403
    response = login(org.peer_manager).post(
        reverse("pipeline:quote-action", args=[big_discount.pk, "approve"])
    )
    assert response.status_code == 404
    big_discount.refresh_from_db()
    assert big_discount.approval == Quote.Approval.PENDING


# -------------------------------------------------------------------- API
def test_the_flow_through_the_api(org, deal):
    rep, manager = APIClient(), APIClient()
    rep.force_authenticate(org.rep)
    manager.force_authenticate(org.manager)
    created = rep.post(
        "/api/v1/quotes/",
        {
            "deal": deal.pk,
            "lines": [
                {
                    "description": "Licence",
                    "quantity": "2",
                    "unit_price": "1000.00",
                    "discount_percent": "15",
                }
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["approval"] == "required" and body["total"] == "1921.00"
    url = f"/api/v1/quotes/{body['id']}"

    refused = rep.post(f"{url}/send/", {}, format="json")
    assert refused.status_code == 400 and "approval" in str(refused.json())
    assert rep.post(f"{url}/approve/", {}, format="json").status_code == 403

    asked = rep.post(f"{url}/request-approval/", {"note": "please"}, format="json")
    assert asked.status_code == 200 and asked.json()["approval"] == "pending"
    assert asked.json()["approvals"][0]["approver"] == org.manager.pk

    rejected = manager.post(f"{url}/reject/", {}, format="json")
    assert rejected.status_code == 400 and "comment" in rejected.json()
    approved = manager.post(f"{url}/approve/", {"comment": "fine"}, format="json")
    assert approved.status_code == 200 and approved.json()["approval"] == "approved"

    sent = rep.post(f"{url}/send/", {"version": approved.json()["version"]}, format="json")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
