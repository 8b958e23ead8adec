"""Quotes: numbering, revisions, statuses, the editor, the printable page, concurrency."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from clients.timeline import timeline_for
from pipeline.models import Quote
from pipeline.services import quotes as service
from pipeline.tests.delivery.factories import (
    ClientFactory,
    DealFactory,
    ProductFactory,
)
from salesorg.lib.concurrency import StaleWrite

pytestmark = pytest.mark.django_db

D = Decimal


def line(description="Setup", qty="1", price="100.00", discount="0", product=None) -> dict:
    return {
        "product": product,
        "description": description,
        "quantity": D(qty),
        "unit_price": D(price) if price is not None else None,
        "discount_percent": D(discount),
    }


@pytest.fixture
def deal(org):
    return DealFactory(client=ClientFactory(owner=org.rep, account_manager=org.am), owner=org.rep)


# ------------------------------------------------------------------ numbering
def test_numbers_count_up_within_the_month(org, deal):
    first = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    second = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    month = timezone.localdate().strftime("%Y%m")
    assert re.fullmatch(rf"Q-{month}-0001", first.number)
    assert second.number == f"Q-{month}-0002"
    assert (first.revision, second.revision) == (1, 1)


def test_numbering_holds_a_lock_until_the_quote_is_committed(org, deal):
    """Two creators in the same month queue on one advisory lock, so both cannot read
    the same "last number"; another month or model is not held up."""
    from pipeline.models import Contract
    from pipeline.services.numbering import lock_key

    prefix = f"Q-{timezone.localdate():%Y%m}-"
    other = lock_key(Contract, f"C-{timezone.localdate():%Y%m}-")
    answers: dict[str, bool] = {}

    def try_lock(name: str, key: int) -> None:
        # A thread has its own database connection: another request, in effect.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
                answers[name] = cursor.fetchone()[0]
        finally:
            connection.close()

    def probe() -> None:
        for name, key in (("same", lock_key(Quote, prefix)), ("other", other)):
            thread = threading.Thread(target=try_lock, args=(name, key))
            thread.start()
            thread.join()

    with transaction.atomic():
        service.quote_create(deal=deal, by=org.rep, lines=[line()])
        probe()
    assert answers == {"same": False, "other": True}


# ------------------------------------------------------------------ revisions
def test_a_new_revision_copies_the_quote_and_leaves_the_old_one(org, deal):
    product = ProductFactory(unit_price=D("250.00"))
    quote = service.quote_create(
        deal=deal,
        by=org.rep,
        lines=[line(product=product, price=None), line("Travel")],
        notes="Net 30",
    )
    service.quote_send(quote=quote, by=org.rep)
    new = service.quote_revise(quote=quote, by=org.am)
    assert (new.number, new.revision, new.status) == (quote.number, 2, Quote.Status.DRAFT)
    assert new.created_by == org.am and new.notes == "Net 30"
    assert [(x.product_id, x.unit_price) for x in new.lines.all()] == [
        (product.pk, D("250.00")),
        (None, D("100.00")),
    ]
    assert new.total == quote.total
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    assert service.editable_reason(quote)
    with pytest.raises(Exception, match="newer"):
        service.quote_revise(quote=quote, by=org.rep)


def test_an_older_revision_is_read_only_in_pages_and_api(login, org, deal):
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    service.quote_revise(quote=quote, by=org.rep)
    client = login(org.rep)
    response = client.get(reverse("pipeline:quote-edit", args=[quote.pk]), follow=True)
    assert "older revision" in response.content.decode()
    api = APIClient()
    api.force_authenticate(org.rep)
    response = api.patch(
        f"/api/v1/quotes/{quote.pk}/", {"notes": "x", "version": quote.version}, format="json"
    )
    assert response.status_code == 400 and "older revision" in str(response.json())
    listing = client.get(reverse("pipeline:quote-list")).content.decode()
    assert f'data-quote="{quote.number}-2"' in listing
    assert f'data-quote="{quote.number}-1"' not in listing
    listing = client.get(reverse("pipeline:quote-list"), {"revisions": "all"}).content.decode()
    assert f'data-quote="{quote.number}-1"' in listing


def test_an_accepted_quote_is_not_revised(org, deal):
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    service.quote_send(quote=quote, by=org.rep)
    service.quote_accept(quote=quote, by=org.rep)
    with pytest.raises(Exception, match="accepted"):
        service.quote_revise(quote=quote, by=org.rep)


# ------------------------------------------------------------------- statuses
def test_statuses_move_only_along_the_workflow(org, deal):
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    with pytest.raises(Exception, match="cannot become"):
        service.quote_accept(quote=quote, by=org.rep)
    service.quote_send(quote=quote, by=org.rep)
    with pytest.raises(Exception, match="Only a draft"):
        service.quote_send(quote=quote, by=org.rep)
    declined = service.quote_decline(quote=quote, by=org.rep)
    assert declined.status == Quote.Status.REJECTED
    with pytest.raises(Exception, match="cannot become"):
        service.quote_accept(quote=quote, by=org.rep)


def test_an_empty_quote_cannot_be_sent(org, deal):
    quote = service.quote_create(deal=deal, by=org.rep)
    with pytest.raises(Exception, match="at least one line"):
        service.quote_send(quote=quote, by=org.rep)


def test_sent_quotes_past_their_validity_expire_once(org, deal):
    quote = service.quote_create(
        deal=deal, by=org.rep, lines=[line()], valid_until=date.today() - timedelta(days=1)
    )
    service.quote_send(quote=quote, by=org.rep)
    fresh = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    service.quote_send(quote=fresh, by=org.rep)
    assert service.quotes_expire_due() == 1
    assert service.quotes_expire_due() == 0
    quote.refresh_from_db()
    fresh.refresh_from_db()
    assert (quote.status, fresh.status) == (Quote.Status.EXPIRED, Quote.Status.SENT)


def test_a_lost_deal_gets_no_quote(org, deal):
    from pipeline.tests.delivery.factories import stage

    deal.stage = stage("lost")
    deal.save()
    with pytest.raises(Exception, match="lost deal"):
        service.quote_create(deal=deal, by=org.rep, lines=[line()])


def test_line_rules(org, deal):
    with pytest.raises(Exception) as exc:
        service.quote_create(
            deal=deal, by=org.rep, lines=[line(description="", price="1"), line(price=None)]
        )
    messages = exc.value.message_dict["lines"]
    assert "Line 1" in messages[0] and "describe the item" in messages[0]
    assert "Line 2" in messages[1] and "unit price" in messages[1]


# -------------------------------------------------------------- concurrency
def test_a_stale_edit_is_refused(org, deal, login):
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    old_version = quote.version
    service.quote_update(quote=quote, by=org.am, expected_version=old_version, notes="AM's")
    with pytest.raises(StaleWrite):
        service.quote_update(quote=quote, by=org.rep, expected_version=old_version, notes="rep")
    api = APIClient()
    api.force_authenticate(org.rep)
    response = api.patch(
        f"/api/v1/quotes/{quote.pk}/", {"notes": "rep", "version": old_version}, format="json"
    )
    assert response.status_code == 409
    quote.refresh_from_db()
    assert quote.notes == "AM's"


# --------------------------------------------------------------- the editor
def _post_editor(client, url, lines, version=""):
    data = {
        "valid_until": "2030-01-31",
        "currency": "CNY",
        "tax_rate": "13",
        "notes": "Delivery within 4 weeks.",
        "version": version,
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, values in enumerate(lines):
        for key, value in values.items():
            data[f"lines-{i}-{key}"] = value
    return client.post(url, data)


def test_creating_a_quote_in_the_editor(login, org, deal):
    product = ProductFactory(name="Analytics suite", unit_price=D("12000.00"))
    client = login(org.rep)
    url = reverse("pipeline:quote-create", args=[deal.pk])
    page = client.get(url).content.decode()
    assert 'data-price="12000.00"' in page and "lines-TOTAL_FORMS" in page
    response = _post_editor(
        client,
        url,
        [
            {"product": product.pk, "quantity": "2", "discount_percent": "5"},
            {"description": "On-site training", "quantity": "1", "unit_price": "3000"},
            # an extra line the user left as it was shown
            {
                "product": "",
                "description": "",
                "quantity": "1",
                "unit_price": "",
                "discount_percent": "0",
            },
        ],
    )
    assert response.status_code == 302
    quote = Quote.objects.get(deal=deal)
    # 24000 − 1200 + 3000 = 25800; tax 3354
    assert (quote.subtotal, quote.discount_total, quote.tax_amount, quote.total) == (
        D("27000.00"),
        D("1200.00"),
        D("3354.00"),
        D("29154.00"),
    )
    assert [x.description for x in quote.lines.all()] == ["Analytics suite", "On-site training"]
    page = client.get(quote.get_absolute_url()).content.decode()
    assert "29,154.00" in page


def test_the_editor_explains_what_is_wrong_and_keeps_the_input(login, org, deal):
    client = login(org.rep)
    response = _post_editor(
        client,
        reverse("pipeline:quote-create", args=[deal.pk]),
        [{"description": "Consulting", "quantity": "3", "unit_price": ""}],
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Give a unit price for a free-text item." in html
    assert 'value="Consulting"' in html
    assert not Quote.objects.filter(deal=deal).exists()


def test_editing_keeps_unchanged_lines_and_removes_deleted_ones(login, org, deal):
    quote = service.quote_create(deal=deal, by=org.rep, lines=[line("A"), line("B")])
    client = login(org.rep)
    url = reverse("pipeline:quote-edit", args=[quote.pk])
    assert client.get(url).status_code == 200
    data = {
        "valid_until": "2030-01-31",
        "currency": "CNY",
        "tax_rate": "0",
        "notes": "",
        "version": quote.version,
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "2",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-description": "A",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100.00",
        "lines-0-discount_percent": "0",
        "lines-1-description": "B",
        "lines-1-quantity": "1",
        "lines-1-unit_price": "100.00",
        "lines-1-discount_percent": "0",
        "lines-1-DELETE": "on",
        "lines-2-description": "C",
        "lines-2-quantity": "2",
        "lines-2-unit_price": "10",
        "lines-2-discount_percent": "0",
    }
    assert client.post(url, data).status_code == 302
    quote.refresh_from_db()
    assert [x.description for x in quote.lines.all()] == ["A", "C"]
    assert quote.total == D("120.00")
    # the same form again, with the version it was loaded with: a conflict, input kept
    response = client.post(url, data)
    assert response.status_code == 200 and "Someone else changed this record" in (
        response.content.decode()
    )


def test_the_deal_picker_lists_only_visible_open_deals(login, org, deal):
    other = DealFactory(client=ClientFactory(owner=org.outsider), owner=org.outsider)
    page = login(org.rep).get(reverse("pipeline:quote-new")).content.decode()
    assert deal.title in page and other.title not in page
    response = login(org.rep).get(reverse("pipeline:quote-new"), {"deal": deal.pk})
    assert response["Location"] == reverse("pipeline:quote-create", args=[deal.pk])


# ------------------------------------------------------------- printable page
def test_the_printable_quote_in_both_languages(login, org, deal, settings):
    settings.SALESORG_COMPANY_NAME = "Huadong Software Co."
    settings.SALESORG_COMPANY_ADDRESS = "88 Nanjing Road, Shanghai"
    quote = service.quote_create(
        deal=deal, by=org.rep, lines=[line("Licence", qty="2", price="1234.50", discount="10")]
    )
    client = login(org.rep)
    url = reverse("pipeline:quote-print", args=[quote.pk])
    html = client.get(url, {"lang": "en"}).content.decode()
    assert "Quotation" in html and "Huadong Software Co." in html
    assert deal.client.name in html and deal.client.address in html
    assert "2,469.00" in html and "2,510.97" in html  # subtotal; total = 2222.10 + 288.87
    assert "print.css" in html
    assert 'data-testid="user-menu"' not in html  # no navigation on paper
    zh = client.get(url, {"lang": "zh-hans"}).content.decode()
    assert "报价单" in zh and "合计" in zh and 'lang="zh-hans"' in zh
    assert "2,510.97" in zh  # grouped by thousands in Chinese too (salesorg/formats)


# ----------------------------------------------------------------- timeline
def test_quotes_contracts_and_projects_on_the_client_timeline(org, deal):
    from pipeline.tests.delivery.factories import ContractFactory, ProjectFactory

    quote = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    ContractFactory(client=deal.client, owner=org.am, number="C-TL-1")
    ProjectFactory(client=deal.client, owner=org.am, name="TL rollout")
    kinds = {e.kind: e for e in timeline_for(deal.client, org.am)}
    assert {"quote", "contract", "project"} <= set(kinds)
    assert kinds["quote"].url == quote.get_absolute_url()
    assert "C-TL-1" in kinds["contract"].title
    # the rep sees the quote (their deal) but not the AM's contract and project
    rep_kinds = {e.kind for e in timeline_for(deal.client, org.rep)}
    assert "quote" in rep_kinds and "contract" not in rep_kinds and "project" not in rep_kinds
    assert timeline_for(deal.client, org.outsider) == []


def test_the_deal_page_section_lists_what_the_user_may_see(org, deal):
    from django.template.loader import render_to_string

    from pipeline.tests.delivery.factories import ContractFactory
    from pipeline.views.delivery_common import deal_documents

    quote = service.quote_create(deal=deal, by=org.rep, lines=[line()])
    newer = service.quote_revise(quote=quote, by=org.rep)
    contract = ContractFactory(client=deal.client, deal=deal, owner=org.am)

    def render(user):
        context = {"deal": deal, **deal_documents(deal, user)}
        return render_to_string("pipeline/quotes/_deal_documents.html", context)

    html = render(org.am)
    assert reverse("pipeline:quote-detail", args=[newer.pk]) in html
    assert reverse("pipeline:quote-detail", args=[quote.pk]) not in html  # older revision
    assert contract.number in html and "No delivery projects yet." in html
    assert reverse("pipeline:quote-create", args=[deal.pk]) in html
    assert reverse("pipeline:contract-create", args=[deal.pk]) not in html  # not won yet
    html = render(org.rep)
    assert str(newer) in html and contract.number not in html
