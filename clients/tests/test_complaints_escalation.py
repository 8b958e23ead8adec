"""The first-response SLA and its escalation path: director ← manager ← AM.

Time travels with time-machine; the job runs as its Celery task (eagerly, with
``apply``), so the JobRun slot claim is part of what is tested.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from accounts.models import Notification
from clients import complaints as service
from clients.models import Complaint, ComplaintEntry, ComplaintEscalation
from clients.tasks import complaint_sla
from clients.tests.complaint_factories import ComplaintFactory, build_book
from reports.models import JobRun

pytestmark = pytest.mark.django_db

#: 2026-11-27 10:00 in Asia/Shanghai.
RECEIVED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def book(org):
    """The clients of the complaint book; each test logs the complaints it is about."""
    book = build_book(org)
    Complaint.objects.all().delete()
    return book


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the SLA job as beat would at ``moment``; mails go out after commit."""

    def _run(moment: datetime):
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return complaint_sla.apply().get()

    return _run


def _log(org, book, moment=RECEIVED, **extra):
    with time_machine.travel(moment, tick=False):
        return service.complaint_log(
            by=org.am,
            client=book.clients["east_am"],
            subject="Wrong invoice",
            description="Billed twice.",
            **extra,
        )


def _levels(complaint):
    return dict(complaint.escalations.values_list("level", "escalated_to__username"))


def test_the_escalation_path_runs_up_to_the_director(org, book, run):
    complaint = _log(org, book)
    assert complaint.owner == org.am

    # A minute before the deadline: nothing.
    assert run(RECEIVED + timedelta(hours=23, minutes=59))["escalated_to_manager"] == 0
    assert _levels(complaint) == {} and mail.outbox == []

    # Past the deadline: to the AM's manager, who is told, and the AM too.
    summary = run(RECEIVED + timedelta(hours=24, minutes=1))
    assert summary == {"checked": 1, "escalated_to_manager": 1, "escalated_to_director": 0}
    complaint.refresh_from_db()
    assert complaint.escalation_level == 1 and _levels(complaint) == {1: "manager"}
    step = complaint.escalations.get()
    assert step.at == RECEIVED + timedelta(hours=24, minutes=1)
    assert "no first response by 2026-11-28 10:00" in step.reason
    entry = complaint.entries.get(kind=ComplaintEntry.Kind.ESCALATION)
    assert entry.author is None and "Escalated to" in entry.text
    assert sorted(m.to[0] for m in mail.outbox) == sorted([org.manager.email, org.am.email])
    to_manager = Notification.objects.get(recipient=org.manager)
    assert to_manager.kind == "complaint_escalated"
    assert to_manager.url == complaint.get_absolute_url()
    assert to_manager.dedupe_key == f"complaint:{complaint.pk}:escalation:1"
    assert "Complaint escalated to you" in to_manager.title
    assert Notification.objects.get(recipient=org.am).title.startswith(
        "Your complaint was escalated to"
    )

    # Still no response one more SLA period later: to the director.
    assert run(RECEIVED + timedelta(hours=47, minutes=59))["escalated_to_director"] == 0
    summary = run(RECEIVED + timedelta(hours=48, minutes=1))
    assert summary == {"checked": 1, "escalated_to_manager": 0, "escalated_to_director": 1}
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2
    assert _levels(complaint) == {1: "manager", 2: "director"}
    assert Notification.objects.filter(recipient=org.director, kind="complaint_escalated").exists()
    assert sorted(m.to[0] for m in mail.outbox[2:]) == sorted([org.director.email, org.am.email])
    assert Notification.objects.filter(recipient=org.am).count() == 2

    # There is no level above the director.
    assert run(RECEIVED + timedelta(days=10))["checked"] == 0
    assert complaint.escalations.count() == 2 and len(mail.outbox) == 4


def test_running_twice_escalates_and_sends_nothing_more(org, book, run):
    complaint = _log(org, book)
    late = RECEIVED + timedelta(hours=25)
    first = run(late)
    assert first["escalated_to_manager"] == 1
    sent = len(mail.outbox)
    # The same slot sent again (a second beat): the claim stops it.
    assert run(late) is None
    # The next slot runs, finds the step taken and does nothing.
    assert run(late + timedelta(minutes=15)) == {
        "checked": 0,
        "escalated_to_manager": 0,
        "escalated_to_director": 0,
    }
    # The work itself, called again at the same moment, is idempotent too.
    assert service.complaints_escalate_overdue(late)["escalated_to_manager"] == 0
    assert ComplaintEscalation.objects.filter(complaint=complaint).count() == 1
    assert len(mail.outbox) == sent == 2
    assert Notification.objects.count() == 2
    runs = JobRun.objects.filter(job="complaint_sla").order_by("slot")
    assert [(r.slot, r.status) for r in runs] == [
        ("2026-11-28T11:00", "ok"),
        ("2026-11-28T11:15", "ok"),
    ]
    assert runs[0].summary["escalated_to_manager"] == 1


def test_a_response_before_the_deadline_stops_every_escalation(org, book, run):
    complaint = _log(org, book)
    with time_machine.travel(RECEIVED + timedelta(hours=23), tick=False):
        service.complaint_respond(by=org.am, complaint=complaint, text="On it.")
    for hours in (25, 49, 100):
        assert run(RECEIVED + timedelta(hours=hours))["checked"] == 0
    assert not ComplaintEscalation.objects.exists() and mail.outbox == []


def test_a_late_response_stops_the_second_step(org, book, run):
    complaint = _log(org, book)
    run(RECEIVED + timedelta(hours=25))
    with time_machine.travel(RECEIVED + timedelta(hours=26), tick=False):
        service.complaint_respond(by=org.manager, complaint=complaint, text="Sorry, we are late.")
    run(RECEIVED + timedelta(hours=50))
    assert _levels(complaint) == {1: "manager"}
    complaint.refresh_from_db()
    assert complaint.answered_within_sla is False and complaint.escalation_level == 1


def test_a_response_saved_while_the_job_runs_wins(org, book):
    """The job re-reads each complaint under a row lock before it escalates it."""
    complaint = _log(org, book)
    late = RECEIVED + timedelta(hours=25)
    assert list(service.escalation_candidates(late).values_list("pk", flat=True)) == [complaint.pk]
    service.complaint_respond(by=org.am, complaint=complaint, text="Just in time for the job")
    assert service._escalate_one(complaint.pk, late) == []
    assert not ComplaintEscalation.objects.exists()


def test_a_long_overdue_complaint_takes_both_steps_in_one_run(org, book, run):
    complaint = _log(org, book)
    summary = run(RECEIVED + timedelta(days=3))
    assert summary["escalated_to_manager"] == 1 and summary["escalated_to_director"] == 1
    assert _levels(complaint) == {1: "manager", 2: "director"}


def test_resolved_and_closed_complaints_do_not_escalate(org, book, run):
    resolved = _log(org, book)
    with time_machine.travel(RECEIVED + timedelta(hours=1), tick=False):
        service.complaint_resolve(by=org.am, complaint=resolved, resolution="Credit note sent.")
    assert run(RECEIVED + timedelta(hours=30))["checked"] == 0


def test_a_reopened_complaint_keeps_its_first_response(org, book, run):
    complaint = _log(org, book)
    with time_machine.travel(RECEIVED + timedelta(hours=1), tick=False):
        complaint = service.complaint_respond(by=org.am, complaint=complaint, text="Called.")
        complaint = service.complaint_resolve(by=org.am, complaint=complaint, resolution="Done")
    with time_machine.travel(RECEIVED + timedelta(days=5), tick=False):
        service.complaint_reopen(by=org.am, complaint=complaint, reason="It is back.")
    assert run(RECEIVED + timedelta(days=6))["checked"] == 0


def test_an_inactive_manager_is_passed_over_for_the_next_one_up(org, book, run):
    complaint = _log(org, book)
    org.manager.is_active = False
    org.manager.save()
    run(RECEIVED + timedelta(hours=25))
    assert _levels(complaint) == {1: "director"}


def test_a_reps_complaint_goes_to_their_account_manager_first(org, book, run):
    complaint = ComplaintFactory(client=book.clients["rep_only"], received_at=RECEIVED)
    assert complaint.owner == org.rep
    run(RECEIVED + timedelta(hours=49))
    assert _levels(complaint) == {1: "am", 2: "director"}


# ------------------------------------------------------------------------- time
def test_across_midnight_in_shanghai(org, book, run):
    """Received 23:30 local time (15:30 UTC): due 23:30 the next evening, local."""
    late_evening = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # 2026-11-27 23:30 Shanghai
    complaint = _log(org, book, moment=late_evening)
    assert complaint.sla_due_at == datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
    # 23:29 the next day, Shanghai: not yet.
    assert run(datetime(2026, 11, 28, 15, 29, tzinfo=UTC))["checked"] == 0
    # 23:45 (slot 2026-11-28T23:45): escalated; the reason names the local deadline.
    assert run(datetime(2026, 11, 28, 15, 45, tzinfo=UTC))["escalated_to_manager"] == 1
    step = complaint.escalations.get()
    assert "2026-11-28 23:30" in step.reason
    assert JobRun.objects.filter(job="complaint_sla", slot="2026-11-28T23:45").exists()
    # Past midnight again (00:05 on the 30th local): one more SLA period is up.
    assert run(datetime(2026, 11, 29, 16, 5, tzinfo=UTC))["escalated_to_director"] == 1
    assert JobRun.objects.filter(job="complaint_sla", slot="2026-11-30T00:00").exists()


@override_settings(SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY={"critical": 4, "high": 12})
def test_each_severity_escalates_after_its_own_hours(org, book, run):
    critical = _log(org, book, severity="critical")
    high = _log(org, book, severity="high")
    medium = _log(org, book, severity="medium")
    run(RECEIVED + timedelta(hours=4, minutes=5))
    assert (_levels(critical), _levels(high), _levels(medium)) == ({1: "manager"}, {}, {})
    run(RECEIVED + timedelta(hours=8, minutes=5))
    assert _levels(critical) == {1: "manager", 2: "director"}
    run(RECEIVED + timedelta(hours=12, minutes=5))
    assert _levels(high) == {1: "manager"} and _levels(medium) == {}
    run(RECEIVED + timedelta(hours=24, minutes=5))
    assert _levels(high) == {1: "manager", 2: "director"} and _levels(medium) == {1: "manager"}


# ------------------------------------------------------------------------ scale
def test_the_backlog_is_worked_in_batches(org, book, monkeypatch):
    monkeypatch.setattr(service, "ESCALATION_BATCH", 2)
    made = [
        ComplaintFactory(client=book.clients["east_am"], received_at=RECEIVED) for _ in range(5)
    ]
    summary = service.complaints_escalate_overdue(RECEIVED + timedelta(hours=25))
    assert summary == {"checked": 5, "escalated_to_manager": 5, "escalated_to_director": 0}
    assert ComplaintEscalation.objects.filter(complaint__in=made, level=1).count() == 5


def test_the_candidates_query_is_one_query_however_long_the_backlog(
    org, book, django_assert_num_queries
):
    made = {
        ComplaintFactory(client=book.clients["east_am"], received_at=RECEIVED).pk for _ in range(30)
    }
    with django_assert_num_queries(1):
        ids = list(
            service.escalation_candidates(RECEIVED + timedelta(hours=25)).values_list(
                "pk", flat=True
            )[: service.ESCALATION_BATCH]
        )
    assert made <= set(ids)
