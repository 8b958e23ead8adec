"""The complaint pages as people use them: tabs and filters, export, the complaint
page with its log and steps, logging from the client page, and query counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from clients import complaints as service
from clients.models import Complaint, ComplaintEscalation
from clients.tests.complaint_factories import ComplaintFactory, build_book

pytestmark = pytest.mark.django_db

#: 2026-11-27 10:00 in Asia/Shanghai.
RECEIVED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def book(org):
    return build_book(org)


def _ids(response, book) -> set[str]:
    html = response.content.decode()
    return {label for label, c in book.complaints.items() if f'data-complaint-id="{c.pk}"' in html}


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# ------------------------------------------------------------------------- list
def test_an_account_manager_starts_on_their_open_complaints(login, org, book):
    page = login(org.am)
    response = page.get("/clients/complaints/")
    assert response.context["tab"] == "mine"
    assert _ids(response, book) == {"east_am"}
    tabs = [key for key, _label in response.context["tabs"]]
    assert tabs == ["mine", "escalated", "all"]  # "my team's overdue" is for managers
    # Resolved complaints leave "my open".
    service.complaint_resolve(by=org.am, complaint=book.complaints["east_am"], resolution="Done")
    assert _ids(page.get("/clients/complaints/"), book) == set()


def test_a_manager_sees_the_teams_overdue_and_what_was_escalated_to_them(login, org, book):
    late = ComplaintFactory(
        client=book.clients["rep_only"],
        subject="Overdue one",
        received_at=timezone.now() - timedelta(hours=30),
    )
    page = login(org.manager)
    response = page.get("/clients/complaints/", {"tab": "team_overdue"})
    assert [c.pk for c in response.context["page"]] == [late.pk]
    assert 'data-testid="overdue-badge"' in response.content.decode()
    assert list(page.get("/clients/complaints/", {"tab": "escalated"}).context["page"]) == []
    # The job escalates the AM's overdue complaint to the manager.
    mine = ComplaintFactory(
        client=book.clients["east_am"], received_at=timezone.now() - timedelta(hours=25)
    )
    service.complaints_escalate_overdue(timezone.now())
    assert ComplaintEscalation.objects.get(complaint=mine).escalated_to == org.manager
    escalated = page.get("/clients/complaints/", {"tab": "escalated"})
    assert [c.pk for c in escalated.context["page"]] == [mine.pk]
    # The rep's own overdue complaint went to the AM, not to the manager.
    assert late.escalations.get().escalated_to == org.am
    assert [
        c.pk for c in login(org.am).get("/clients/complaints/?tab=escalated").context["page"]
    ] == [late.pk]


def test_filters_narrow_the_list(login, org, book):
    c = book.complaints
    service.complaint_update(
        by=org.director,
        complaint=c["east_am"],
        expected_version=c["east_am"].version,
        severity="critical",
        category="billing",
    )
    service.complaint_respond(by=org.director, complaint=c["rep_only"], text="Called back")
    page = login(org.director)
    get = lambda **params: _ids(page.get("/clients/complaints/", {"tab": "all", **params}), book)  # noqa: E731
    assert get() == {"east_am", "rep_only", "peer_rep", "north"}
    assert get(severity="critical") == {"east_am"}
    assert get(category="billing") == {"east_am"}
    assert get(status="responded") == {"rep_only"}
    assert get(status="active") == {"east_am", "rep_only", "peer_rep", "north"}
    assert get(q="peer_rep") == {"peer_rep"}
    assert get(q="Firm north") == {"north"}
    assert get(client=book.clients["north"].pk) == {"north"}
    assert get(client="nonsense") == set()
    assert get(status="bogus") == {"east_am", "rep_only", "peer_rep", "north"}
    assert get(overdue="1") == set()
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert get(overdue="1") == {"east_am", "peer_rep", "north"}
    sorted_by_subject = page.get("/clients/complaints/", {"tab": "all", "sort": "-subject"})
    subjects = [x.subject for x in sorted_by_subject.context["page"]]
    assert subjects == sorted(subjects, reverse=True)


def test_the_export_has_the_filtered_complaints_with_their_sla_facts(login, org, book):
    complaint = book.complaints["east_am"]
    with time_machine.travel(complaint.received_at + timedelta(hours=1), tick=False):
        service.complaint_respond(by=org.am, complaint=complaint, text="Called.")
    page = login(org.manager)
    rows = _csv(page.get("/clients/complaints/", {"tab": "all", "export": "csv", "q": "east_am"}))
    header, *data = rows
    assert header[:4] == ["Id", "Received", "Client", "Subject"]
    assert len(data) == 1
    row = dict(zip(header, data[0], strict=True))
    assert row["Client"] == "Firm east_am" and row["Status"] == "Responded"
    assert row["Within SLA"] == "yes" and row["Escalation level"] == "0"
    assert row["Owner"] == str(org.am)


# ----------------------------------------------------------------------- detail
def test_the_complaint_page_shows_the_countdown_then_the_breach(login, org, book):
    complaint = book.complaints["east_am"]
    page = login(org.am)
    with time_machine.travel(complaint.received_at + timedelta(hours=20), tick=False):
        html = page.get(complaint.get_absolute_url()).content.decode()
    assert 'data-sla="running"' in html and "respond within 4" in html
    with time_machine.travel(complaint.received_at + timedelta(hours=26), tick=False):
        service.complaints_escalate_overdue(timezone.now())
        html = page.get(complaint.get_absolute_url()).content.decode()
    assert 'data-sla="breached"' in html and "SLA breached 2" in html
    assert 'data-testid="escalation-badge"' in html and "escalated: level 1" in html
    assert 'data-kind="escalation"' in html


def test_responding_on_the_page(login, org, book):
    complaint = book.complaints["east_am"]
    page = login(org.am)
    html = page.get(complaint.get_absolute_url()).content.decode()
    for testid in ("respond-form", "note-form", "resolve-form", "edit-complaint"):
        assert f'data-testid="{testid}"' in html, testid
    assert 'data-testid="reopen-form"' not in html and 'data-testid="reassign-form"' not in html
    response = page.post(
        f"/clients/complaints/{complaint.pk}/respond/",
        {"respond-text": "A technician comes tomorrow.", "respond-version": complaint.version},
        follow=True,
    )
    html = response.content.decode()
    assert "Your response was recorded." in html
    assert "A technician comes tomorrow." in html and 'data-sla="met"' in html
    complaint.refresh_from_db()
    assert complaint.status == "responded" and complaint.first_response_at


def test_a_refused_step_keeps_what_was_typed(login, org, book):
    complaint = book.complaints["east_am"]
    page = login(org.am)
    stale = complaint.version
    service.complaint_note(by=org.manager, complaint=complaint, text="Noted")  # no version bump
    service.complaint_respond(by=org.manager, complaint=complaint, text="Manager answered")
    response = page.post(
        f"/clients/complaints/{complaint.pk}/respond/",
        {"respond-text": "My long careful answer", "respond-version": stale},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this record" in html and "My long careful answer" in html
    # A resolve without a resolution is refused with the reason, nothing changes.
    response = page.post(f"/clients/complaints/{complaint.pk}/resolve/", {"resolve-resolution": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "responded"


def test_support_sees_the_log_and_may_only_add_notes(login, org, book):
    complaint = book.complaints["east_am"]
    page = login(org.support)
    html = page.get(complaint.get_absolute_url()).content.decode()
    assert 'data-testid="note-form"' in html
    for testid in ("respond-form", "resolve-form", "edit-complaint", "reassign-form"):
        assert f'data-testid="{testid}"' not in html, testid


def test_a_manager_can_reassign_on_the_page(login, org, book):
    complaint = book.complaints["east_am"]
    page = login(org.manager)
    html = page.get(complaint.get_absolute_url()).content.decode()
    assert 'data-testid="reassign-form"' in html
    assert str(org.outsider) not in html  # only people of the manager's team are offered
    page.post(
        f"/clients/complaints/{complaint.pk}/reassign/",
        {"reassign-owner": org.rep.pk, "reassign-version": complaint.version},
    )
    complaint.refresh_from_db()
    assert complaint.owner == org.rep


def test_resolved_then_closed_then_reopened_on_the_page(login, org, book):
    complaint = book.complaints["east_am"]
    page = login(org.am)
    page.post(f"/clients/complaints/{complaint.pk}/resolve/", {"resolve-resolution": "Refunded"})
    html = page.get(complaint.get_absolute_url()).content.decode()
    assert 'data-testid="close-form"' in html and 'data-testid="reopen-form"' in html
    assert 'data-testid="respond-form"' not in html
    page.post(f"/clients/complaints/{complaint.pk}/close/", {})
    page.post(f"/clients/complaints/{complaint.pk}/reopen/", {"reopen-reason": "Not refunded"})
    complaint.refresh_from_db()
    assert (complaint.status, complaint.reopened_count) == ("open", 1)
    assert "reopened once" in page.get(complaint.get_absolute_url()).content.decode()


def test_the_edit_form_moves_the_deadline_with_the_severity(login, org, book, settings):
    settings.SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY = {"critical": 4}
    complaint = book.complaints["east_am"]
    page = login(org.am)
    received = complaint.received_at  # with seconds; the form shows minutes
    local = timezone.localtime(received).strftime("%Y-%m-%dT%H:%M")
    assert (
        f'value="{local}"' in page.get(f"/clients/complaints/{complaint.pk}/edit/").content.decode()
    )
    response = page.post(
        f"/clients/complaints/{complaint.pk}/edit/",
        {
            "subject": complaint.subject,
            "description": complaint.description,
            "channel": "email",
            "category": "product",
            "severity": "critical",
            "received_at": local,
            "version": complaint.version,
        },
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.severity == "critical"
    # The untouched "received" field (shown to the minute) did not move anything.
    assert complaint.received_at == received
    assert complaint.sla_due_at == received + timedelta(hours=4)
    # The same form from a stale page is refused and keeps the input.
    response = page.post(
        f"/clients/complaints/{complaint.pk}/edit/",
        {
            "subject": "Stale subject",
            "description": "x",
            "channel": "email",
            "category": "product",
            "severity": "low",
            "received_at": local,
            "version": complaint.version - 1,
        },
    )
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert "Stale subject" in response.content.decode()


# ---------------------------------------------------------------- from a client
def test_logging_from_the_client_page(login, org, book, django_capture_on_commit_callbacks):
    client = book.clients["east_am"]
    page = login(org.am)
    html = page.get(f"/clients/{client.pk}/").content.decode()
    assert f'href="/clients/complaints/new/?client={client.pk}"' in html
    form = page.get(f"/clients/complaints/new/?client={client.pk}")
    assert book.contacts["east_am"].name in form.content.decode()
    assert book.contacts["north"].name not in form.content.decode()
    with time_machine.travel(RECEIVED, tick=False):
        response = page.post(
            f"/clients/complaints/new/?client={client.pk}",
            {
                "subject": "Invoice wrong",
                "description": "VAT rate is wrong.",
                "contact": book.contacts["east_am"].pk,
                "channel": "email",
                "category": "billing",
                "severity": "high",
                "received_at": "2026-11-27T09:30",  # local time, half an hour ago
            },
        )
    made = Complaint.objects.get(subject="Invoice wrong")
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    assert made.received_at == RECEIVED - timedelta(minutes=30)
    assert made.sla_due_at == made.received_at + timedelta(hours=24)
    # It is on the client's timeline, linked.
    html = page.get(f"/clients/{client.pk}/").content.decode()
    assert 'data-kind="complaint"' in html and "Complaint: Invoice wrong" in html
    # Another contact's id is refused.
    bad = page.post(
        f"/clients/complaints/new/?client={client.pk}",
        {
            "subject": "Other",
            "description": "x",
            "contact": book.contacts["north"].pk,
            "channel": "email",
            "category": "billing",
            "severity": "high",
        },
    )
    assert bad.status_code == 200 and not Complaint.objects.filter(subject="Other").exists()


def test_a_rep_logs_for_a_client_whose_complaints_go_to_the_account_manager(login, org, book):
    client = book.clients["east_am"]
    response = login(org.rep).post(
        f"/clients/complaints/new/?client={client.pk}",
        {
            "subject": "Rep heard this",
            "description": "At the visit.",
            "channel": "visit",
            "category": "service",
            "severity": "low",
        },
        follow=True,
    )
    made = Complaint.objects.get(subject="Rep heard this")
    assert made.owner == org.am
    # The rep does not see the AM's complaints: back to the client, told who has it.
    assert response.redirect_chain[-1][0] == f"/clients/{client.pk}/"
    assert f"given to {org.am}" in response.content.decode()


def test_the_menu_has_complaints_for_those_who_handle_them(login, org):
    html = login(org.rep).get("/clients/").content.decode()
    assert 'href="/clients/complaints/"' in html


def test_the_list_in_chinese(login, org, book):
    page = login(org.director)
    html = page.get("/clients/complaints/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "投诉" in html and "导出" in html


# ---------------------------------------------------------------- query counts
#: List for a manager: user (session and permissions are cached), visibility scope,
#: ids of clients whose AM the manager sees, the capped count, the page of
#: complaints with client and owner.
LIST_QUERIES = 5
#: Complaint page for a manager: user, visibility scope, ids of clients whose AM
#: the manager sees, the complaint (with client, contact, owner, logged by), the
#: log with authors, escalations, people to reassign to (session and permissions
#: come from the cache).
DETAIL_QUERIES = 7


def _busy(org, book, size: int) -> Complaint:
    client = book.clients["east_am"]
    for i in range(size):
        ComplaintFactory(client=client, subject=f"Bulk {i}")
    focus = book.complaints["east_am"]
    for i in range(size):
        service.complaint_note(by=org.am, complaint=focus, text=f"Note {i}")
        ComplaintEscalation.objects.get_or_create(
            complaint=focus,
            level=1 + i % 2,
            defaults={"escalated_to": org.manager, "at": timezone.now(), "reason": "late"},
        )
    return focus


@pytest.mark.parametrize("size", [2, 40])
def test_the_list_and_the_page_cost_the_same_at_any_size(
    login, org, book, size, django_assert_num_queries
):
    focus = _busy(org, book, size)
    page = login(org.manager)
    with django_assert_num_queries(LIST_QUERIES):
        response = page.get("/clients/complaints/", {"tab": "all"})
    assert len(response.context["page"].object_list) == min(size + 3, 25)
    with django_assert_num_queries(LIST_QUERIES):
        response = page.get("/clients/complaints/", {"tab": "escalated", "severity": "medium"})
    assert [c.pk for c in response.context["page"]] == [focus.pk]
    with django_assert_num_queries(DETAIL_QUERIES):
        response = page.get(focus.get_absolute_url())
    assert len(response.context["entries"]) == size  # the factory writes no log entry
