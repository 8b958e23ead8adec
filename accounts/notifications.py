"""Telling people about things: one function every app calls.

``notify()`` records an in-app notification for each recipient (the bell in
the page header) and e-mails it once the transaction commits. A
``dedupe_key`` makes the call idempotent per recipient: a job that runs twice,
or is redelivered, finds the row it made the first time and sends nothing
more. Per-person preferences (which kinds by e-mail, in the app) and the daily
digest are applied here too, so callers never deal with them.

The kinds the product sends are listed in ``KINDS`` so that the preferences
page can offer each one; an app that sends a new kind registers it with
``register_kind`` (in its own block below).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Notification, NotificationPreference, NotificationSettings, User

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------- kinds
@dataclass(frozen=True)
class Kind:
    """A kind of notification, as the preferences page shows it."""

    code: str
    label: str | Promise
    help: str | Promise = ""


KINDS: dict[str, Kind] = {}


def register_kind(code: str, label: str | Promise, help: str | Promise = "") -> Kind:
    """Make a kind known to the preferences page (idempotent; the last label wins)."""
    KINDS[code] = Kind(code, label, help)
    return KINDS[code]


def kind_label(code: str) -> str:
    """The label of a kind; an unregistered one reads as its code, prettified."""
    kind = KINDS.get(code)
    return str(kind.label) if kind else code.replace("_", " ").capitalize()


# --- clients core
register_kind(
    "client_account_manager",
    gettext_lazy("You became a client's account manager"),
    gettext_lazy("Someone made you the dedicated account manager of a client."),
)
register_kind(
    "client_shared",
    gettext_lazy("A client was shared with you"),
    gettext_lazy("Someone shared one of their clients with you."),
)
# --- pipeline
register_kind(
    "web_lead",
    gettext_lazy("New website sign-up"),
    gettext_lazy("A visitor signed up on the website and became your lead."),
)
register_kind(
    "quote_approval_requested",
    gettext_lazy("Discount approval requested"),
    gettext_lazy("A quote of your team waits for your discount approval."),
)
register_kind(
    "quote_approval_decided",
    gettext_lazy("Discount approval decided"),
    gettext_lazy("Your manager approved or rejected a discount on your quote."),
)
# --- complaints and surveys (their kinds, so the preferences page offers them)
register_kind(
    "complaint_new",
    gettext_lazy("New complaint"),
    gettext_lazy("A complaint about one of your clients was logged."),
)
register_kind(
    "complaint_escalated",
    gettext_lazy("Complaint escalated"),
    gettext_lazy("A complaint went without a first response past its SLA and came to you."),
)
register_kind(
    "complaint_reopened",
    gettext_lazy("Complaint reopened"),
    gettext_lazy("A resolved complaint of yours was opened again."),
)
register_kind(
    "complaint_reassigned",
    gettext_lazy("Complaint handed to you"),
    gettext_lazy("Someone made you the owner of a complaint."),
)
register_kind(
    "survey_low_score",
    gettext_lazy("Low survey score"),
    gettext_lazy("A client answered a survey with a low score; a follow-up is due."),
)
# --- scheduled jobs (care-jobs)
register_kind(
    "visit_reminder",
    gettext_lazy("Visits due today"),
    gettext_lazy(
        "Every morning: clients whose visit is due or overdue and today's planned visits."
    ),
)
register_kind(
    "renewal_reminder",
    gettext_lazy("Contract renewal"),
    gettext_lazy("A contract of yours ends in 90, 60 or 30 days."),
)
register_kind(
    "stale_deals",
    gettext_lazy("Stale deals"),
    gettext_lazy("Weekly: open deals (yours or your team's) without activity for a while."),
)
register_kind(
    "weekly_report_reminder",
    gettext_lazy("Weekly sales report"),
    gettext_lazy("Friday afternoon: a reminder to write your weekly sales report."),
)
register_kind(
    "key_account_without_am",
    gettext_lazy("New key account without an account manager"),
    gettext_lazy("A client's annual spend passed the key-account threshold and it needs an AM."),
)
# --- end scheduled jobs


# ------------------------------------------------------------------ delivery
@dataclass(frozen=True)
class _Channels:
    in_app: bool
    email: bool


def _channels_for(users: list[User], kind: str) -> dict[int, _Channels]:
    """Each person's channels for ``kind`` in two queries (preferences and digest)."""
    pks = [u.pk for u in users]
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=pks, kind=kind)}
    digest = set(
        NotificationSettings.objects.filter(user__in=pks, daily_digest=True).values_list(
            "user_id", flat=True
        )
    )
    channels = {}
    for pk in pks:
        pref = prefs.get(pk)
        channels[pk] = _Channels(
            in_app=pref is None or pref.in_app,
            # digest readers get it in the daily summary instead
            email=(pref is None or pref.email) and pk not in digest,
        )
    return channels


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    subject: str,
    message: str,
    url: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Notify each active recipient: an in-app notification and, after commit, an e-mail.

    ``kind`` names the kind of notification ("quote_approval", …) so that
    preferences apply per kind; ``url`` is a path inside salesorg;
    ``dedupe_key`` (e.g. "renewal:42:90") makes a repeated call a no-op for
    whoever already has that notification. Returns the notifications created.
    """
    people = list({u.pk: u for u in recipients if u.is_active}.values())
    if dedupe_key and people:
        already = set(
            Notification.objects.filter(recipient__in=people, dedupe_key=dedupe_key).values_list(
                "recipient_id", flat=True
            )
        )
        people = [u for u in people if u.pk not in already]
    if not people:
        return []
    channels = _channels_for(people, kind)
    created: list[Notification] = []
    for user in people:
        wanted = channels[user.pk]
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    recipient=user,
                    kind=kind,
                    title=subject[:200],
                    body=message,
                    url=url,
                    dedupe_key=dedupe_key,
                    # Not shown in the app when the person turned this kind off there.
                    read_at=None if wanted.in_app else timezone.now(),
                )
        except IntegrityError:  # a concurrent run made it first
            continue
        created.append(note)
        if user.email and wanted.email:
            # robust: a mail server that is down must not undo or break the caller's work;
            # the notification stays unsent (emailed_at empty) for a later retry.
            transaction.on_commit(lambda n=note, u=user: _send(n, u), robust=True)
    return created


def absolute_url(path: str) -> str:
    return f"{settings.SALESORG_BASE_URL.rstrip('/')}{path}"


def _send(note: Notification, user: User) -> None:
    link = f"\n\n{absolute_url(note.url)}" if note.url else ""
    send_mail(note.title, f"{note.body}{link}", None, [user.email], fail_silently=False)
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())


# ------------------------------------------------------------ reading them
#: The bell shows "99+" beyond this; counting further is wasted work.
UNREAD_CAP = 99


def unread_count(user: User) -> int:
    """Unread notifications of ``user``, counted up to ``UNREAD_CAP + 1`` (one index scan)."""
    return Notification.objects.visible_to(user).unread().order_by()[: UNREAD_CAP + 1].count()


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read (idempotent: the first time counts)."""
    if notification.recipient_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


def preferences_for(user: User) -> list[tuple[Kind, bool, bool]]:
    """Each kind with the person's channels (in app, e-mail); defaults are both on.

    Lists the registered kinds and any other kind the person has received or
    has a preference for, so nothing they get is missing from the page.
    """
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    received = set(
        Notification.objects.filter(recipient=user)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )
    codes = list(KINDS) + sorted((received | set(prefs)) - set(KINDS))
    rows = []
    for code in codes:
        kind = KINDS.get(code) or Kind(code, kind_label(code))
        pref = prefs.get(code)
        rows.append((kind, pref is None or pref.in_app, pref is None or pref.email))
    return rows


@transaction.atomic
def preferences_save(
    *, user: User, channels: dict[str, tuple[bool, bool]], daily_digest: bool
) -> None:
    """Store the person's channels per kind and the digest switch."""
    for code, (in_app, email) in channels.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=code, defaults={"in_app": in_app, "email": email}
        )
    NotificationSettings.objects.update_or_create(
        user=user, defaults={"daily_digest": daily_digest}
    )


def digest_enabled(user: User) -> bool:
    return NotificationSettings.objects.filter(user=user, daily_digest=True).exists()


# ------------------------------------------------------------------- digest
#: A digest looks back at most this far (someone who just turned it on is not
#: sent weeks of old notifications).
DIGEST_LOOKBACK = timedelta(days=2)
#: Lines listed in one digest e-mail; the rest are counted and one click away.
DIGEST_MAX_LINES = 50


def send_daily_digests(now: datetime, *, batch_size: int = 200) -> dict[str, int]:
    """E-mail each digest reader one summary of the notifications not yet e-mailed.

    Once per person per day: ``last_digest_on`` is set in the same transaction
    that marks the notifications e-mailed, with the person's settings row
    locked, so a second run (or a second worker) finds nothing to do. The
    e-mail goes out inside that transaction: if the mail server fails, nothing
    is marked and the next run tries again; a crash between sending and
    committing is the only way to get a summary twice.
    """
    today = timezone.localdate(now)
    since = now - DIGEST_LOOKBACK
    sent = skipped = failed = notes_total = 0
    last_pk = 0
    while True:
        batch = list(
            NotificationSettings.objects.filter(daily_digest=True, pk__gt=last_pk)
            .filter(Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=today))
            .filter(user__is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1]
        for settings_pk in batch:
            try:
                count = _digest_one(settings_pk, today=today, since=since, now=now)
            except Exception:
                logger.exception("daily digest for settings %s failed", settings_pk)
                failed += 1
                continue
            if count is None:
                skipped += 1
            else:
                sent += 1
                notes_total += count
    summary = {
        "digests_sent": sent,
        "notifications_summarised": notes_total,
        "nothing_new": skipped,
    }
    if failed:
        # The run is recorded as failed (operations page); a rerun ("run now") or
        # tomorrow's run sends the ones that failed, nobody gets theirs twice.
        raise DigestDeliveryError(f"{failed} digest(s) could not be sent; {summary}")
    return summary


class DigestDeliveryError(RuntimeError):
    """Some digests could not be e-mailed (the others were)."""


def _digest_one(settings_pk: int, *, today: date, since: datetime, now: datetime) -> int | None:
    """One person's digest; ``None`` when there was nothing new (or already done today)."""
    with transaction.atomic():
        row = (
            NotificationSettings.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(pk=settings_pk)
            .filter(Q(last_digest_on__isnull=True) | Q(last_digest_on__lt=today))
            .first()
        )
        if row is None:  # another run has it, or it is done for today
            return None
        user = row.user
        muted = NotificationPreference.objects.filter(user=user, email=False).values("kind")
        pending = (
            Notification.objects.filter(
                recipient=user, emailed_at__isnull=True, created_at__gte=since
            )
            .exclude(kind__in=muted)
            .order_by("created_at", "pk")
        )
        newest = pending.order_by("-pk").values_list("pk", flat=True).first()
        row.last_digest_on = today
        row.save(update_fields=["last_digest_on"])
        if newest is None or not user.email:
            return None
        # What arrives while this runs waits for tomorrow's summary.
        summarised = pending.filter(pk__lte=newest)
        notes = list(summarised[: DIGEST_MAX_LINES + 1])
        total = summarised.count() if len(notes) > DIGEST_MAX_LINES else len(notes)
        subject, body = _digest_text(user, notes[:DIGEST_MAX_LINES], total, today)
        send_mail(subject, body, None, [user.email], fail_silently=False)
        summarised.update(emailed_at=now)
        return total


def _digest_text(user: User, notes: list[Notification], total: int, today: date) -> tuple[str, str]:
    subject = ngettext(
        "salesorg: %(count)d notification on %(day)s",
        "salesorg: %(count)d notifications on %(day)s",
        total,
    ) % {"count": total, "day": today.isoformat()}
    lines = [_("Hello %(name)s,") % {"name": user.get_full_name() or user.username}, ""]
    lines.append(_("Here is what happened in salesorg since your last summary:"))
    lines.append("")
    for note in notes:
        stamp = timezone.localtime(note.created_at).strftime("%H:%M")
        lines.append(f"- {stamp} {note.title}")
        if note.url:
            lines.append(f"  {absolute_url(note.url)}")
    if total > len(notes):
        lines.append("")
        lines.append(
            ngettext("…and %(count)d more.", "…and %(count)d more.", total - len(notes))
            % {"count": total - len(notes)}
        )
    lines += [
        "",
        _("All your notifications: %(url)s")
        % {"url": absolute_url(reverse("accounts:notifications"))},
        _("You get one summary a day because you chose the daily digest: %(url)s")
        % {"url": absolute_url(reverse("accounts:notification-preferences"))},
    ]
    return subject, "\n".join(lines)
