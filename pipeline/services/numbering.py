"""Human-readable document numbers (``Q-202611-0007``, ``C-202611-0003``).

Numbers restart every month and must be unique even when two people create a
document in the same instant. On PostgreSQL a transaction-scoped advisory lock
per (model, month) serialises the "read the last number, add one" step until
the creating transaction commits; SQLite serialises all writers anyway. The
unique constraint on the number stays the last line of defence.
"""

from __future__ import annotations

import zlib
from datetime import date

from django.db import connection, models, transaction
from django.db.models.functions import Length
from django.utils import timezone


def lock_key(model: type[models.Model], prefix: str) -> int:
    """The advisory lock id for one model's numbers in one month (a positive bigint)."""
    key = f"{model._meta.label}:{prefix}"
    return (0x5A1E << 32) | zlib.crc32(key.encode())


def _lock(model: type[models.Model], prefix: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(model, prefix)])


def next_number(model: type[models.Model], letter: str, *, on: date | None = None) -> str:
    """The next free number ``<letter>-YYYYMM-NNNN`` for ``model``'s ``number`` field.

    Must run inside the transaction that saves the new record (services are
    atomic), so the lock is held until that record is committed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the transaction that saves the record.")
    day = on or timezone.localdate()
    prefix = f"{letter}-{day:%Y%m}-"
    _lock(model, prefix)
    last = (
        model._base_manager.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = 1
    if last:
        try:
            sequence = int(last[len(prefix) :]) + 1
        except ValueError:  # a hand-typed number with this prefix: keep counting after it
            sequence = model._base_manager.filter(number__startswith=prefix).count() + 1
    return f"{prefix}{sequence:04d}"
