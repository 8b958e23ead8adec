"""Fast bulk inserts for the demo seeders: PostgreSQL ``COPY``, with a portable fallback.

``seed_demo --size large`` writes millions of rows; ``Model.save()`` per row
(or even ``bulk_create``, which builds a model instance per row and overwrites
``auto_now_add`` fields with the current time) would take hours and lose the
historical timestamps the dashboards need. Rows are plain tuples here:

- on PostgreSQL they stream through ``COPY ... FROM STDIN`` in chunks, so
  memory stays bounded whatever the size;
- elsewhere (SQLite for ``make run``) they go through ``executemany`` with each
  value prepared by its model field, so the same seeder runs everywhere.

Children need their parents' ids before the parents are written, so ids are
handed out up front by ``IdAllocator`` (from the table's sequence on
PostgreSQL). Foreign keys are checked at commit (Django creates them
``DEFERRABLE INITIALLY DEFERRED``), so the order in which tables are flushed
within the seeding transaction does not matter.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection as default_connection
from django.db import models

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


def uses_copy(connection: Any = None) -> bool:
    connection = connection or default_connection
    return connection.vendor == "postgresql"


class IdAllocator:
    """Primary keys handed out before the rows are written.

    PostgreSQL: ``nextval`` of the table's own sequence, so later ordinary
    inserts never collide. Other databases: continue after ``MAX(id)`` — the
    seeder is then the only writer (it runs inside one transaction).
    """

    def __init__(self, connection: Any = None) -> None:
        self.connection = connection or default_connection
        self._next: dict[str, int] = {}

    def take(self, model: type[models.Model], count: int) -> list[int]:
        if count <= 0:
            return []
        table = model._meta.db_table
        pk = model._meta.pk.column
        with self.connection.cursor() as cursor:
            if uses_copy(self.connection):
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, pk, count],
                )
                return [row[0] for row in cursor.fetchall()]
            if table not in self._next:
                quote = self.connection.ops.quote_name
                cursor.execute(f"SELECT MAX({quote(pk)}) FROM {quote(table)}")  # noqa: S608
                self._next[table] = (cursor.fetchone()[0] or 0) + 1
        start = self._next[table]
        self._next[table] = start + count
        return list(range(start, start + count))


class TableWriter:
    """Buffers rows for one table and writes them in chunks.

    ``columns`` are model field names (``owner`` or ``owner_id`` both mean the
    foreign key column); a ``through`` table of a many-to-many field can be
    written by passing its auto-created model.
    """

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        *,
        chunk_size: int = 5000,
        connection: Any = None,
    ) -> None:
        self.model = model
        self.connection = connection or default_connection
        opts = model._meta
        self.fields = [opts.get_field(name) for name in columns]
        self.columns = [field.column for field in self.fields]
        self.chunk_size = chunk_size
        self.rows: list[Sequence[Any]] = []
        self.written = 0

    def add(self, row: Sequence[Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk_size:
            self.flush()

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        quote = self.connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        column_list = ", ".join(quote(c) for c in self.columns)
        with self.connection.cursor() as cursor:
            if uses_copy(self.connection):
                buffer = io.StringIO()
                buffer.writelines("\t".join(map(_copy_text, row)) + "\n" for row in rows)
                buffer.seek(0)
                cursor.copy_expert(f"COPY {table} ({column_list}) FROM STDIN", buffer)
            else:
                fields = self.fields
                prepared = [
                    [
                        f.get_db_prep_save(v, self.connection) if v is not None else None
                        for f, v in zip(fields, row, strict=True)
                    ]
                    for row in rows
                ]
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",  # noqa: S608
                    prepared,
                )
        self.written += len(rows)


class BulkLoader:
    """A set of ``TableWriter``s flushed together."""

    def __init__(self, *, chunk_size: int = 5000, connection: Any = None) -> None:
        self.connection = connection or default_connection
        self.chunk_size = chunk_size
        self.ids = IdAllocator(self.connection)
        self.writers: dict[str, TableWriter] = {}

    def table(self, key: str, model: type[models.Model], columns: Sequence[str]) -> TableWriter:
        writer = TableWriter(model, columns, chunk_size=self.chunk_size, connection=self.connection)
        self.writers[key] = writer
        return writer

    def history(self, key: str, source: TableWriter) -> HistoryWriter:
        writer = HistoryWriter(self, source)
        self.writers[key] = writer  # type: ignore[assignment]
        return writer

    def __getitem__(self, key: str) -> TableWriter:
        return self.writers[key]

    def flush(self) -> None:
        for writer in self.writers.values():
            writer.flush()

    def counts(self) -> dict[str, int]:
        return {key: writer.written for key, writer in self.writers.items()}


class HistoryWriter:
    """Writes django-simple-history rows ("+" created) mirroring another writer's rows.

    ``bulk_create`` skips history; a demo client should still show who created
    it and when on its history tab, and a revert needs a first version.
    """

    def __init__(self, loader: BulkLoader, source: TableWriter) -> None:
        historical = source.model.history.model  # type: ignore[attr-defined]
        names = [f.name for f in source.fields]
        self.positions = [i for i, name in enumerate(names) if _has_field(historical, name)]
        kept = [names[i] for i in self.positions]
        self.writer = TableWriter(
            historical,
            [*kept, "history_date", "history_type", "history_user", "history_change_reason"],
            chunk_size=loader.chunk_size,
            connection=loader.connection,
        )

    def add(self, row: Sequence[Any], *, at: datetime, user_id: int | None) -> None:
        self.writer.add((*(row[i] for i in self.positions), at, "+", user_id, None))

    def flush(self) -> None:
        self.writer.flush()

    @property
    def written(self) -> int:
        return self.writer.written


def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True
