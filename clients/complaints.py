"""Complaints: logging, the first-response SLA, the conversation log, resolution,
reopening, reassignment and escalation.

The rules (SPEC section 3, "complaint handling with a 24-hour response rule, an
escalation path"):

- A complaint belongs to the client's account manager, else to the client's
  owner. Anyone who sees the client may log one; support staff log them on
  behalf of the clients of their region.
- Its first response is due ``sla_hours(severity)`` after it was received
  (``SALESORG_COMPLAINT_SLA_HOURS``, per severity
  ``SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY``). The deadline is stored
  (``sla_due_at``) so lists filter and sort on it, and recomputed when the
  severity or the time received changes.
- open → responded (first response) → resolved (with a resolution) → closed;
  a resolved or closed complaint may be reopened. Reopening does not restart
  the first-response clock: the SLA is about the first answer the client got.
- Without a first response by ``sla_due_at`` a complaint escalates to the
  owner's manager (level 1); still without one a further SLA period later, to
  the director (level 2). ``complaints_escalate_overdue`` does it, run every
  15 minutes by ``jobs.complaint_sla``.

Every status change writes a ``ComplaintEntry`` of kind "status" (who, when,
what), so the complaint page tells the whole story. Writes check the role's
permission and the caller's right on the record here, so the pages and the API
obey the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.notifications import notify
from accounts.tree import path_pks
from accounts.visibility import Relation, access_for
from clients import services as client_services
from clients.models import (
    Client,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEntry,
    ComplaintEscalation,
    ComplaintStatus,
    Contact,
    Severity,
)
from salesorg.lib.concurrency import StaleWrite

#: Statuses in which a complaint is still being worked on (responses allowed).
ACTIVE_STATUSES = (ComplaintStatus.OPEN, ComplaintStatus.RESPONDED)
#: Statuses a complaint can be reopened from.
REOPENABLE_STATUSES = (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)
#: Fields a complaint's details form (and the API's PATCH) may change.
EDITABLE_FIELDS = (
    "contact",
    "channel",
    "category",
    "severity",
    "subject",
    "description",
    "received_at",
)
#: The highest escalation level: 1 the owner's manager, 2 the director.
TOP_LEVEL = 2
#: Complaints handled per transaction batch by the escalation job.
ESCALATION_BATCH = 200
#: How far ahead of the server's clock a "received at" may be (clock skew of a phone).
FUTURE_TOLERANCE = timedelta(minutes=5)

NOTIFY_NEW = "complaint_new"
NOTIFY_ESCALATED = "complaint_escalated"
NOTIFY_REOPENED = "complaint_reopened"
NOTIFY_REASSIGNED = "complaint_reassigned"


# ------------------------------------------------------------------------- SLA
def sla_hours(severity: str) -> int:
    """Hours allowed for the first response to a complaint of this severity."""
    per_severity: dict[str, int] = settings.SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY
    return per_severity.get(str(severity), settings.SALESORG_COMPLAINT_SLA_HOURS)


def sla_due(received_at: datetime, severity: str) -> datetime:
    """When the first response is due: elapsed hours, the same in every time zone."""
    return received_at + timedelta(hours=sla_hours(severity))


def second_deadline(complaint: Complaint) -> datetime:
    """When a still unanswered complaint goes on to the director: one more SLA period."""
    return complaint.sla_due_at + (complaint.sla_due_at - complaint.received_at)


def with_second_deadline(qs: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """Annotate ``director_due_at`` (see ``second_deadline``) for filtering in SQL."""
    return qs.annotate(
        director_due_at=ExpressionWrapper(
            F("sla_due_at") + (F("sla_due_at") - F("received_at")), output_field=DateTimeField()
        )
    )


def default_owner(client: Client) -> User:
    """The client's account manager keeps its complaints; without one, its owner."""
    manager = client.account_manager
    return manager if manager is not None and manager.is_active else client.owner


# --------------------------------------------------------------------- helpers
def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _check_change(by: User, complaint: Complaint) -> None:
    """The caller must see the complaint and may change it (role and relation)."""
    if not access_for(by, complaint).can_change:
        raise PermissionDenied


def _check_sees(by: User, complaint: Complaint) -> None:
    if access_for(by, complaint).relation == Relation.NONE:
        raise PermissionDenied


def _locked(complaint: Complaint, expected_version: int | None) -> Complaint:
    """The complaint as stored, locked for this transaction; stale when the version moved."""
    fresh = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("client", "owner")
        .get(pk=complaint.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise StaleWrite(fresh)
    return fresh


def _entry(
    complaint: Complaint, *, kind: str, text: str, by: User | None, at: datetime | None = None
) -> ComplaintEntry:
    return ComplaintEntry.objects.create(
        complaint=complaint, author=by, kind=kind, text=text, at=at or timezone.now()
    )


def _status_entry(complaint: Complaint, by: User | None, old: str, detail: str = "") -> None:
    text = _("Status: %(old)s → %(new)s.") % {
        "old": ComplaintStatus(old).label,
        "new": ComplaintStatus(complaint.status).label,
    }
    _entry(
        complaint,
        kind=ComplaintEntry.Kind.STATUS,
        text=f"{text}\n{detail}" if detail else text,
        by=by,
    )


def _required_text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


def _check_received_at(received_at: datetime) -> None:
    if received_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"received_at": _("A complaint cannot be received in the future.")})


def _check_contact(contact: Contact | None, client: Client) -> None:
    if contact is not None and contact.client_id != client.pk:
        raise ValidationError({"contact": _("Choose a contact of this client.")})


def _complaint_url(complaint: Complaint) -> str:
    return complaint.get_absolute_url()


# ------------------------------------------------------------------------- log
@transaction.atomic
def complaint_log(
    *,
    by: User,
    client: Client,
    subject: str,
    description: str,
    contact: Contact | None = None,
    channel: str = ComplaintChannel.PHONE,
    category: str = ComplaintCategory.SERVICE,
    severity: str = Severity.MEDIUM,
    received_at: datetime | None = None,
) -> Complaint:
    """Log a client's complaint; its owner is told at once.

    Anyone who sees the client may log it (support staff for their region's
    clients, on the client's behalf); the owner is the client's account
    manager, else its owner, whoever logs it.
    """
    _require(by, "clients.add_complaint")
    if not Client.objects.visible_to(by).filter(pk=client.pk).exists():
        raise PermissionDenied
    received_at = received_at or timezone.now()
    _check_received_at(received_at)
    _check_contact(contact, client)
    owner = default_owner(client)
    complaint = Complaint(
        client=client,
        contact=contact,
        channel=channel,
        category=category,
        severity=severity,
        subject=(subject or "").strip(),
        description=(description or "").strip(),
        owner=owner,
        logged_by=by,
        received_at=received_at,
        sla_due_at=sla_due(received_at, severity),
    )
    complaint.full_clean()
    complaint.save()
    _entry(
        complaint,
        kind=ComplaintEntry.Kind.STATUS,
        text=_("Complaint logged by %(person)s (%(channel)s); first response due %(due)s.")
        % {
            "person": by,
            "channel": complaint.get_channel_display(),
            "due": _when(complaint.sla_due_at),
        },
        by=by,
    )
    if owner.pk != by.pk:
        notify(
            recipients=[owner],
            kind=NOTIFY_NEW,
            subject=_("New complaint from %(client)s: %(subject)s")
            % {"client": client, "subject": complaint.subject},
            message=_(
                "%(person)s logged a %(severity)s complaint from %(client)s. "
                "Respond by %(due)s (%(hours)s hours after it was received)."
            )
            % {
                "person": by,
                "severity": complaint.get_severity_display().lower(),
                "client": client,
                "due": _when(complaint.sla_due_at),
                "hours": sla_hours(severity),
            },
            url=_complaint_url(complaint),
            dedupe_key=f"complaint:{complaint.pk}:new",
        )
    return complaint


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------ edit
@transaction.atomic
def complaint_update(
    *, by: User, complaint: Complaint, expected_version: int | None, **fields: Any
) -> Complaint:
    """Correct a complaint's details; a new severity or time received moves the deadline."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable complaint fields: {sorted(unknown)}")
    _check_change(by, complaint)
    complaint = _locked(complaint, expected_version)
    old_severity, old_received = complaint.severity, complaint.received_at
    for name, value in fields.items():
        setattr(complaint, name, value.strip() if isinstance(value, str) else value)
    if "received_at" in fields and complaint.received_at != old_received:
        _check_received_at(complaint.received_at)
    _check_contact(complaint.contact, complaint.client)
    moved = complaint.severity != old_severity or complaint.received_at != old_received
    if moved:
        complaint.sla_due_at = sla_due(complaint.received_at, complaint.severity)
    complaint.full_clean()
    complaint.save_versioned(expected_version=complaint.version)
    if moved:
        _entry(
            complaint,
            kind=ComplaintEntry.Kind.STATUS,
            text=_("Severity %(severity)s; first response now due %(due)s.")
            % {
                "severity": complaint.get_severity_display().lower(),
                "due": _when(complaint.sla_due_at),
            },
            by=by,
        )
    return complaint


# ---------------------------------------------------------------- conversation
@transaction.atomic
def complaint_respond(
    *, by: User, complaint: Complaint, text: str, expected_version: int | None = None
) -> Complaint:
    """Record a response to the client; the first one stops the SLA clock."""
    _check_change(by, complaint)
    text = _required_text(text, "text", _("Write the response."))
    complaint = _locked(complaint, expected_version)
    if complaint.status not in ACTIVE_STATUSES:
        raise ValidationError(
            _("A %(status)s complaint takes no responses; reopen it first.")
            % {"status": complaint.get_status_display().lower()}
        )
    now = timezone.now()
    _entry(complaint, kind=ComplaintEntry.Kind.RESPONSE, text=text, by=by, at=now)
    old = complaint.status
    if complaint.first_response_at is None:
        complaint.first_response_at = now
    complaint.status = ComplaintStatus.RESPONDED
    complaint.save_versioned(expected_version=complaint.version)
    if old != complaint.status:
        _status_entry(complaint, by, old)
    return complaint


@transaction.atomic
def complaint_note(*, by: User, complaint: Complaint, text: str) -> ComplaintEntry:
    """An internal note on the log; it is not a response and leaves the status alone.

    Support staff may add notes (they may not change complaints), so this
    needs only the right to add log entries and to see the complaint.
    """
    _require(by, "clients.add_complaintentry")
    _check_sees(by, complaint)
    text = _required_text(text, "text", _("Write the note."))
    return _entry(complaint, kind=ComplaintEntry.Kind.NOTE, text=text, by=by)


# ------------------------------------------------------------------ lifecycle
@transaction.atomic
def complaint_resolve(
    *, by: User, complaint: Complaint, resolution: str, expected_version: int | None = None
) -> Complaint:
    """Resolve it, saying how; a resolution sent without any earlier response is
    also the first response."""
    _check_change(by, complaint)
    resolution = _required_text(resolution, "resolution", _("Say how the complaint was resolved."))
    complaint = _locked(complaint, expected_version)
    if complaint.status not in ACTIVE_STATUSES:
        raise ValidationError(
            _("Only an open or responded complaint can be resolved; this one is %(status)s.")
            % {"status": complaint.get_status_display().lower()}
        )
    now = timezone.now()
    old = complaint.status
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolution = resolution
    complaint.resolved_at = now
    if complaint.first_response_at is None:
        complaint.first_response_at = now
    complaint.save_versioned(expected_version=complaint.version)
    _status_entry(complaint, by, old, _("Resolution: %(text)s") % {"text": resolution})
    return complaint


@transaction.atomic
def complaint_close(
    *, by: User, complaint: Complaint, expected_version: int | None = None, note: str = ""
) -> Complaint:
    """Close a resolved complaint (the client accepted the resolution)."""
    _check_change(by, complaint)
    complaint = _locked(complaint, expected_version)
    if complaint.status != ComplaintStatus.RESOLVED:
        raise ValidationError(
            _("Only a resolved complaint can be closed; this one is %(status)s.")
            % {"status": complaint.get_status_display().lower()}
        )
    old = complaint.status
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_at = timezone.now()
    complaint.save_versioned(expected_version=complaint.version)
    _status_entry(complaint, by, old, (note or "").strip())
    return complaint


@transaction.atomic
def complaint_reopen(
    *, by: User, complaint: Complaint, reason: str, expected_version: int | None = None
) -> Complaint:
    """Reopen a resolved or closed complaint (the problem came back).

    The first-response clock is not restarted: the SLA measures the first
    answer, which the client already had. The owner is told.
    """
    _check_change(by, complaint)
    reason = _required_text(reason, "reason", _("Say why the complaint is reopened."))
    complaint = _locked(complaint, expected_version)
    if complaint.status not in REOPENABLE_STATUSES:
        raise ValidationError(
            _("Only a resolved or closed complaint can be reopened; this one is %(status)s.")
            % {"status": complaint.get_status_display().lower()}
        )
    old = complaint.status
    complaint.status = ComplaintStatus.OPEN
    complaint.reopened_count += 1
    complaint.resolved_at = None
    complaint.closed_at = None
    complaint.save_versioned(expected_version=complaint.version)
    _status_entry(complaint, by, old, _("Reason: %(text)s") % {"text": reason})
    if complaint.owner_id != by.pk:
        notify(
            recipients=[complaint.owner],
            kind=NOTIFY_REOPENED,
            subject=_("Complaint reopened: %(subject)s") % {"subject": complaint.subject},
            message=_("%(person)s reopened the complaint from %(client)s: %(reason)s")
            % {"person": by, "client": complaint.client, "reason": reason},
            url=_complaint_url(complaint),
            dedupe_key=f"complaint:{complaint.pk}:reopened:{complaint.reopened_count}",
        )
    return complaint


# ------------------------------------------------------------------ reassign
def assignable_owners(by: User) -> QuerySet[User]:
    """Who a manager may give a complaint to: active people of their own subtree
    (the director: anyone) who work with clients."""
    return client_services.assignable_owners(by).exclude(role=Role.SUPPORT)


def can_reassign(by: User, complaint: Complaint) -> bool:
    return by.has_perm("clients.reassign_complaint") and access_for(by, complaint).can_change


@transaction.atomic
def complaint_reassign(
    *, by: User, complaint: Complaint, owner: User, expected_version: int | None = None
) -> Complaint:
    """Give the complaint to someone else in the manager's team; they are told."""
    _require(by, "clients.reassign_complaint")
    _check_change(by, complaint)
    if not assignable_owners(by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an active person of your team.")})
    complaint = _locked(complaint, expected_version)
    previous = complaint.owner
    if previous.pk == owner.pk:
        return complaint
    complaint.owner = owner
    complaint.save_versioned(expected_version=complaint.version)
    _entry(
        complaint,
        kind=ComplaintEntry.Kind.STATUS,
        text=_("Owner: %(old)s → %(new)s.") % {"old": previous, "new": owner},
        by=by,
    )
    if owner.pk != by.pk:
        notify(
            recipients=[owner],
            kind=NOTIFY_REASSIGNED,
            subject=_("Complaint given to you: %(subject)s") % {"subject": complaint.subject},
            message=_("%(person)s gave you the complaint from %(client)s. Respond by %(due)s.")
            % {"person": by, "client": complaint.client, "due": _when(complaint.sla_due_at)},
            url=_complaint_url(complaint),
            dedupe_key=f"complaint:{complaint.pk}:owner:{complaint.version}",
        )
    return complaint


# ----------------------------------------------------------------- escalation
@dataclass(frozen=True)
class EscalationStep:
    level: int
    to: User


def _director_for(owner: User) -> User | None:
    """The director at the top of the owner's line, else any active director."""
    top = User.objects.filter(pk__in=path_pks(owner.path), role=Role.DIRECTOR, is_active=True)
    return (
        top.order_by("path").first()
        or User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    )


def _manager_of(owner: User) -> User | None:
    """The owner's nearest active manager up the reporting line (the director at the top)."""
    ancestors = owner.ancestor_pks
    nearest = (
        User.objects.filter(pk__in=ancestors, is_active=True).order_by("-path").first()
        if ancestors
        else None
    )
    return nearest or _director_for(owner)


def escalation_target(owner: User, level: int) -> User | None:
    """Who a complaint of ``owner`` goes to at ``level`` (1 their manager, 2 the director)."""
    return _manager_of(owner) if level == 1 else _director_for(owner)


def _due_level(complaint: Complaint, now: datetime) -> int:
    if now > second_deadline(complaint):
        return 2
    if now > complaint.sla_due_at:
        return 1
    return 0


def escalation_candidates(now: datetime) -> QuerySet[Complaint]:
    """Unanswered complaints with an escalation step due (not yet taken) at ``now``."""
    return (
        with_second_deadline(Complaint.objects.overdue(now))
        .filter(
            Q(escalation_level=0) | Q(escalation_level=1, director_due_at__lt=now),
        )
        .order_by("pk")
    )


def _escalate_one(pk: int, now: datetime) -> list[EscalationStep]:
    """Take every escalation step due for one complaint, in its own transaction.

    The complaint row is locked and re-read, so a response saved a moment ago
    wins; each step is a ``ComplaintEscalation`` row, unique per level, and
    each notification has a dedupe key, so a second run (or two at once)
    escalates and sends nothing twice.
    """
    taken: list[EscalationStep] = []
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("client", "owner")
            .filter(pk=pk)
            .first()
        )
        if complaint is None or complaint.first_response_at is not None:
            return taken
        if complaint.status not in ACTIVE_STATUSES:
            return taken
        due = _due_level(complaint, now)
        done = set(complaint.escalations.values_list("level", flat=True))
        for level in range(1, min(due, TOP_LEVEL) + 1):
            if level in done:
                continue
            target = escalation_target(complaint.owner, level)
            if target is None:
                break
            try:
                with transaction.atomic():
                    ComplaintEscalation.objects.create(
                        complaint=complaint,
                        level=level,
                        escalated_to=target,
                        at=now,
                        reason=_escalation_reason(complaint, level),
                    )
            except IntegrityError:  # another run took this step first
                continue
            _entry(
                complaint,
                kind=ComplaintEntry.Kind.ESCALATION,
                text=_("Escalated to %(person)s (level %(level)s): %(reason)s")
                % {
                    "person": target,
                    "level": level,
                    "reason": _escalation_reason(complaint, level),
                },
                by=None,
                at=now,
            )
            _notify_escalation(complaint, level, target)
            taken.append(EscalationStep(level, target))
        if taken:
            level = max(max(s.level for s in taken), complaint.escalation_level)
            # Not a user's edit: no version check, but the version moves so that an
            # open form on the page notices the change.
            Complaint.objects.filter(pk=complaint.pk).update(
                escalation_level=level, version=F("version") + 1, updated_at=now
            )
    return taken


def _escalation_reason(complaint: Complaint, level: int) -> str:
    if level == 1:
        return _("no first response by %(due)s") % {"due": _when(complaint.sla_due_at)}
    return _("still no first response by %(due)s") % {"due": _when(second_deadline(complaint))}


def _notify_escalation(complaint: Complaint, level: int, target: User) -> None:
    values = {
        "client": complaint.client,
        "subject": complaint.subject,
        "owner": complaint.owner,
        "due": _when(complaint.sla_due_at),
        "received": _when(complaint.received_at),
    }
    key = f"complaint:{complaint.pk}:escalation:{level}"
    notify(
        recipients=[target],
        kind=NOTIFY_ESCALATED,
        subject=_("Complaint escalated to you: %(client)s — %(subject)s") % values,
        message=_(
            "The complaint from %(client)s received %(received)s has had no first response "
            "from %(owner)s; it was due %(due)s. Please see that the client gets an answer."
        )
        % values,
        url=_complaint_url(complaint),
        dedupe_key=key,
    )
    if complaint.owner_id != target.pk:
        notify(
            recipients=[complaint.owner],
            kind=NOTIFY_ESCALATED,
            subject=_("Your complaint was escalated to %(person)s: %(subject)s")
            % {"person": target, "subject": complaint.subject},
            message=_(
                "The complaint from %(client)s had no first response by %(due)s and went to "
                "%(person)s. Respond to the client now."
            )
            % {**values, "person": target},
            url=_complaint_url(complaint),
            dedupe_key=key,
        )


def complaints_escalate_overdue(now: datetime | None = None) -> dict[str, int]:
    """Escalate every unanswered complaint whose deadline passed; say what was done.

    Reads the candidates' ids in batches by primary key (bounded memory at any
    backlog) and handles each complaint in its own short transaction, so an
    interrupted run leaves finished work finished and the next run does the
    rest. Safe to run twice: nothing is escalated or sent twice.
    """
    now = now or timezone.now()
    summary = {"checked": 0, "escalated_to_manager": 0, "escalated_to_director": 0}
    last_pk = 0
    while True:
        batch = list(
            escalation_candidates(now)
            .filter(pk__gt=last_pk)
            .values_list("pk", flat=True)[:ESCALATION_BATCH]
        )
        if not batch:
            break
        for pk in batch:
            summary["checked"] += 1
            for step in _escalate_one(pk, now):
                key = "escalated_to_manager" if step.level == 1 else "escalated_to_director"
                summary[key] += 1
        last_pk = batch[-1]
    return summary
