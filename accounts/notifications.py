"""Telling people about things: one function every app calls.

``notify()`` records an in-app notification for each recipient (the bell in
the page header) and e-mails it once the transaction commits. A
``dedupe_key`` makes the call idempotent per recipient: a job that runs twice,
or is redelivered, finds the row it made the first time and sends nothing
more. Per-person preferences (which kinds by e-mail, in the app) and the daily
digest are applied here too, so callers never deal with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Notification, NotificationPreference, NotificationSettings, User


def _email_wanted(user: User, kind: str) -> bool:
    pref = NotificationPreference.objects.filter(user=user, kind=kind).first()
    if pref is not None and not pref.email:
        return False
    digest = NotificationSettings.objects.filter(user=user, daily_digest=True).exists()
    return not digest  # digest readers get it in the daily summary instead


def _in_app_wanted(user: User, kind: str) -> bool:
    pref = NotificationPreference.objects.filter(user=user, kind=kind).first()
    return pref is None or pref.in_app


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
    created: list[Notification] = []
    for user in {u.pk: u for u in recipients if u.is_active}.values():
        if (
            dedupe_key
            and Notification.objects.filter(recipient=user, dedupe_key=dedupe_key).exists()
        ):
            continue
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
                    read_at=None if _in_app_wanted(user, kind) else timezone.now(),
                )
        except IntegrityError:  # a concurrent run made it first
            continue
        created.append(note)
        if user.email and _email_wanted(user, kind):
            # robust: a mail server that is down must not undo or break the caller's work;
            # the notification stays unsent (emailed_at empty) for a later retry.
            transaction.on_commit(lambda n=note, u=user: _send(n, u), robust=True)
    return created


def _send(note: Notification, user: User) -> None:
    link = f"\n\n{settings.SALESORG_BASE_URL.rstrip('/')}{note.url}" if note.url else ""
    send_mail(note.title, f"{note.body}{link}", None, [user.email], fail_silently=False)
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
