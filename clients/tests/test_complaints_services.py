"""Complaint services: logging, the SLA deadline, the conversation log, resolution,
closing, reopening and reassignment — the rules the pages and the API share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from accounts.models import Notification
from clients import complaints as service
from clients.models import Complaint, ComplaintEntry, ComplaintStatus
from clients.tests.complaint_factories import ComplaintFactory, build_book
from clients.tests.factories import ClientFactory, ContactFactory
from salesorg.lib.concurrency import StaleWrite

pytestmark = pytest.mark.django_db

#: 2026-11-27 10:00 in Asia/Shanghai.
MORNING = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def book(org):
    return build_book(org)


def _log(by, client, **extra):
    values = {"subject": "Late delivery", "description": "Two weeks late."}
    values.update(extra)
    return service.complaint_log(by=by, client=client, **values)


def _kinds(complaint):
    return list(complaint.entries.values_list("kind", flat=True))


# ---------------------------------------------------------------------- logging
def test_the_clients_account_manager_owns_it_and_is_told(
    org, book, django_capture_on_commit_callbacks
):
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        complaint = _log(org.rep, book.clients["east_am"], contact=book.contacts["east_am"])
    assert complaint.owner == org.am and complaint.logged_by == org.rep
    assert complaint.status == ComplaintStatus.OPEN and complaint.escalation_level == 0
    assert complaint.received_at == MORNING
    assert complaint.sla_due_at == MORNING + timedelta(hours=24)
    note = Notification.objects.get(recipient=org.am)
    assert note.kind == "complaint_new" and note.url == f"/clients/complaints/{complaint.pk}/"
    assert [m.to for m in mail.outbox] == [[org.am.email]]
    assert "Respond by 2026-11-28 10:00" in mail.outbox[0].body
    assert _kinds(complaint) == ["status"]


def test_without_an_account_manager_the_clients_owner_owns_it(org, book):
    complaint = _log(org.support, book.clients["rep_only"])
    assert complaint.owner == org.rep and complaint.logged_by == org.support


def test_an_inactive_account_manager_is_passed_over(org, book):
    org.am.is_active = False
    org.am.save()
    assert _log(org.manager, book.clients["east_am"]).owner == org.rep


def test_logging_your_own_clients_complaint_sends_yourself_nothing(
    org, book, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _log(org.am, book.clients["east_am"])
    assert mail.outbox == [] and not Notification.objects.exists()


def test_support_logs_on_behalf_of_a_client_of_their_region_only(org, book):
    assert _log(org.support, book.clients["peer_rep"]).owner == org.peer_rep
    with pytest.raises(PermissionDenied):
        _log(org.support, book.clients["north"])


def test_someone_who_does_not_see_the_client_cannot_log_for_it(org, book):
    with pytest.raises(PermissionDenied):
        _log(org.outsider, book.clients["east_am"])
    with pytest.raises(PermissionDenied):
        _log(org.peer_rep, book.clients["rep_only"])
    assert not Complaint.objects.filter(subject="Late delivery").exists()


def test_the_contact_must_be_the_clients(org, book):
    with pytest.raises(ValidationError) as err:
        _log(org.am, book.clients["east_am"], contact=book.contacts["peer_rep"])
    assert "contact" in err.value.error_dict


def test_a_complaint_cannot_be_received_in_the_future(org, book):
    with time_machine.travel(MORNING, tick=False), pytest.raises(ValidationError) as err:
        _log(org.am, book.clients["east_am"], received_at=MORNING + timedelta(hours=1))
    assert "received_at" in err.value.error_dict


def test_a_complaint_received_earlier_is_due_from_when_it_was_received(org, book):
    with time_machine.travel(MORNING, tick=False):
        complaint = _log(org.am, book.clients["east_am"], received_at=MORNING - timedelta(hours=5))
    assert complaint.sla_due_at == MORNING + timedelta(hours=19)


# -------------------------------------------------------------------------- SLA
def test_every_severity_has_24_hours_by_default():
    for severity in ("low", "medium", "high", "critical"):
        assert service.sla_hours(severity) == 24


@override_settings(
    SALESORG_COMPLAINT_SLA_HOURS=48,
    SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY={"critical": 4, "high": 12},
)
def test_hours_per_severity_come_from_the_settings(org, book):
    assert [service.sla_hours(s) for s in ("low", "medium", "high", "critical")] == [48, 48, 12, 4]
    with time_machine.travel(MORNING, tick=False):
        critical = _log(org.am, book.clients["east_am"], severity="critical")
        low = _log(org.am, book.clients["east_am"], severity="low")
    assert critical.sla_due_at == MORNING + timedelta(hours=4)
    assert low.sla_due_at == MORNING + timedelta(hours=48)


@override_settings(SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY={"critical": 4})
def test_a_new_severity_moves_the_deadline_and_says_so(org, book):
    with time_machine.travel(MORNING, tick=False):
        complaint = _log(org.am, book.clients["east_am"])
        updated = service.complaint_update(
            by=org.am, complaint=complaint, expected_version=complaint.version, severity="critical"
        )
    assert updated.sla_due_at == MORNING + timedelta(hours=4)
    assert updated.version == complaint.version + 1
    assert "first response now due 2026-11-27 14:00" in updated.entries.last().text
    # Other details leave the deadline alone.
    again = service.complaint_update(
        by=org.am, complaint=updated, expected_version=updated.version, subject="Broken pallets"
    )
    assert again.sla_due_at == updated.sla_due_at and again.subject == "Broken pallets"


def test_an_edit_from_a_stale_copy_is_refused(org, book):
    complaint = book.complaints["east_am"]
    service.complaint_update(
        by=org.am, complaint=complaint, expected_version=complaint.version, subject="First"
    )
    with pytest.raises(StaleWrite):
        service.complaint_update(
            by=org.manager, complaint=complaint, expected_version=complaint.version, subject="Lost"
        )
    complaint.refresh_from_db()
    assert complaint.subject == "First"


def test_only_the_details_are_editable(org, book):
    complaint = book.complaints["east_am"]
    with pytest.raises(TypeError):
        service.complaint_update(
            by=org.am, complaint=complaint, expected_version=complaint.version, status="closed"
        )


# ----------------------------------------------------------------- conversation
def test_the_first_response_stops_the_clock_and_later_ones_do_not_move_it(org, book):
    complaint = book.complaints["east_am"]
    with time_machine.travel(complaint.received_at + timedelta(hours=2), tick=False):
        responded = service.complaint_respond(
            by=org.am, complaint=complaint, text="Called them; a new batch ships Monday."
        )
    first = responded.first_response_at
    assert responded.status == ComplaintStatus.RESPONDED and responded.answered_within_sla
    with time_machine.travel(complaint.received_at + timedelta(hours=30), tick=False):
        again = service.complaint_respond(
            by=org.manager, complaint=responded, text="Shipped.", expected_version=responded.version
        )
    assert again.first_response_at == first and again.answered_within_sla
    assert _kinds(again) == ["response", "status", "response"]
    assert again.entries.filter(kind="response").first().author == org.am


def test_a_response_needs_text_and_an_active_complaint(org, book):
    complaint = book.complaints["east_am"]
    with pytest.raises(ValidationError):
        service.complaint_respond(by=org.am, complaint=complaint, text="   ")
    service.complaint_resolve(by=org.am, complaint=complaint, resolution="Refunded.")
    with pytest.raises(ValidationError, match="reopen it first"):
        service.complaint_respond(by=org.am, complaint=complaint, text="More")


def test_support_may_add_notes_but_not_respond(org, book):
    complaint = book.complaints["east_am"]
    entry = service.complaint_note(by=org.support, complaint=complaint, text="Client called again.")
    assert entry.kind == ComplaintEntry.Kind.NOTE and entry.author == org.support
    with pytest.raises(PermissionDenied):
        service.complaint_respond(by=org.support, complaint=complaint, text="Hello")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN and complaint.first_response_at is None


def test_nobody_outside_the_line_writes_to_a_complaint(org, book):
    complaint = book.complaints["east_am"]
    for person in (org.outsider, org.peer_manager, org.peer_rep):
        with pytest.raises(PermissionDenied):
            service.complaint_note(by=person, complaint=complaint, text="x")
        with pytest.raises(PermissionDenied):
            service.complaint_respond(by=person, complaint=complaint, text="x")
    assert not complaint.entries.exists()


# -------------------------------------------------------------------- lifecycle
def test_resolve_close_and_reopen(org, book, django_capture_on_commit_callbacks):
    complaint = book.complaints["east_am"]
    with pytest.raises(ValidationError) as err:
        service.complaint_resolve(by=org.am, complaint=complaint, resolution="")
    assert "resolution" in err.value.error_dict
    with pytest.raises(ValidationError, match="Only a resolved complaint"):
        service.complaint_close(by=org.am, complaint=complaint)

    resolved = service.complaint_resolve(
        by=org.am, complaint=complaint, resolution="Replaced the goods."
    )
    assert resolved.status == ComplaintStatus.RESOLVED and resolved.resolved_at
    # The resolution was the client's first answer.
    assert resolved.first_response_at == resolved.resolved_at
    closed = service.complaint_close(
        by=org.am, complaint=resolved, expected_version=resolved.version
    )
    assert closed.status == ComplaintStatus.CLOSED and closed.closed_at

    with django_capture_on_commit_callbacks(execute=True):
        reopened = service.complaint_reopen(
            by=org.manager,
            complaint=closed,
            reason="The new goods are damaged too.",
            expected_version=closed.version,
        )
    assert reopened.status == ComplaintStatus.OPEN and reopened.reopened_count == 1
    assert reopened.resolved_at is None and reopened.closed_at is None
    # The first-response clock is not restarted.
    assert reopened.first_response_at == resolved.first_response_at
    assert not Complaint.objects.filter(pk=complaint.pk).overdue(
        reopened.sla_due_at + timedelta(days=3)
    )
    assert Notification.objects.get(recipient=org.am, kind="complaint_reopened")
    status_texts = list(complaint.entries.filter(kind="status").values_list("text", flat=True))
    assert status_texts[-3:] == [
        "Status: Open → Resolved.\nResolution: Replaced the goods.",
        "Status: Resolved → Closed.",
        "Status: Closed → Open.\nReason: The new goods are damaged too.",
    ]
    with pytest.raises(ValidationError, match="Only a resolved or closed"):
        service.complaint_reopen(by=org.am, complaint=reopened, reason="again")
    # A reopened complaint takes responses again.
    service.complaint_respond(by=org.am, complaint=reopened, text="Sorry; on our way.")
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.RESPONDED


def test_a_step_from_a_stale_page_is_refused(org, book):
    complaint = book.complaints["east_am"]
    service.complaint_respond(by=org.am, complaint=complaint, text="Hello")
    with pytest.raises(StaleWrite):
        service.complaint_resolve(
            by=org.manager, complaint=complaint, resolution="x", expected_version=complaint.version
        )


# --------------------------------------------------------------------- reassign
def test_a_manager_gives_a_complaint_to_someone_of_their_team(
    org, book, django_capture_on_commit_callbacks
):
    complaint = book.complaints["east_am"]
    with django_capture_on_commit_callbacks(execute=True):
        moved = service.complaint_reassign(by=org.manager, complaint=complaint, owner=org.peer_rep)
    assert moved.owner == org.peer_rep
    assert complaint.entries.last().text.startswith("Owner: ")
    assert Notification.objects.get(recipient=org.peer_rep).kind == "complaint_reassigned"
    # Not to someone of another team, and not by an AM (no permission).
    with pytest.raises(ValidationError):
        service.complaint_reassign(by=org.manager, complaint=moved, owner=org.outsider)
    with pytest.raises(PermissionDenied):
        service.complaint_reassign(by=org.am, complaint=moved, owner=org.rep)
    with pytest.raises(PermissionDenied):
        service.complaint_reassign(by=org.peer_manager, complaint=moved, owner=org.peer_am)


def test_the_factory_matches_the_service(org):
    """The tests' factory stores what ``complaint_log`` would (owner and deadline)."""
    client = ClientFactory(owner=org.rep, account_manager=org.am)
    ContactFactory(client=client)
    made = ComplaintFactory(client=client)
    logged = _log(org.rep, client)
    assert made.owner == logged.owner == org.am
    assert made.sla_due_at - made.received_at == logged.sla_due_at - logged.received_at
