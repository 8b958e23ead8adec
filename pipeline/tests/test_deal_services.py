"""Deal workflows: stage history, won/lost, client spend and key accounts, stage admin."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from clients.models import Client
from pipeline.models import Deal, DealStageChange, Stage
from pipeline.services import deals as services
from pipeline.tests.factories import ClientFactory, DealFactory, stage
from salesorg.lib.concurrency import StaleWrite

pytestmark = pytest.mark.django_db


def _history(deal):
    return list(
        DealStageChange.objects.filter(deal=deal)
        .order_by("changed_at", "pk")
        .values_list("from_stage__code", "to_stage__code", "changed_by__username")
    )


def test_a_new_deal_starts_in_the_first_stage_with_its_probability_and_history(org):
    client = ClientFactory(owner=org.rep)
    deal = services.deal_create(by=org.rep, client=client, title="Pumps", amount=Decimal("5000"))
    assert deal.stage.code == "first_contact" and deal.probability == 10
    assert deal.owner == org.rep and deal.currency == "CNY"
    change = deal.stage_changes.get()
    assert change.from_stage is None and change.to_stage.code == "first_contact"
    assert change.changed_by == org.rep and change.amount == Decimal("5000")
    assert change.probability == 10 and change.changed_at is not None


def test_probability_is_overridable_and_the_stage_must_be_open(org):
    client = ClientFactory(owner=org.rep)
    deal = services.deal_create(
        by=org.rep, client=client, title="x", stage=stage("proposal"), probability=60
    )
    assert deal.stage.code == "proposal" and deal.probability == 60
    with pytest.raises(ValidationError):
        services.deal_create(by=org.rep, client=client, title="y", stage=stage("won"))


def test_a_deal_needs_a_client_the_creator_sees(org):
    foreign = ClientFactory(owner=org.outsider)
    with pytest.raises(ValidationError) as exc:
        services.deal_create(by=org.rep, client=foreign, title="Nope")
    assert "client" in exc.value.message_dict
    assert not Deal.objects.exists()


def test_giving_a_deal_to_someone_else_needs_reassign(org):
    client = ClientFactory(owner=org.rep)
    with pytest.raises(PermissionDenied):
        services.deal_create(by=org.rep, client=client, title="x", owner=org.peer_rep)
    deal = services.deal_create(by=org.manager, client=client, title="x", owner=org.rep)
    assert deal.owner == org.rep
    with pytest.raises(ValidationError):  # outside the manager's part of the company
        services.deal_create(by=org.manager, client=client, title="x", owner=org.outsider)


def test_every_move_is_recorded_with_who_when_amount_and_probability(org):
    deal = DealFactory(owner=org.rep)
    deal = services.deal_move(
        by=org.rep, deal=deal, stage=stage("needs_analysis"), expected_version=deal.version
    )
    deal = services.deal_move(
        by=org.am, deal=deal, stage=stage("negotiation"), expected_version=deal.version
    )
    deal = services.deal_mark_won(
        by=org.rep,
        deal=deal,
        closed_on=timezone.localdate(),
        amount=Decimal("120000"),
        expected_version=deal.version,
    )
    assert _history(deal) == [
        (None, "first_contact", "rep"),
        ("first_contact", "needs_analysis", "rep"),
        ("needs_analysis", "negotiation", "am"),
        ("negotiation", "won", "rep"),
    ]
    last = deal.stage_changes.order_by("-changed_at", "-pk").first()
    assert last.amount == Decimal("120000") and last.probability == 100
    negotiation = deal.stage_changes.get(to_stage__code="negotiation")
    assert negotiation.probability == 75
    assert deal.closed_on == timezone.localdate() and deal.stage_changed_at is not None


def test_won_needs_a_date_and_amount_lost_needs_a_reason(org):
    deal = DealFactory(owner=org.rep)
    with pytest.raises(ValidationError) as exc:
        services.deal_move(by=org.rep, deal=deal, stage=stage("won"), expected_version=deal.version)
    assert set(exc.value.message_dict) == {"closed_on", "amount"}
    with pytest.raises(ValidationError) as exc:
        services.deal_mark_won(
            by=org.rep,
            deal=deal,
            closed_on=timezone.localdate() + timedelta(days=3),
            amount=Decimal("1"),
            expected_version=deal.version,
        )
    assert "closed_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.deal_mark_lost(by=org.rep, deal=deal, reason="  ", expected_version=deal.version)
    assert "lost_reason" in exc.value.message_dict
    deal.refresh_from_db()
    assert deal.stage.code == "first_contact" and deal.stage_changes.count() == 1

    deal = services.deal_mark_lost(
        by=org.rep, deal=deal, reason="Price", competitor="Acme", expected_version=deal.version
    )
    assert deal.stage.code == "lost" and deal.lost_reason == "Price"
    assert deal.competitor == "Acme" and deal.closed_on == timezone.localdate()
    assert deal.probability == 0


def test_a_stale_version_is_refused_and_nothing_is_written(org):
    deal = DealFactory(owner=org.rep)
    old_version = deal.version
    services.deal_move(
        by=org.am, deal=deal, stage=stage("needs_analysis"), expected_version=old_version
    )
    with pytest.raises(StaleWrite):
        services.deal_move(
            by=org.rep, deal=deal, stage=stage("proposal"), expected_version=old_version
        )
    with pytest.raises(StaleWrite):
        services.deal_update(
            by=org.rep, deal=deal, expected_version=old_version, title="Overwritten?"
        )
    deal.refresh_from_db()
    assert deal.stage.code == "needs_analysis" and deal.title != "Overwritten?"
    assert deal.stage_changes.count() == 2


def test_the_stage_never_changes_through_an_edit(org):
    deal = DealFactory(owner=org.rep)
    with pytest.raises(ValidationError) as exc:
        services.deal_update(
            by=org.rep, deal=deal, expected_version=deal.version, stage=stage("won")
        )
    assert "stage" in exc.value.message_dict


def test_support_and_outsiders_may_not_move_or_edit(org):
    deal = DealFactory(owner=org.rep)
    for who in (org.support, org.peer_rep):
        with pytest.raises(PermissionDenied):
            services.deal_move(
                by=who, deal=deal, stage=stage("proposal"), expected_version=deal.version
            )
        with pytest.raises(PermissionDenied):
            services.deal_update(by=who, deal=deal, expected_version=deal.version, title="x")


def test_reopen_goes_back_to_the_stage_it_was_closed_from(org):
    deal = DealFactory(owner=org.rep, stage=stage("proposal"))
    deal = services.deal_mark_lost(by=org.rep, deal=deal, reason="Budget", expected_version=1)
    deal = services.deal_reopen(by=org.rep, deal=deal, expected_version=deal.version)
    assert deal.stage.code == "proposal" and deal.closed_on is None and deal.lost_reason == ""
    assert deal.probability == 50
    with pytest.raises(ValidationError):
        services.deal_reopen(by=org.rep, deal=deal, expected_version=deal.version)


# ------------------------------------------------------------------------ spend
@override_settings(SALESORG_KEY_ACCOUNT_THRESHOLD=1_000_000)
def test_won_and_lost_and_reopen_update_spend_and_key_account_both_ways(org):
    client = ClientFactory(owner=org.rep)
    first = DealFactory(owner=org.rep, client=client)
    second = DealFactory(owner=org.rep, client=client)
    today = timezone.localdate()

    first = services.deal_mark_won(
        by=org.rep, deal=first, closed_on=today, amount=Decimal("600000"), expected_version=1
    )
    client.refresh_from_db()
    assert client.spend_12m == Decimal("600000") and not client.is_key_account

    second = services.deal_mark_won(
        by=org.rep, deal=second, closed_on=today, amount=Decimal("500000"), expected_version=1
    )
    client.refresh_from_db()
    assert client.spend_12m == Decimal("1100000") and client.is_key_account  # crossed upwards

    second = services.deal_reopen(by=org.rep, deal=second, expected_version=second.version)
    client.refresh_from_db()
    assert client.spend_12m == Decimal("600000") and not client.is_key_account  # and back

    services.deal_mark_lost(by=org.rep, deal=second, reason="x", expected_version=second.version)
    client.refresh_from_db()
    assert client.spend_12m == Decimal("600000") and not client.is_key_account

    services.deal_update(
        by=org.rep, deal=first, expected_version=first.version, amount=Decimal("1500000")
    )
    client.refresh_from_db()
    assert client.spend_12m == Decimal("1500000") and client.is_key_account


def test_spend_counts_twelve_months_of_won_deals_in_yuan_only(org):
    client = ClientFactory(owner=org.rep)
    today = date(2026, 3, 1)
    won = stage("won")
    for closed_on, amount, currency in (
        (date(2026, 3, 1), "100", "CNY"),
        (date(2025, 3, 2), "200", "CNY"),  # inside: after the same day a year ago
        (date(2025, 3, 1), "400", "CNY"),  # outside
        (date(2026, 3, 2), "800", "CNY"),  # after today: not yet
        (date(2026, 1, 1), "1600", "USD"),  # another currency
    ):
        DealFactory(
            owner=org.rep,
            client=client,
            stage=won,
            closed_on=closed_on,
            amount=Decimal(amount),
            currency=currency,
        )
    DealFactory(owner=org.rep, client=client, stage=stage("lost"), closed_on=today)
    other = ClientFactory(owner=org.rep)
    assert services.client_refresh_spend([client.pk, other.pk], today=today) == 2
    client.refresh_from_db()
    other.refresh_from_db()
    assert client.spend_12m == Decimal("300") and other.spend_12m == 0


def test_refresh_spend_for_every_client_and_the_version_is_not_bumped(org):
    client = ClientFactory(owner=org.rep)
    DealFactory(
        owner=org.rep,
        client=client,
        stage=stage("won"),
        closed_on=timezone.localdate(),
        amount=Decimal("2000000"),
    )
    version = Client.objects.get(pk=client.pk).version
    assert services.client_refresh_spend(None) == Client.objects.count()
    client.refresh_from_db()
    assert client.is_key_account and client.version == version
    assert services.client_refresh_spend([]) == 0


# ----------------------------------------------------------------------- stages
def test_only_the_director_manages_stages(org):
    negotiation = stage("negotiation")
    for who in (org.manager, org.am, org.rep, org.support):
        with pytest.raises(PermissionDenied):
            services.stage_update(by=who, stage=negotiation, probability=80)
    updated = services.stage_update(by=org.director, stage=negotiation, probability=80, order=45)
    assert updated.probability == 80 and updated.order == 45
    new = services.stage_create(by=org.director, name="Trial", order=35, probability=60)
    assert new.kind == Stage.Kind.OPEN and new.code == "trial"


def test_a_stage_holding_deals_and_the_closing_stages_stay_in_use(org):
    DealFactory(owner=org.rep, stage=stage("proposal"))
    with pytest.raises(ValidationError):
        services.stage_update(by=org.director, stage=stage("proposal"), is_active=False)
    with pytest.raises(ValidationError):
        services.stage_update(by=org.director, stage=stage("won"), is_active=False)
    retired = services.stage_update(by=org.director, stage=stage("needs_analysis"), is_active=False)
    assert not retired.is_active
    client = ClientFactory(owner=org.rep)
    deal = services.deal_create(by=org.rep, client=client, title="t")
    with pytest.raises(ValidationError):
        services.deal_move(by=org.rep, deal=deal, stage=retired, expected_version=deal.version)


def test_a_deal_with_paperwork_is_not_deleted_and_a_won_one_takes_its_spend_along(org):
    from pipeline.models import Quote

    with_quote = DealFactory(owner=org.rep)
    Quote.objects.create(deal=with_quote, number="Q-1")
    with pytest.raises(ValidationError):
        services.deal_delete(by=org.manager, deal=with_quote)
    with pytest.raises(PermissionDenied):
        services.deal_delete(by=org.rep, deal=with_quote)  # reps do not delete deals
    won = DealFactory(
        owner=org.rep, stage=stage("won"), closed_on=timezone.localdate(), amount=Decimal("5")
    )
    services.client_refresh_spend([won.client_id])
    client = won.client
    services.deal_delete(by=org.manager, deal=won)
    client.refresh_from_db()
    assert client.spend_12m == 0 and not Deal.objects.filter(pk=won.pk).exists()
