"""Logging calls, visits, demos and meetings — and what a logged visit moves.

Pages, the quick log and the API all write activities through these
functions, so the rules are the same everywhere:

- an activity is with a client or a lead; a deal and a contact, when given,
  belong to that client, and every linked record is one the author may see;
- SPIN notes belong to visits and meetings, a follow-up reason to follow-up calls;
- a *done* activity has happened (it does not start in the future);
- a done visit moves its client's visit cadence (``last_visit_at`` and
  ``next_visit_due``) forward — never back — and a done activity on a deal
  moves the deal's ``last_activity_at``, in the same transaction.

The cadence fields are derived data: they are written with conditional
``UPDATE``s (no version bump, no history row), so someone editing the client
at the same moment is not told their copy is stale because a visit was logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.visibility import access_for
from clients.models import Client, Contact
from pipeline.models import (
    DEFAULT_DURATION,
    Activity,
    ActivityType,
    Deal,
    Lead,
    Objection,
    Product,
)

if TYPE_CHECKING:
    from accounts.models import User

#: Activity types that carry SPIN notes (SPEC section 3).
SPIN_TYPES = frozenset({ActivityType.VISIT, ActivityType.MEETING})
SPIN_FIELDS = ("spin_situation", "spin_problem", "spin_implication", "spin_need_payoff")
#: Types counted as calls against a "calls a day" target.
CALL_TYPES = frozenset({ActivityType.CALL, ActivityType.FOLLOW_UP})
#: In-person types shown on the week calendar.
CALENDAR_TYPES = frozenset({ActivityType.VISIT, ActivityType.MEETING, ActivityType.DEMO})
#: Fields a caller may set on an activity (owner and status changes have their own paths).
EDITABLE_FIELDS = (
    "type",
    "status",
    "client",
    "lead",
    "deal",
    "contact",
    "subject",
    "start_at",
    "duration_minutes",
    "outcome",
    "next_step",
    "follow_up_reason",
    *SPIN_FIELDS,
)
OBJECTION_FIELDS = ("objection", "confirmed_understanding", "response", "resolved")
#: A done activity may be dated this far ahead of the server clock (phones drift).
CLOCK_GRACE = timedelta(minutes=10)


def default_duration(activity_type: str) -> int:
    """Minutes a new activity of this type lasts unless told otherwise (a visit: 45)."""
    return DEFAULT_DURATION.get(activity_type, 30)  # type: ignore[call-overload]


# ------------------------------------------------------------------ validation
def _visible(model: Any, user: User, pk: int | None) -> bool:
    return pk is None or model.objects.visible_to(user).filter(pk=pk).exists()


def activity_validate(*, by: User, activity: Activity) -> None:
    """Every rule an activity must satisfy, as one ``ValidationError`` per field.

    Linked records are checked against the author's visibility here too (not
    only in the form's choices), so a crafted POST or API call with someone
    else's client id is refused with the same message.
    """
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if activity.deal_id and not activity.client_id:
        activity.client_id = (
            Deal.objects.visible_to(by)
            .filter(pk=activity.deal_id)
            .values_list("client_id", flat=True)
            .first()
        )
    if not activity.client_id and not activity.lead_id:
        err("client", _("Choose the client or the lead this activity is with."))
    if not _visible(Client, by, activity.client_id):
        err("client", _("Choose one of your clients."))
    if not _visible(Lead, by, activity.lead_id):
        err("lead", _("Choose one of your leads."))
    if activity.deal_id:
        deal_client = (
            Deal.objects.visible_to(by)
            .filter(pk=activity.deal_id)
            .values_list("client_id", flat=True)
            .first()
        )
        if deal_client is None:
            err("deal", _("Choose one of your deals."))
        elif deal_client != activity.client_id:
            err("deal", _("This deal is with another client."))
    if activity.contact_id:
        contact_client = (
            Contact.objects.visible_to(by)
            .filter(pk=activity.contact_id)
            .values_list("client_id", flat=True)
            .first()
        )
        if contact_client is None:
            err("contact", _("Choose one of your contacts."))
        elif contact_client != activity.client_id:
            err("contact", _("This contact works for another client."))
    if activity.type not in SPIN_TYPES:
        for name in SPIN_FIELDS:
            if getattr(activity, name):
                err(name, _("SPIN notes are kept for visits and meetings."))
    if activity.type == ActivityType.FOLLOW_UP and not activity.follow_up_reason:
        err("follow_up_reason", _("Say why you are calling back."))
    if activity.type != ActivityType.FOLLOW_UP and activity.follow_up_reason:
        err("follow_up_reason", _("A reason is only given for follow-up calls."))
    if (
        activity.status == Activity.Status.DONE
        and activity.start_at
        and activity.start_at > timezone.now() + CLOCK_GRACE
    ):
        err("start_at", _("A done activity cannot be in the future; plan it instead."))
    if not activity.duration_minutes:
        err("duration_minutes", _("An activity lasts at least a minute."))
    if errors:
        raise ValidationError(errors)


def _clean_objections(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for row in rows:
        data = {
            name: row.get(name, False if name == "resolved" else "") for name in OBJECTION_FIELDS
        }
        data["resolved"] = bool(data["resolved"])
        for name in ("objection", "confirmed_understanding", "response"):
            data[name] = (data[name] or "").strip()
        if not data["objection"]:
            if data["confirmed_understanding"] or data["response"]:
                raise ValidationError({"objections": _("Write down the objection itself.")})
            continue
        cleaned.append(data)
    return cleaned


def _set_links(
    activity: Activity,
    objections: Iterable[Mapping[str, Any]] | None,
    products: Iterable[Product | int] | None,
) -> None:
    if objections is not None:
        rows = _clean_objections(objections)
        activity.objections.all().delete()
        Objection.objects.bulk_create([Objection(activity=activity, **row) for row in rows])
    if products is not None:
        activity.products_demonstrated.set(list(products))


# ------------------------------------------------------------ derived fields
def _local_day(moment: datetime):
    return timezone.localdate(moment)


def _record_visit(activity: Activity) -> None:
    """A done visit moves its client's last visit and next-visit-due, forward only."""
    if not (
        activity.type == ActivityType.VISIT
        and activity.status == Activity.Status.DONE
        and activity.client_id
    ):
        return
    client = Client.objects.only("pk", "cadence").get(pk=activity.client_id)
    Client.objects.filter(pk=client.pk).filter(
        Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=activity.start_at)
    ).update(
        last_visit_at=activity.start_at,
        next_visit_due=client.next_visit_after(_local_day(activity.start_at)),
    )


def _touch_deal(activity: Activity) -> None:
    """A done activity on a deal is the deal's latest activity if it is newer."""
    if not (activity.deal_id and activity.status == Activity.Status.DONE):
        return
    Deal.objects.filter(pk=activity.deal_id).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=activity.start_at)
    ).update(last_activity_at=activity.start_at)


def client_refresh_last_visit(*, client_id: int) -> None:
    """Recompute a client's last visit from its done visits (after one was undone).

    Only called when the visit that set ``last_visit_at`` changed or went
    away; then the newest remaining done visit is the last one. With none
    left the client has no recorded visit, and next-visit-due is left as it was.
    """
    client = Client.objects.only("pk", "cadence").get(pk=client_id)
    latest = Activity.objects.filter(
        client_id=client_id, type=ActivityType.VISIT, status=Activity.Status.DONE
    ).aggregate(latest=Max("start_at"))["latest"]
    changes: dict[str, Any] = {"last_visit_at": latest}
    if latest is not None:
        changes["next_visit_due"] = client.next_visit_after(_local_day(latest))
    Client.objects.filter(pk=client_id).update(**changes)


def _was_last_visit(snapshot: Mapping[str, Any]) -> bool:
    """Whether a done visit (by its stored values) is what set its client's last visit."""
    if not (
        snapshot["type"] == ActivityType.VISIT
        and snapshot["status"] == Activity.Status.DONE
        and snapshot["client_id"]
    ):
        return False
    return Client.objects.filter(
        pk=snapshot["client_id"], last_visit_at=snapshot["start_at"]
    ).exists()


def _snapshot(activity: Activity) -> dict[str, Any]:
    return {
        "type": activity.type,
        "status": activity.status,
        "client_id": activity.client_id,
        "start_at": activity.start_at,
    }


def _after_write(activity: Activity, before: Mapping[str, Any] | None) -> None:
    if before is not None and before != _snapshot(activity) and _was_last_visit(before):
        client_refresh_last_visit(client_id=before["client_id"])
    _record_visit(activity)
    _touch_deal(activity)


# ---------------------------------------------------------------- workflows
def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _require_change(user: User, activity: Activity) -> None:
    if not access_for(user, activity).can_change:
        raise PermissionDenied


@transaction.atomic
def activity_create(
    *,
    by: User,
    objections: Iterable[Mapping[str, Any]] = (),
    products: Iterable[Product | int] = (),
    **fields: Any,
) -> Activity:
    """Log (status done) or plan an activity owned by ``by``."""
    _require(by, "pipeline.add_activity")
    unknown = set(fields) - set(EDITABLE_FIELDS) - {f"{n}_id" for n in EDITABLE_FIELDS}
    if unknown:
        raise TypeError(f"activity_create() got unexpected fields: {sorted(unknown)}")
    activity = Activity(owner=by, **fields)
    if not activity.start_at:
        activity.start_at = timezone.now()
    if not fields.get("duration_minutes"):
        activity.duration_minutes = default_duration(activity.type)
    activity_validate(by=by, activity=activity)
    activity.save()
    _set_links(activity, objections, products)
    _after_write(activity, None)
    return activity


@transaction.atomic
def activity_update(
    *,
    by: User,
    activity: Activity,
    expected_version: int | None,
    objections: Iterable[Mapping[str, Any]] | None = None,
    products: Iterable[Product | int] | None = None,
    **changes: Any,
) -> Activity:
    """Change an activity the user may change; a stale ``expected_version`` raises StaleWrite."""
    _require_change(by, activity)
    unknown = set(changes) - set(EDITABLE_FIELDS) - {f"{n}_id" for n in EDITABLE_FIELDS}
    if unknown:
        raise TypeError(f"activity_update() got unexpected fields: {sorted(unknown)}")
    before = _snapshot(Activity.objects.get(pk=activity.pk))
    for name, value in changes.items():
        setattr(activity, name, value)
    activity_validate(by=by, activity=activity)
    activity.save_versioned(expected_version=expected_version)
    _set_links(activity, objections, products)
    _after_write(activity, before)
    return activity


@transaction.atomic
def activity_complete(
    *,
    by: User,
    activity: Activity,
    expected_version: int | None,
    outcome: str = "",
    next_step: str = "",
) -> Activity:
    """Mark a planned activity done; one planned for later is dated now (it happened early)."""
    _require_change(by, activity)
    if activity.status != Activity.Status.PLANNED:
        raise ValidationError({"status": _("Only a planned activity can be marked done.")})
    before = _snapshot(activity)
    activity.status = Activity.Status.DONE
    if activity.start_at > timezone.now():
        activity.start_at = timezone.now()
    if outcome:
        activity.outcome = outcome
    if next_step:
        activity.next_step = next_step
    activity_validate(by=by, activity=activity)
    activity.save_versioned(expected_version=expected_version)
    _after_write(activity, before)
    return activity


@transaction.atomic
def activity_delete(*, by: User, activity: Activity) -> None:
    """Delete an activity; if it was its client's last visit, the one before counts again."""
    if not access_for(by, activity).can_delete:
        raise PermissionDenied
    before = _snapshot(activity)
    was_last = _was_last_visit(before)
    activity.delete()
    if was_last:
        client_refresh_last_visit(client_id=before["client_id"])
