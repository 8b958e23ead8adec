"""Create and edit: validation that explains itself, and the role rules on fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clients import services
from clients.models import Client, Contact, Tag
from clients.tests.factories import ClientFactory, registration_number
from pipeline.models import Deal, Stage

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {"name": "Shanghai Acme Co., Ltd.", "status": "prospect", "source": "other"}
    data["cadence"] = "monthly"
    data.update(overrides)
    return data


def _edit_data(client: Client, **overrides):
    data = {
        "name": client.name,
        "status": client.status,
        "source": client.source,
        "cadence": client.cadence,
        "registration_number": client.registration_number,
        "phone": client.phone,
        "email": client.email,
        "industry": client.industry,
        "version": client.version,
    }
    data.update(overrides)
    return data


# ----------------------------------------------------------------- duplicates
def test_duplicate_registration_number_names_the_visible_client(login, org, book):
    taken = book.clients["rep"]
    response = login(org.rep).post(
        "/clients/new/", _form(registration_number=taken.registration_number)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["registration_number"]
    assert errors == [f"“{taken.name}” already has this registration number (id {taken.pk})."]
    assert not Client.objects.filter(name="Shanghai Acme Co., Ltd.").exists()


def test_duplicate_registration_number_of_an_invisible_client_is_not_named(login, org, book):
    taken = book.clients["outsider"]
    response = login(org.rep).post(
        "/clients/new/", _form(registration_number=taken.registration_number.lower())
    )
    html = response.content.decode()
    assert "Another client already has this registration number; you cannot see it" in html
    assert taken.name not in html and str(taken.pk) not in response.context["form"].errors.as_text()


def test_editing_keeps_its_own_registration_number(login, org, book):
    client = book.clients["rep"]
    response = login(org.rep).post(f"/clients/{client.pk}/edit/", _edit_data(client, city="Suzhou"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.city == "Suzhou"


# --------------------------------------------------------------- malformed data
def test_malformed_phone_email_and_code_are_explained(login, org):
    response = login(org.rep).post(
        "/clients/new/",
        _form(
            phone="call me maybe", email="not-an-email", registration_number="91310000ABCDEFGHIO"
        ),
    )
    errors = response.context["form"].errors
    assert "is not a phone number" in errors["phone"][0]
    assert errors["email"] == ["Enter a valid email address."]
    assert "cannot appear in a unified social credit code" in errors["registration_number"][0]
    assert not Client.objects.exists()


def test_a_wrong_checksum_is_called_a_typo(login, org):
    good = registration_number(42)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = login(org.rep).post("/clients/new/", _form(registration_number=bad))
    assert "check for a typo" in response.context["form"].errors["registration_number"][0]


# ----------------------------------------------------------------- referral loop
def test_a_referral_loop_is_refused(login, org):
    a = ClientFactory(name="Alpha", owner=org.rep)
    b = ClientFactory(name="Beta", owner=org.rep, referred_by=a, source="referral")
    c = ClientFactory(name="Gamma", owner=org.rep, referred_by=b, source="referral")
    client = login(org.rep)
    response = client.post(f"/clients/{a.pk}/edit/", _edit_data(a, referred_by=c.pk))
    assert response.status_code == 200
    message = response.context["form"].errors["referred_by"][0]
    assert message.startswith("This would make a referral loop: “Gamma” was itself referred")
    a.refresh_from_db()
    assert a.referred_by is None
    response = client.post(f"/clients/{a.pk}/edit/", _edit_data(a, referred_by=a.pk))
    # The form only offers other clients; the service would say "cannot refer itself".
    assert "referred_by" in response.context["form"].errors
    # A chain without a loop is fine.
    d = ClientFactory(name="Delta", owner=org.rep)
    response = client.post(f"/clients/{d.pk}/edit/", _edit_data(d, referred_by=c.pk))
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.referred_by == c


def test_the_referral_loop_is_refused_by_the_model_too(org):
    a = ClientFactory(owner=org.rep)
    b = ClientFactory(owner=org.rep, referred_by=a)
    a.referred_by = b
    with pytest.raises(Exception) as excinfo:
        a.full_clean()
    assert "referral loop" in str(excinfo.value)
    a.referred_by = a
    with pytest.raises(Exception, match="cannot refer itself"):
        a.full_clean()


def test_a_referrer_must_be_visible(login, org, book):
    response = login(org.rep).post(
        "/clients/new/", _form(referred_by=book.clients["outsider"].pk, source="referral")
    )
    assert "referred_by" in response.context["form"].errors


# ------------------------------------------------------------------- role rules
def test_support_does_not_get_protected_fields_and_cannot_smuggle_them(login, org, book):
    client = book.clients["rep"]
    page = login(org.support)
    form = page.get(f"/clients/{client.pk}/edit/").context["form"]
    assert not set(Client.PROTECTED_FIELDS) & set(form.fields)
    response = page.post(
        f"/clients/{client.pk}/edit/",
        _edit_data(
            client,
            phone="+86 21 6666 1234",
            owner=org.support.pk,
            account_manager=org.am.pk,
            spend_12m="5000000",
            is_key_account="on",
        ),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.phone == "+86 21 6666 1234"  # master data: changed
    assert client.owner == org.rep and client.account_manager is None
    assert client.spend_12m == Decimal("0") and not client.is_key_account


def test_the_service_refuses_protected_fields_for_support(org, book):
    client = book.clients["rep"]
    with pytest.raises(services.ValidationError) as excinfo:
        services.client_update(
            by=org.support,
            client=client,
            expected_version=client.version,
            phone="+86 21 6666 9999",
            owner=org.support,
            spend_12m=Decimal("10"),
        )
    assert set(excinfo.value.message_dict) == {"owner", "spend_12m"}
    client.refresh_from_db()
    assert client.phone != "+86 21 6666 9999" and client.owner == org.rep


def test_a_rep_cannot_give_a_client_away_but_a_manager_can(login, org, book):
    client = book.clients["rep"]
    rep_form = login(org.rep).get(f"/clients/{client.pk}/edit/").context["form"]
    assert "owner" not in rep_form.fields and "account_manager" not in rep_form.fields
    manager = login(org.manager)
    form = manager.get(f"/clients/{client.pk}/edit/").context["form"]
    assert {"owner", "account_manager", "spend_12m", "is_key_account"} <= set(form.fields)
    assert org.outsider not in form.fields["owner"].queryset
    response = manager.post(
        f"/clients/{client.pk}/edit/", _edit_data(client, owner=org.peer_rep.pk)
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.owner == org.peer_rep


def test_a_manager_cannot_hand_a_client_outside_their_subtree(org, book):
    client = book.clients["rep"]
    with pytest.raises(services.ValidationError) as excinfo:
        services.client_update(
            by=org.manager, client=client, expected_version=client.version, owner=org.outsider
        )
    assert "owner" in excinfo.value.message_dict


def test_an_account_manager_edits_a_client_assigned_to_them(login, org, book):
    client = book.clients["outsider"]
    client.account_manager = org.am
    client.save()
    am = login(org.am)
    response = am.post(f"/clients/{client.pk}/edit/", _edit_data(client, industry="Retail"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.industry == "Retail"


# ------------------------------------------------------------------ concurrency
def test_a_stale_edit_is_refused_and_keeps_what_the_user_typed(login, org, book):
    client = book.clients["rep"]
    opened_version = client.version
    # Someone else saves first.
    services.client_update(
        by=org.manager,
        client=Client.objects.get(pk=client.pk),
        expected_version=opened_version,
        industry="Chemicals",
    )
    response = login(org.rep).post(
        f"/clients/{client.pk}/edit/",
        _edit_data(client, version=opened_version, notes="My long visit notes", city="Hangzhou"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this record after you opened it" in html
    assert "My long visit notes" in html and 'value="Hangzhou"' in html
    client.refresh_from_db()
    assert client.industry == "Chemicals" and client.city == "" and client.notes == ""


def test_an_edit_without_a_version_is_refused(login, org, book):
    client = book.clients["rep"]
    data = _edit_data(client, city="Ningbo")
    del data["version"]
    response = login(org.rep).post(f"/clients/{client.pk}/edit/", data)
    assert response.status_code == 200 and "version" in response.context["form"].errors


# ---------------------------------------------------------- first contact, tags
def test_create_with_a_first_contact_and_new_tags(login, org):
    Tag.objects.create(name="VIP")
    response = login(org.rep).post(
        "/clients/new/",
        _form(
            new_tags="VIP, 华东, VIP",
            **{"contact-name": "王伟", "contact-phone": "138 0013 8000", "contact-title": "CEO"},
        ),
    )
    client = Client.objects.get(name="Shanghai Acme Co., Ltd.")
    assert response.status_code == 302
    assert sorted(client.tags.values_list("name", flat=True)) == ["VIP", "华东"]
    contact = client.contacts.get()
    assert (
        contact.name == "王伟" and contact.is_primary and contact.phone_normalized == "13800138000"
    )
    assert client.region == org.east  # the owner's region


def test_a_bad_first_contact_shows_on_the_contact_part_and_saves_nothing(login, org):
    response = login(org.rep).post(
        "/clients/new/",
        _form(phone="021 5555 1234", **{"contact-name": "Li", "contact-phone": "abc"}),
    )
    assert response.status_code == 200
    assert "is not a phone number" in response.context["contact_form"].errors["phone"][0]
    assert "phone" not in response.context["form"].errors
    assert not Client.objects.exists() and not Contact.objects.exists()


def test_contact_details_without_a_name_are_explained(login, org):
    response = login(org.rep).post("/clients/new/", _form(**{"contact-phone": "13800138000"}))
    assert "Give the contact's name" in response.context["contact_form"].errors["name"][0]


# ------------------------------------------------------------------- contacts
def test_one_primary_contact_per_client(login, org, book):
    client = book.clients["rep"]
    first = book.contacts["rep"]
    first.is_primary = True
    first.save()
    page = login(org.rep)
    page.post(f"/clients/{client.pk}/contacts/new/", {"name": "New boss", "is_primary": "on"})
    first.refresh_from_db()
    assert not first.is_primary
    assert client.contacts.get(is_primary=True).name == "New boss"
    html = page.get(f"/clients/{client.pk}/").content.decode()
    assert html.count('data-testid="primary-badge"') == 1


def test_a_stale_contact_edit_is_refused(login, org, book):
    contact = book.contacts["rep"]
    services.contact_update(
        by=org.rep,
        contact=Contact.objects.get(pk=contact.pk),
        expected_version=contact.version,
        title="CFO",
    )
    response = login(org.rep).post(
        f"/clients/contacts/{contact.pk}/edit/",
        {"name": contact.name, "title": "CTO", "version": contact.version},
    )
    assert "Someone else changed this record" in response.content.decode()
    contact.refresh_from_db()
    assert contact.title == "CFO"


def test_a_view_only_share_cannot_touch_contacts(login, org, book):
    client = book.clients["rep"]
    services.client_share(by=org.rep, client=client, user=org.peer_rep, level="view")
    page = login(org.peer_rep)
    assert page.get(f"/clients/{client.pk}/").status_code == 200
    assert page.get(f"/clients/{client.pk}/contacts/new/").status_code == 403
    assert page.get(f"/clients/contacts/{book.contacts['rep'].pk}/edit/").status_code == 403
    assert page.get(f"/clients/{client.pk}/edit/").status_code == 403


# -------------------------------------------------------------------- delete
def test_deleting_needs_a_confirmation_and_explains_protected_records(login, org, book):
    client = book.clients["rep"]
    Deal.objects.create(
        client=client,
        owner=org.rep,
        title="Big one",
        amount=Decimal("1000"),
        stage=Stage.objects.order_by("order").first(),
        probability=10,
    )
    page = login(org.manager)
    confirm = page.get(f"/clients/{client.pk}/delete/")
    assert "Delete Firm of rep?" in confirm.content.decode()
    response = page.post(f"/clients/{client.pk}/delete/", follow=True)
    assert "cannot be deleted: deals, contracts or other records still refer to it" in (
        response.content.decode()
    )
    assert Client.objects.filter(pk=client.pk).exists()
