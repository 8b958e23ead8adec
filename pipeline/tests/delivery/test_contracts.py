"""Contracts: made from won deals, moved strictly along the workflow, renewed, measured."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pipeline.models import Contract, ContractStatus
from pipeline.services import contracts as service
from pipeline.tests.delivery.factories import ClientFactory, ContractFactory, DealFactory

pytestmark = pytest.mark.django_db

S = ContractStatus
TODAY = date.today()


@pytest.fixture
def won(org):
    client = ClientFactory(owner=org.rep, account_manager=org.am)
    return DealFactory(client=client, owner=org.rep, won=True, amount=Decimal("480000"))


def create(org, deal, **kwargs) -> Contract:
    return service.contract_create_from_deal(
        deal=deal,
        by=org.am,
        start_date=kwargs.pop("start_date", TODAY),
        end_date=kwargs.pop("end_date", TODAY + timedelta(days=364)),
        **kwargs,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---------------------------------------------------------------------- create
def test_a_contract_is_made_from_a_won_deal(org, won):
    contract = create(org, won, payment_terms="50% on signature, 50% on go-live")
    assert contract.number == f"C-{timezone.localdate():%Y%m}-0001"
    assert (contract.client, contract.deal, contract.owner) == (won.client, won, org.am)
    assert contract.amount == Decimal("480000") and contract.status == S.DRAFT
    assert contract.title == won.title


def test_without_an_account_manager_the_deal_owner_keeps_it(org):
    deal = DealFactory(client=ClientFactory(owner=org.rep), owner=org.rep, won=True)
    assert create(org, deal).owner == org.rep


def test_an_open_deal_gets_no_contract(org):
    deal = DealFactory(client=ClientFactory(owner=org.rep), owner=org.rep)
    with pytest.raises(ValidationError, match="won deal"):
        create(org, deal)


def test_a_contract_ends_after_it_starts(org, won):
    with pytest.raises(ValidationError):
        create(org, won, start_date=TODAY, end_date=TODAY - timedelta(days=1))


def test_creating_on_the_page(login, org, won):
    client = login(org.am)
    url = reverse("pipeline:contract-create", args=[won.pk])
    page = client.get(url).content.decode()
    assert 'value="480000.00"' in page
    response = client.post(
        url,
        {
            "title": "Annual licence",
            "amount": "450000",
            "currency": "CNY",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "payment_terms": "Quarterly",
            "version": "",
        },
    )
    contract = Contract.objects.get(deal=won)
    assert response["Location"] == contract.get_absolute_url()
    assert (contract.amount, contract.payment_terms) == (Decimal("450000"), "Quarterly")


# ------------------------------------------------------------------ workflow
def test_the_whole_workflow(org, won):
    contract = create(org, won)
    for step in (S.LEGAL_REVIEW, S.APPROVED, S.SIGNED, S.ACTIVE, S.EXPIRED):
        contract = service.contract_transition(contract=contract, to_status=step, by=org.am)
        assert contract.status == step
    assert contract.signed_on == timezone.localdate()
    assert list(contract.history.values_list("status", flat=True))[:6] == [
        "expired",
        "active",
        "signed",
        "approved",
        "legal_review",
        "draft",
    ]


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.DRAFT, S.SIGNED),
        (S.DRAFT, S.ACTIVE),
        (S.LEGAL_REVIEW, S.SIGNED),
        (S.APPROVED, S.ACTIVE),
        (S.SIGNED, S.EXPIRED),
        (S.ACTIVE, S.DRAFT),
        (S.TERMINATED, S.ACTIVE),
        (S.RENEWED, S.ACTIVE),
        (S.EXPIRED, S.ACTIVE),
    ],
)
def test_invalid_steps_are_refused_with_a_clear_message(org, won, start, to):
    contract = create(org, won)
    Contract.objects.filter(pk=contract.pk).update(status=start)
    with pytest.raises(ValidationError) as exc:
        service.contract_transition(contract=contract, to_status=to, by=org.am)
    message = exc.value.message_dict["status"][0]
    assert f"cannot become “{S(to).label}”" in message and "Possible next steps" in message
    contract.refresh_from_db()
    assert contract.status == start


def test_a_signature_date_can_be_given(org, won):
    contract = create(org, won)
    for step in (S.LEGAL_REVIEW, S.APPROVED):
        service.contract_transition(contract=contract, to_status=step, by=org.am)
    signed = service.contract_transition(
        contract=contract, to_status=S.SIGNED, by=org.am, signed_on=date(2026, 3, 2)
    )
    assert signed.signed_on == date(2026, 3, 2)


def test_renewed_only_follows_a_signed_renewal(org, won):
    contract = ContractFactory(client=won.client, deal=won, owner=org.am)
    with pytest.raises(ValidationError, match="renewal contract is signed"):
        service.contract_transition(contract=contract, to_status=S.RENEWED, by=org.am)


def test_the_page_and_the_api_refuse_invalid_steps(login, org, won):
    contract = create(org, won)
    response = login(org.am).post(
        reverse("pipeline:contract-transition", args=[contract.pk]),
        {"status": "signed", "version": contract.version},
        follow=True,
    )
    assert "cannot become “Signed”" in response.content.decode()
    response = api(org.am).post(
        f"/api/v1/contracts/{contract.pk}/transition/", {"status": "active"}, format="json"
    )
    assert response.status_code == 400 and "cannot become" in response.json()["status"][0]
    response = api(org.am).post(
        f"/api/v1/contracts/{contract.pk}/transition/",
        {"status": "legal_review", "version": contract.version},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "legal_review"
    stale = api(org.am).post(
        f"/api/v1/contracts/{contract.pk}/transition/",
        {"status": "approved", "version": contract.version},
        format="json",
    )
    assert stale.status_code == 409


def test_only_draft_and_legal_review_terms_change(org, won):
    contract = create(org, won)
    contract = service.contract_update(
        contract=contract, by=org.am, expected_version=contract.version, amount=Decimal("1")
    )
    contract = service.contract_transition(contract=contract, to_status=S.LEGAL_REVIEW, by=org.am)
    contract = service.contract_transition(contract=contract, to_status=S.APPROVED, by=org.am)
    with pytest.raises(ValidationError, match="cannot change"):
        service.contract_update(
            contract=contract, by=org.am, expected_version=contract.version, amount=Decimal("2")
        )


def test_the_page_shows_the_history(login, org, won):
    contract = create(org, won)
    service.contract_transition(contract=contract, to_status=S.LEGAL_REVIEW, by=org.am)
    page = login(org.manager).get(contract.get_absolute_url()).content.decode()
    history = page[page.index('data-testid="contract-history"') :]
    assert "Draft → Legal review" in history


# ------------------------------------------------------------------- renewals
def test_renewal_continues_from_the_old_end_and_marks_it_renewed_when_signed(org, won):
    old = ContractFactory(
        client=won.client,
        deal=won,
        owner=org.am,
        start_date=date(2025, 7, 1),
        end_date=date(2026, 6, 30),
        amount=Decimal("300000"),
        payment_terms="Yearly in advance",
    )
    renewal = service.contract_renew(contract=old, by=org.am)
    assert renewal.renews == old and renewal.status == S.DRAFT
    assert (renewal.start_date, renewal.end_date) == (date(2026, 7, 1), date(2027, 6, 30))
    assert (renewal.amount, renewal.payment_terms) == (old.amount, old.payment_terms)
    assert renewal.number != old.number and renewal.owner == org.am
    with pytest.raises(ValidationError, match="already has a renewal"):
        service.contract_renew(contract=old, by=org.am)
    old.refresh_from_db()
    assert old.status == S.ACTIVE  # not yet: a drafted renewal is not a renewal
    for step in (S.LEGAL_REVIEW, S.APPROVED, S.SIGNED):
        renewal = service.contract_transition(contract=renewal, to_status=step, by=org.am)
    old.refresh_from_db()
    assert old.status == S.RENEWED


def test_a_terminated_renewal_frees_the_way_for_another(org, won):
    old = ContractFactory(client=won.client, deal=won, owner=org.am)
    first = service.contract_renew(contract=old, by=org.am)
    service.contract_transition(contract=first, to_status=S.TERMINATED, by=org.am)
    second = service.contract_renew(contract=old, by=org.am, amount=Decimal("1"))
    assert second.renews == old and second.amount == Decimal("1")


def test_drafts_and_terminated_contracts_are_not_renewed(org, won):
    for status in (S.DRAFT, S.TERMINATED, S.RENEWED):
        contract = ContractFactory(client=won.client, owner=org.am, status=status)
        with pytest.raises(ValidationError, match="cannot be renewed"):
            service.contract_renew(contract=contract, by=org.am)


def test_renewing_on_the_page(login, org, won):
    old = ContractFactory(client=won.client, owner=org.am, end_date=TODAY + timedelta(days=20))
    client = login(org.am)
    form = client.get(reverse("pipeline:contract-renew", args=[old.pk])).content.decode()
    assert (TODAY + timedelta(days=21)).isoformat() in form
    response = client.post(
        reverse("pipeline:contract-renew", args=[old.pk]),
        {
            "start_date": (TODAY + timedelta(days=21)).isoformat(),
            "end_date": (TODAY + timedelta(days=385)).isoformat(),
            "amount": "520000",
            "payment_terms": "",
        },
    )
    renewal = old.renewals.get()
    assert response["Location"] == renewal.get_absolute_url()
    page = client.get(renewal.get_absolute_url()).content.decode()
    assert 'data-testid="renews-link"' in page and old.number in page


def test_renewal_rate_is_renewed_over_contracts_that_reached_their_end(org, won):
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    inside = date(2026, 2, 15)
    make = lambda status, day=inside: ContractFactory(  # noqa: E731
        client=won.client,
        owner=org.am,
        status=status,
        end_date=day,
        start_date=day - timedelta(days=365),
    )
    make(S.RENEWED)
    make(S.RENEWED)
    make(S.EXPIRED)
    make(S.ACTIVE)  # ended, not yet flipped to expired by the nightly job
    make(S.TERMINATED)  # never ran to its end: not counted
    make(S.DRAFT)
    make(S.RENEWED, day=date(2026, 4, 2))  # outside the period
    rate = service.renewal_rate(Contract.objects.visible_to(org.manager), start=start, end=end)
    assert (rate.ended, rate.renewed, rate.rate) == (4, 2, Decimal("0.5000"))
    empty = service.renewal_rate(Contract.objects.visible_to(org.outsider), start=start, end=end)
    assert (empty.ended, empty.rate) == (0, None)


def test_ended_active_contracts_expire_once(org, won):
    ended = ContractFactory(client=won.client, owner=org.am, end_date=TODAY - timedelta(days=1))
    running = ContractFactory(client=won.client, owner=org.am)
    assert service.contracts_expire_ended() == 1
    assert service.contracts_expire_ended() == 0
    ended.refresh_from_db()
    running.refresh_from_db()
    assert (ended.status, running.status) == (S.EXPIRED, S.ACTIVE)


def test_the_renewals_list_filters_by_days(login, org, won):
    soon = ContractFactory(client=won.client, owner=org.am, end_date=TODAY + timedelta(days=20))
    later = ContractFactory(client=won.client, owner=org.am, end_date=TODAY + timedelta(days=50))
    last = ContractFactory(client=won.client, owner=org.am, end_date=TODAY + timedelta(days=80))
    far = ContractFactory(client=won.client, owner=org.am, end_date=TODAY + timedelta(days=200))
    renewal = service.contract_renew(contract=soon, by=org.am)
    client = login(org.am)
    url = reverse("pipeline:renewal-list")

    def shown(days):
        html = client.get(url, {"ending": days}).content.decode()
        return {c.number for c in (soon, later, last, far) if f'data-contract="{c.number}"' in html}

    assert shown(30) == {soon.number}
    assert shown(60) == {soon.number, later.number}
    assert shown(90) == {soon.number, later.number, last.number}
    html = client.get(url, {"ending": 30}).content.decode()
    assert "in progress" in html and renewal.number not in html
    assert client.get(url).content.decode().count("data-contract=") == 3  # 90 by default


# ------------------------------------------------------------------------ files
def test_files_have_a_size_limit(login, org, won, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SALESORG_CONTRACT_FILE_MAX_MB = 1
    contract = ContractFactory(client=won.client, owner=org.am)
    big = SimpleUploadedFile("scan.pdf", b"x" * (1024 * 1024 + 1))
    response = login(org.am).post(
        reverse("pipeline:contract-file-upload", args=[contract.pk]),
        {"title": "Scan", "file": big},
        follow=True,
    )
    assert "larger than 1 MB" in response.content.decode()
    assert not contract.files.exists()
    big.seek(0)
    response = api(org.am).post(
        f"/api/v1/contracts/{contract.pk}/files/", {"file": big}, format="multipart"
    )
    assert response.status_code == 400 and "larger than 1 MB" in str(response.json())
    small = SimpleUploadedFile("annex.pdf", b"%PDF annex")
    response = api(org.am).post(
        f"/api/v1/contracts/{contract.pk}/files/", {"file": small}, format="multipart"
    )
    assert response.status_code == 201
    listing = api(org.support).get(f"/api/v1/contracts/{contract.pk}/files/").json()
    assert [f["title"] for f in listing] == ["annex.pdf"]
    download = login(org.manager).get(listing[0]["download_url"])
    assert b"".join(download.streaming_content) == b"%PDF annex"
