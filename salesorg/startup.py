"""What the serving processes check before they start.

Settings load without a ``SECRET_KEY`` outside DEBUG so that schema and build
commands run anywhere; the processes that sign sessions, CSRF tokens and
survey links — the web server and the Celery worker — must not start without
one, and say so plainly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = (
    "SECRET_KEY is not set. Set it to a long random string (DEBUG=1 makes a local one "
    "for development)."
)


def has_secret_key() -> bool:
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        return False


def require_secret_key() -> None:
    if not has_secret_key():
        raise ImproperlyConfigured(MISSING_SECRET_KEY)


def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``manage.py check --deploy``: the one setting production cannot do without."""
    if has_secret_key():
        return []
    return [Error(MISSING_SECRET_KEY, id="salesorg.E001")]
