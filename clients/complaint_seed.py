"""Demo complaints for ``seed_demo`` (called at the end of ``clients.seed.seed``).

About one client in five complained at some point in the 18 months; most
complaints were answered within the 24-hour SLA and are closed, some were
answered late and carry their escalation steps, a few are still being worked
on, and two recent ones are overdue and not yet escalated, so the first run
of the SLA job (``jobs.complaint_sla``) has something to do.

Idempotent (nothing is added when demo complaints exist) and reproducible: it
uses its own random generator, so the seeders after it draw the same numbers
whether it ran or not.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
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
from salesorg.lib.seeding import SeedContext

#: Share of demo clients with a complaint, and how many the overdue backlog holds.
COMPLAINT_RATE = 0.2
OVERDUE_BACKLOG = 2
NOT_YET_DUE = 2
SLA = timedelta(hours=24)
BATCH = 1000

#: (category, subject, description, response, resolution)
STORIES: list[tuple[str, str, str, str, str]] = [
    (
        ComplaintCategory.DELIVERY,
        "Shipment arrived a week late",
        "The order promised for Monday arrived the following Monday; the line stood still.",
        "Apologised and confirmed the carrier's delay; the next two orders ship express.",
        "Express shipping at our cost for the next two orders; carrier changed.",
    ),
    (
        ComplaintCategory.PRODUCT,
        "Units failing after installation",
        "Three of twenty units stopped working within a week of installation.",
        "A technician visits tomorrow morning to collect the failed units.",
        "Faulty batch identified; all three units replaced and the batch recalled.",
    ),
    (
        ComplaintCategory.BILLING,
        "Invoice charged twice",
        "The March invoice was charged twice to the client's account.",
        "Finance confirmed the double charge; the refund is being prepared.",
        "Refund issued and confirmed by the client's finance department.",
    ),
    (
        ComplaintCategory.SERVICE,
        "Support line not answering",
        "The client called the support line four times yesterday without an answer.",
        "Called back personally; the support team now has their direct number.",
        "Client added to the priority support queue; a named engineer assigned.",
    ),
    (
        ComplaintCategory.STAFF,
        "Engineer left the site early",
        "The on-site engineer left before the acceptance test was finished.",
        "Apologised; the engineer returns on Thursday to finish the test.",
        "Acceptance test completed; the team lead briefed the engineer.",
    ),
    (
        ComplaintCategory.DELIVERY,
        "Training sessions postponed twice",
        "The user training was postponed twice, delaying the go-live.",
        "Offered two new dates this week; the client chose Wednesday.",
        "Training held; an extra session for the night shift added at no charge.",
    ),
    (
        ComplaintCategory.PRODUCT,
        "Report export shows wrong totals",
        "Monthly totals in the exported report differ from the screen.",
        "Reproduced the problem; the fix is scheduled in the next release.",
        "Patch installed; the client checked the totals and confirmed them.",
    ),
]
SEVERITIES = [
    (Severity.LOW, 0.25),
    (Severity.MEDIUM, 0.45),
    (Severity.HIGH, 0.22),
    (Severity.CRITICAL, 0.08),
]
CHANNELS = [
    (ComplaintChannel.PHONE, 0.5),
    (ComplaintChannel.EMAIL, 0.3),
    (ComplaintChannel.VISIT, 0.1),
    (ComplaintChannel.WEB, 0.1),
]


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _pick(rng: random.Random, options: list[tuple[Any, float]]) -> Any:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def seed_complaints(ctx: SeedContext) -> None:
    from clients.seed import EXTERNAL_PREFIX, HISTORY_DAYS

    if Complaint.objects.filter(client__external_id__startswith=EXTERNAL_PREFIX).exists():
        return
    rng = random.Random(f"complaints-{ctx.seed}")
    now = ctx.now.replace(second=0, microsecond=0)
    people = {u.pk: u for u in User.objects.filter(is_active=True)}
    director = next((u for u in people.values() if u.role == Role.DIRECTOR), None)
    clients = list(
        Client.objects.filter(external_id__startswith=EXTERNAL_PREFIX)
        .order_by("external_id")
        .values_list("pk", "owner_id", "account_manager_id", "created_at")
    )
    primary = dict(
        Contact.objects.filter(
            client__external_id__startswith=EXTERNAL_PREFIX, is_primary=True
        ).values_list("client_id", "pk")
    )
    chosen = [c for c in clients if rng.random() < COMPLAINT_RATE]
    complaints: list[Complaint] = []
    plans: list[dict[str, Any]] = []
    for index, (client_id, owner_id, am_id, created_at) in enumerate(chosen):
        owner = people.get(am_id) or people.get(owner_id)
        if owner is None:
            continue
        if index < OVERDUE_BACKLOG:
            received = now - timedelta(hours=rng.randint(25, 40))
            fate = "overdue"
        elif index < OVERDUE_BACKLOG + NOT_YET_DUE:
            received = now - timedelta(hours=rng.randint(1, 20))
            fate = "waiting"
        else:
            earliest = max(created_at, now - timedelta(days=HISTORY_DAYS))
            span = max(int((now - timedelta(days=3) - earliest).total_seconds() // 60), 60)
            received = earliest + timedelta(minutes=rng.randint(0, span))
            fate = _pick(rng, [("in_time", 0.8), ("late", 0.15), ("very_late", 0.05)])
        category, subject, description, response, resolution = rng.choice(STORIES)
        complaints.append(
            Complaint(
                client_id=client_id,
                contact_id=primary.get(client_id),
                channel=_pick(rng, CHANNELS),
                category=category,
                severity=_pick(rng, SEVERITIES),
                subject=subject,
                description=description,
                owner=owner,
                logged_by=owner,
                received_at=received,
                sla_due_at=received + SLA,
            )
        )
        plans.append({"fate": fate, "response": response, "resolution": resolution})
    for begin in range(0, len(complaints), BATCH):
        Complaint.objects.bulk_create(complaints[begin : begin + BATCH])

    entries: list[ComplaintEntry] = []
    escalations: list[ComplaintEscalation] = []
    for complaint, plan in zip(complaints, plans, strict=True):
        _story(complaint, plan, rng, now, people, director, entries, escalations)
    Complaint.objects.bulk_update(
        complaints,
        [
            "status",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "escalation_level",
        ],
        batch_size=BATCH,
    )
    ComplaintEntry.objects.bulk_create(entries, batch_size=BATCH)
    ComplaintEscalation.objects.bulk_create(escalations, batch_size=BATCH)
    ctx.log(
        f"{len(complaints)} complaints added ({len(escalations)} escalation steps, "
        f"{len(entries)} log entries)"
    )


def _story(
    complaint: Complaint,
    plan: dict[str, Any],
    rng: random.Random,
    now: datetime,
    people: dict[int, User],
    director: User | None,
    entries: list[ComplaintEntry],
    escalations: list[ComplaintEscalation],
) -> None:
    """What happened to one complaint, written as the services would have written it."""
    owner = complaint.owner
    received = complaint.received_at

    def entry(kind: str, text: str, at: datetime, author: User | None = owner) -> None:
        entries.append(
            ComplaintEntry(complaint=complaint, author=author, kind=kind, text=text, at=at)
        )

    entry(
        ComplaintEntry.Kind.STATUS,
        f"Complaint logged by {owner} ({complaint.get_channel_display()}); "
        f"first response due {_local(complaint.sla_due_at)}.",
        received,
    )
    fate = plan["fate"]
    if fate in ("overdue", "waiting"):
        return
    delay = {
        "in_time": timedelta(minutes=rng.randint(20, 22 * 60)),
        "late": timedelta(hours=rng.randint(25, 46)),
        "very_late": timedelta(hours=rng.randint(49, 70)),
    }[fate]
    responded = received + delay
    manager = people.get(owner.reports_to_id) if owner.reports_to_id else None
    steps = [(1, manager or director, complaint.sla_due_at)]
    if fate == "very_late":
        steps.append((2, director, complaint.sla_due_at + SLA))
    if fate != "in_time":
        for level, target, due in steps:
            if target is None:
                continue
            at = due + timedelta(minutes=rng.randint(1, 14))
            reason = (
                f"no first response by {_local(due)}"
                if level == 1
                else f"still no first response by {_local(due)}"
            )
            escalations.append(
                ComplaintEscalation(
                    complaint=complaint, level=level, escalated_to=target, at=at, reason=reason
                )
            )
            entry(
                ComplaintEntry.Kind.ESCALATION,
                f"Escalated to {target} (level {level}): {reason}",
                at,
                None,
            )
            complaint.escalation_level = level
    entry(ComplaintEntry.Kind.RESPONSE, plan["response"], responded)
    entry(ComplaintEntry.Kind.STATUS, "Status: Open → Responded.", responded)
    complaint.status = ComplaintStatus.RESPONDED
    complaint.first_response_at = responded
    resolved = responded + timedelta(hours=rng.randint(4, 24 * 10))
    if resolved > now - timedelta(hours=1):
        return  # still being worked on
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolved_at = resolved
    complaint.resolution = plan["resolution"]
    entry(
        ComplaintEntry.Kind.STATUS,
        f"Status: Responded → Resolved.\nResolution: {plan['resolution']}",
        resolved,
    )
    closed = resolved + timedelta(days=rng.randint(1, 14))
    if closed < now:
        complaint.status = ComplaintStatus.CLOSED
        complaint.closed_at = closed
        entry(ComplaintEntry.Kind.STATUS, "Status: Resolved → Closed.", closed)
