"""Logging activities: the rules, and what a logged visit moves (visit cadence)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clients.models import Cadence
from pipeline.models import Activity, ActivityType
from pipeline.services import activities as services
from pipeline.tests.activity_factories import (
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    ProductFactory,
)
from salesorg.lib.concurrency import StaleWrite

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    """A moment on the wall clock in Shanghai (the default TIME_ZONE)."""
    return datetime(*args, tzinfo=SHANGHAI)


def visit(org, client, when, **extra):
    return services.activity_create(
        by=extra.pop("by", org.rep),
        type=ActivityType.VISIT,
        status=extra.pop("status", Activity.Status.DONE),
        client=client,
        start_at=when,
        outcome="Met the buyer",
        **extra,
    )


# ------------------------------------------------------------------ cadence
@pytest.mark.parametrize(
    ("cadence", "days"),
    [
        (Cadence.WEEKLY, 7),
        (Cadence.BIWEEKLY, 14),
        (Cadence.MONTHLY, 30),
        (Cadence.QUARTERLY, 91),
    ],
)
def test_a_logged_visit_moves_next_visit_due_by_the_cadence(org, cadence, days):
    client = ClientFactory(owner=org.rep, cadence=cadence)
    with time_machine.travel(at(2026, 5, 20, 15, 0), tick=False):
        activity = visit(org, client, timezone.now())
    client.refresh_from_db()
    assert client.last_visit_at == activity.start_at
    assert client.next_visit_due == date(2026, 5, 20) + timedelta(days=days)


def test_an_on_demand_client_is_never_due(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.ON_DEMAND)
    visit(org, client, at(2026, 5, 20, 10, 0))
    client.refresh_from_db()
    assert client.last_visit_at == at(2026, 5, 20, 10, 0)
    assert client.next_visit_due is None


def test_the_visit_date_is_the_local_date_across_midnight_in_shanghai(org):
    """00:30 in Shanghai is still the previous day in UTC: the local day counts."""
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    with time_machine.travel(at(2026, 3, 2, 0, 30), tick=False):
        assert timezone.now().date() == date(2026, 3, 1)  # UTC
        visit(org, client, timezone.now())
    client.refresh_from_db()
    assert client.next_visit_due == date(2026, 3, 9)

    late = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    with time_machine.travel(at(2026, 3, 1, 23, 50), tick=False):
        visit(org, late, timezone.now())
    late.refresh_from_db()
    assert late.next_visit_due == date(2026, 3, 8)


def test_an_older_visit_does_not_move_the_cadence_back(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    visit(org, client, at(2026, 5, 20, 10, 0))
    visit(org, client, at(2026, 5, 12, 10, 0))  # logged late, happened earlier
    client.refresh_from_db()
    assert client.last_visit_at == at(2026, 5, 20, 10, 0)
    assert client.next_visit_due == date(2026, 5, 27)


def test_calls_and_planned_visits_do_not_move_the_cadence(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    services.activity_create(
        by=org.rep,
        type=ActivityType.CALL,
        client=client,
        outcome="Called",
        start_at=at(2026, 5, 1, 9),
    )
    with time_machine.travel(at(2026, 5, 1, 12, 0), tick=False):
        visit(org, client, at(2026, 5, 8, 10, 0), status=Activity.Status.PLANNED)
    client.refresh_from_db()
    assert client.last_visit_at is None and client.next_visit_due is None


def test_completing_a_planned_visit_moves_the_cadence(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.BIWEEKLY)
    with time_machine.travel(at(2026, 5, 1, 9, 0), tick=False):
        planned = visit(org, client, at(2026, 5, 4, 10, 0), status=Activity.Status.PLANNED)
    with time_machine.travel(at(2026, 5, 4, 11, 0), tick=False):
        services.activity_complete(
            by=org.rep, activity=planned, expected_version=planned.version, outcome="Good"
        )
    client.refresh_from_db()
    planned.refresh_from_db()
    assert planned.status == Activity.Status.DONE and planned.outcome == "Good"
    assert client.next_visit_due == date(2026, 5, 18)


def test_completing_early_dates_the_activity_now(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    with time_machine.travel(at(2026, 5, 1, 9, 0), tick=False):
        planned = visit(org, client, at(2026, 5, 9, 10, 0), status=Activity.Status.PLANNED)
        services.activity_complete(by=org.rep, activity=planned, expected_version=1)
    planned.refresh_from_db()
    assert planned.start_at == at(2026, 5, 1, 9, 0)
    with pytest.raises(ValidationError):
        services.activity_complete(by=org.rep, activity=planned, expected_version=2)


def test_undoing_the_last_visit_lets_the_one_before_count_again(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    visit(org, client, at(2026, 5, 10, 10, 0))
    last = visit(org, client, at(2026, 5, 20, 10, 0))
    services.activity_update(
        by=org.rep, activity=last, expected_version=last.version, status=Activity.Status.CANCELLED
    )
    client.refresh_from_db()
    assert client.next_visit_due == date(2026, 5, 17)

    again = visit(org, client, at(2026, 5, 21, 10, 0))
    services.activity_delete(by=org.rep, activity=again)
    client.refresh_from_db()
    assert client.last_visit_at == at(2026, 5, 10, 10, 0)


def test_moving_a_visit_later_moves_the_cadence_with_it(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    v = visit(org, client, at(2026, 5, 10, 10, 0))
    services.activity_update(
        by=org.rep, activity=v, expected_version=v.version, start_at=at(2026, 5, 12, 10, 0)
    )
    client.refresh_from_db()
    assert client.next_visit_due == date(2026, 5, 19)
    services.activity_update(
        by=org.rep, activity=v, expected_version=v.version, start_at=at(2026, 5, 11, 10, 0)
    )
    client.refresh_from_db()
    assert client.next_visit_due == date(2026, 5, 18)


def test_a_done_activity_on_a_deal_moves_its_last_activity_forward_only(org):
    client = ClientFactory(owner=org.rep)
    deal = DealFactory(client=client)
    services.activity_create(
        by=org.rep, type="call", client=client, deal=deal, outcome="x", start_at=at(2026, 5, 5, 9)
    )
    services.activity_create(
        by=org.rep, type="call", client=client, deal=deal, outcome="x", start_at=at(2026, 5, 1, 9)
    )
    deal.refresh_from_db()
    assert deal.last_activity_at == at(2026, 5, 5, 9)


def test_logging_a_visit_does_not_make_the_clients_form_stale(org):
    client = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    version = client.version
    visit(org, client, at(2026, 5, 20, 10, 0))
    client.refresh_from_db()
    assert client.version == version


# ---------------------------------------------------------------- the rules
def test_defaults_and_links(org):
    client = ClientFactory(owner=org.rep)
    contact = ContactFactory(client=client)
    deal = DealFactory(client=client)
    product = ProductFactory()
    activity = services.activity_create(
        by=org.rep,
        type=ActivityType.DEMO,
        deal=deal,
        contact=contact,
        outcome="Showed it",
        objections=[
            {
                "objection": "Too expensive",
                "confirmed_understanding": "Budget is fixed",
                "response": "Payment in stages",
                "resolved": True,
            },
            {"objection": "  ", "response": ""},
        ],
        products=[product],
    )
    assert activity.owner == org.rep
    assert activity.client == client  # taken from the deal
    assert activity.duration_minutes == 60
    assert [o.objection for o in activity.objections.all()] == ["Too expensive"]
    assert list(activity.products_demonstrated.all()) == [product]
    assert services.default_duration(ActivityType.VISIT) == 45


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client": None}, "client"),
        ({"type": ActivityType.CALL, "spin_problem": "Slow"}, "spin_problem"),
        ({"type": ActivityType.FOLLOW_UP}, "follow_up_reason"),
        ({"type": ActivityType.CALL, "follow_up_reason": "care_call"}, "follow_up_reason"),
        ({"start_at": "future"}, "start_at"),
    ],
)
def test_what_an_activity_may_not_be(org, changes, field):
    client = ClientFactory(owner=org.rep)
    fields = {"type": ActivityType.VISIT, "client": client, "outcome": "x", **changes}
    if fields.get("start_at") == "future":
        fields["start_at"] = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.activity_create(by=org.rep, **fields)
    assert field in exc.value.message_dict
    assert not Activity.objects.exists()


def test_linked_records_must_be_visible_and_belong_together(org):
    mine = ClientFactory(owner=org.rep)
    other = ClientFactory(owner=org.outsider)
    with pytest.raises(ValidationError) as exc:
        services.activity_create(by=org.rep, type="call", client=other, outcome="x")
    assert "client" in exc.value.message_dict
    foreign_deal = DealFactory(client=ClientFactory(owner=org.rep))
    with pytest.raises(ValidationError) as exc:
        services.activity_create(by=org.rep, type="call", client=mine, deal=foreign_deal)
    assert exc.value.message_dict["deal"] == ["This deal is with another client."]
    stranger = ContactFactory(client=ClientFactory(owner=org.rep))
    with pytest.raises(ValidationError) as exc:
        services.activity_create(by=org.rep, type="call", client=mine, contact=stranger)
    assert "contact" in exc.value.message_dict
    hidden_lead = LeadFactory(owner=org.outsider)
    with pytest.raises(ValidationError) as exc:
        services.activity_create(by=org.rep, type="call", lead=hidden_lead)
    assert "lead" in exc.value.message_dict
    lead = LeadFactory(owner=org.rep)
    assert services.activity_create(by=org.rep, type="call", lead=lead).lead == lead


def test_who_may_write(org):
    client = ClientFactory(owner=org.rep)
    with pytest.raises(PermissionDenied):
        services.activity_create(by=org.support, type="call", client=client)
    activity = ActivityFactory(client=client)
    for user in (org.support, org.peer_rep, org.outsider):
        with pytest.raises(PermissionDenied):
            services.activity_update(by=user, activity=activity, expected_version=1, outcome="!")
        with pytest.raises(PermissionDenied):
            services.activity_delete(by=user, activity=activity)
    services.activity_update(by=org.am, activity=activity, expected_version=1, outcome="Noted")
    with pytest.raises(StaleWrite):
        services.activity_update(by=org.rep, activity=activity, expected_version=1, outcome="Old")
    activity.refresh_from_db()
    assert activity.outcome == "Noted"
