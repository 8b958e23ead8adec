"""Activities on the client timeline, read through the viewer's visibility."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.timeline import timeline_for
from pipeline.tests.activity_factories import ActivityFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_the_client_timeline_lists_the_activities_the_viewer_may_see(
    org, django_assert_num_queries
):
    customer = ClientFactory(owner=org.rep, account_manager=org.am)
    ActivityFactory(
        client=customer,
        type="visit",
        subject="Plant tour",
        outcome="Liked it",
        start_at=timezone.now() - timedelta(days=1),
    )
    ActivityFactory(client=customer, owner=org.am, type="call", subject="Check-in")
    ActivityFactory(client=customer, owner=org.rep, type="call", status="cancelled", subject="Nope")

    titles = {e.title for e in timeline_for(customer, org.rep) if e.kind == "activity"}
    assert titles == {"Visit: Plant tour"}  # the AM's call is the AM's
    entries = [e for e in timeline_for(customer, org.manager) if e.kind == "activity"]
    assert [e.title for e in entries] == ["Call: Check-in", "Visit: Plant tour"]
    visit = entries[1]
    assert visit.summary == "Liked it" and visit.url.startswith("/pipeline/activities/")
    assert visit.actor == str(org.rep) and visit.icon
    assert [e for e in timeline_for(customer, org.outsider) if e.kind == "activity"] == []

    from pipeline.timeline import activity_entries

    with django_assert_num_queries(1):  # one query however many entries
        list(activity_entries(customer, org.director, 50))
