"""Events (trade shows, forums, client events): listed for everyone, kept by
support, managers and the director."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Event
from pipeline.tests.test_activity_pages import PERSONAS

pytestmark = pytest.mark.django_db
KEEPERS = {"director", "manager", "peer_manager", "support"}


def event(org, name, starts_on, **fields):
    return Event.objects.create(
        name=name, kind=Event.Kind.TRADE_SHOW, starts_on=starts_on, owner=org.support, **fields
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_event_pages_per_persona(login, org, persona):
    expo = event(org, "Shanghai Expo", timezone.localdate() + timedelta(days=10))
    web = login(getattr(org, persona))
    listing = web.get(reverse("pipeline:event-list"))
    assert listing.status_code == 200 and "Shanghai Expo" in listing.content.decode()
    keeper = persona in KEEPERS
    assert web.get(reverse("pipeline:event-create")).status_code == (200 if keeper else 403)
    assert web.get(reverse("pipeline:event-edit", args=[expo.pk])).status_code == (
        200 if keeper else 403
    )
    response = web.post(
        reverse("pipeline:event-create"),
        {
            "name": f"Forum {persona}",
            "kind": "forum",
            "starts_on": "2026-09-01",
            "owner": getattr(org, persona).pk,
            "budget": "5000",
        },
    )
    assert response.status_code == (302 if keeper else 403)
    assert Event.objects.filter(name=f"Forum {persona}").exists() == keeper


def test_filters_export_and_dates(login, org):
    today = timezone.localdate()
    event(org, "Coming Fair", today + timedelta(days=3), venue="Hall 5")
    event(org, "Old Fair", today - timedelta(days=30), budget=Decimal("120000"))
    web = login(org.rep)

    def names(query):
        html = web.get(reverse("pipeline:event-list") + query).content.decode()
        return {n for n in ("Coming Fair", "Old Fair") if n in html}

    assert names("?when=upcoming") == {"Coming Fair"}
    assert names("?when=past") == {"Old Fair"}
    assert names("?q=hall") == {"Coming Fair"}
    assert names("?kind=webinar") == set()
    csv = b"".join(
        web.get(reverse("pipeline:event-list") + "?export=csv").streaming_content
    ).decode("utf-8-sig")
    assert "Coming Fair" in csv and "120000" in csv
    bad = login(org.support).post(
        reverse("pipeline:event-create"),
        {
            "name": "Backwards",
            "kind": "forum",
            "starts_on": "2026-09-05",
            "ends_on": "2026-09-01",
            "owner": org.support.pk,
            "budget": "0",
        },
    )
    assert bad.status_code == 200 and "ends on or after" in bad.content.decode()
    assert not Event.objects.filter(name="Backwards").exists()


def test_the_organiser_is_someone_the_editor_sees(login, org):
    response = login(org.support).post(
        reverse("pipeline:event-create"),
        {
            "name": "Sneaky",
            "kind": "forum",
            "starts_on": "2026-09-01",
            "owner": org.outsider.pk,
            "budget": "0",
        },
    )
    assert response.status_code == 200 and not Event.objects.filter(name="Sneaky").exists()
