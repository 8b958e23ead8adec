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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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


_TEXT_TYPES = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
_NUMBER_TYPES = {
    "AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField",
    "DecimalField", "ForeignKey", "OneToOneField",
}  # fmt: skip


def _line_formatter(fields: Sequence[models.Field]) -> Any:
    """A function turning one row into one COPY line, specialised to the column types
    (one generated expression per row instead of a function call per value: the
    large demo formats millions of rows)."""
    parts = []
    for i, f in enumerate(fields):
        kind = f.get_internal_type()
        v = f"r[{i}]"
        if kind in _TEXT_TYPES:
            expr = f"(N if {v} is None else {v}.translate(E))"
        elif kind in ("DateTimeField", "DateField"):
            expr = f"(N if {v} is None else {v}.isoformat())"
        elif kind in _NUMBER_TYPES:
            expr = f"(N if {v} is None else str({v}))"
        else:
            expr = f"C({v})"
        parts.append(expr)
    source = "lambda r: '\\t'.join((" + ", ".join(parts) + ",)) + '\\n'"
    return eval(source, {"N": "\\N", "E": _COPY_ESCAPES, "C": _copy_text})  # noqa: S307


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
            # Whenever there is a sequence, take from it (whichever way the rows are
            # then written): an ordinary insert afterwards can never collide.
            if self.connection.vendor == "postgresql":
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
        self._line = _line_formatter(self.fields) if uses_copy(self.connection) else None

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
                buffer.writelines(map(self._line, rows))
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


# ------------------------------------------------------------------ foreign keys
@contextmanager
def deferred_foreign_key_check(
    models_to_check: Sequence[type[models.Model]], connection: Any = None
) -> Iterator[bool]:
    """Check the foreign keys of a bulk load once, set-based, instead of row by row.

    PostgreSQL checks every foreign key of every copied row with a trigger, at
    commit (Django makes them ``DEFERRABLE INITIALLY DEFERRED``): millions of
    index probes for the large demo. When the database user may (a superuser,
    as on a demo or benchmark database), this turns those triggers off for the
    transaction (``session_replication_role = replica``) — only when the tables
    have no triggers of their own, which would be skipped too — and afterwards
    checks every foreign key of ``models_to_check`` with one anti-join each,
    raising ``IntegrityError`` (and so rolling the load back) on a dangling
    reference. Elsewhere it does nothing and the database checks as usual.
    Yields whether the fast path is on.
    """
    connection = connection or default_connection
    fast = False
    if uses_copy(connection) and connection.in_atomic_block:
        tables = [m._meta.db_table for m in models_to_check]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                " AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relname = ANY(%s))",
                [tables],
            )
            row = cursor.fetchone()
            fast = bool(row and row[0])
            if fast:
                cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield fast
    finally:
        if fast:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")
    if fast:
        check_foreign_keys(models_to_check, connection)


def check_foreign_keys(
    models_to_check: Sequence[type[models.Model]], connection: Any = None
) -> None:
    """Raise ``IntegrityError`` if a foreign key of these tables points nowhere."""
    from django.db import IntegrityError

    connection = connection or default_connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models_to_check:
            for f in model._meta.concrete_fields:
                if not f.is_relation or not getattr(f, "db_constraint", False):
                    continue
                parent = f.related_model._meta
                target = f.target_field.column
                cursor.execute(
                    f"SELECT c.{quote(f.column)} FROM {quote(model._meta.db_table)} c "  # noqa: S608
                    f"WHERE c.{quote(f.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    f"{quote(parent.db_table)} p WHERE p.{quote(target)} = c.{quote(f.column)}) "
                    "LIMIT 1"
                )
                dangling = cursor.fetchone()
                if dangling is not None:
                    raise IntegrityError(
                        f"{model._meta.db_table}.{f.column} = {dangling[0]} points to no "
                        f"row of {parent.db_table}."
                    )


@contextmanager
def indexes_built_after(
    models_to_load: Sequence[type[models.Model]], connection: Any = None
) -> Iterator[list[str]]:
    """Build the secondary indexes of empty tables once, after loading them.

    Keeping a dozen B-trees up to date row by row is most of the cost of
    copying a million activities; building each index once from the loaded
    rows is several times faster. Only for tables that are empty when the load
    starts (a fresh demo), only on PostgreSQL, and only indexes that back no
    constraint (primary keys and unique constraints stay). Everything happens in
    the seeding transaction, so a failed load rolls the indexes back too.
    Yields the names of the indexes it dropped.
    """
    connection = connection or default_connection
    saved: list[tuple[str, str]] = []
    if uses_copy(connection) and connection.in_atomic_block:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in models_to_load:
                table = model._meta.db_table
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # noqa: S608
                if cursor.fetchone()[0]:
                    continue
                cursor.execute(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                    " JOIN pg_class c ON c.oid = i.indexrelid"
                    " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                    " AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
                    " WHERE k.conindid = i.indexrelid)",
                    [table],
                )
                saved.extend(cursor.fetchall())
            for name, _definition in saved:
                cursor.execute(f"DROP INDEX {quote(name)}")
    yield [name for name, _ in saved]
    if saved:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in saved:
                cursor.execute(definition)
