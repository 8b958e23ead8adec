"""Demo complaints (``seed_demo``): consistent with the SLA rules, idempotent, and a
small overdue backlog for the first run of the SLA job."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from clients import complaints as service
from clients.models import Complaint, ComplaintEntry, ComplaintEscalation, ComplaintStatus

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", "--force", "--until", "clients", stdout=StringIO())


def test_demo_complaints_follow_the_rules_and_feed_the_sla_job():
    _seed()
    complaints = Complaint.objects.all()
    total = complaints.count()
    assert total >= 40
    assert set(complaints.values_list("status", flat=True)) == set(ComplaintStatus.values)
    # Owner: the client's account manager, else its owner.
    assert not complaints.exclude(
        Q(owner=F("client__account_manager"))
        | Q(client__account_manager__isnull=True, owner=F("client__owner"))
    ).exists()
    assert not complaints.exclude(sla_due_at=F("received_at") + timedelta(hours=24)).exists()
    # Answered ones have a first response; resolved ones a resolution.
    assert not complaints.exclude(status=ComplaintStatus.OPEN).filter(
        first_response_at__isnull=True
    )
    assert not complaints.filter(resolved_at__isnull=False, resolution="").exists()
    # Late answers carry their escalation steps, in time answers none.
    late = complaints.filter(first_response_at__gt=F("sla_due_at"))
    assert late.exists()
    assert not late.filter(escalation_level=0).exists()
    assert not complaints.filter(first_response_at__lte=F("sla_due_at"), escalation_level__gt=0)
    assert not complaints.annotate(steps=Count("escalations")).exclude(steps=F("escalation_level"))
    assert (
        ComplaintEntry.objects.filter(kind="response").count()
        == complaints.exclude(first_response_at=None).count()
    )

    # The overdue backlog: the first run escalates it, the second finds nothing.
    backlog = list(Complaint.objects.overdue(timezone.now()).filter(escalation_level=0))
    assert len(backlog) == 2
    first = service.complaints_escalate_overdue(timezone.now())
    assert first["escalated_to_manager"] == 2 and first["escalated_to_director"] == 0
    assert service.complaints_escalate_overdue(timezone.now())["checked"] == 0

    # Idempotent: a second seed adds nothing.
    steps = ComplaintEscalation.objects.count()
    _seed()
    assert (Complaint.objects.count(), ComplaintEscalation.objects.count()) == (total, steps)
