"""Telling people about things: one function every app calls.

For now a notification is an e-mail sent after the transaction commits; the
notification centre (in-app list, per-user preferences, digests) builds on this
same call, so callers do not change.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import User


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    subject: str,
    message: str,
    url: str = "",
) -> None:
    """Notify each active recipient with an e-mail address, once the transaction commits.

    ``kind`` names the kind of notification ("quote_approval", …) so that
    preferences can be applied per kind; ``url`` is a path inside salesorg.
    """
    addresses = sorted({u.email for u in recipients if u.is_active and u.email})
    if not addresses:
        return
    body = f"{message}\n\n{settings.SALESORG_BASE_URL.rstrip('/')}{url}" if url else message

    def send() -> None:
        send_mail(subject, body, None, addresses, fail_silently=False)

    transaction.on_commit(send)
