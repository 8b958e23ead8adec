"""Small SQL helpers shared by pages that read several lists at once."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from django.db import connection
from django.db.models import DateField, DateTimeField, Func, JSONField, QuerySet
from django.db.models.functions import Trunc


def union_all(parts: Sequence[QuerySet[Any]]) -> list[Any]:
    """The rows of ``parts`` read as one ``UNION ALL`` query, or a query per part on SQLite.

    Pages read the first rows of several lists (each part ordered and sliced,
    ``ORDER BY … LIMIT``) in a single round trip to stay within their query
    budget. SQLite (the embedded default) refuses ``LIMIT`` or ``ORDER BY``
    inside a compound statement (``connection.features
    .supports_slicing_ordering_in_compound`` is false), so there each part is
    read on its own and the rows chained: the same rows, one query per part.

    A ``UNION ALL`` keeps no order across its parts: callers that need one
    sort the rows themselves. An empty ``parts`` gives no rows and no query.
    """
    if not parts:
        return []
    if len(parts) == 1:
        return list(parts[0])
    if connection.features.supports_slicing_ordering_in_compound:
        return list(parts[0].union(*parts[1:], all=True))
    return list(chain.from_iterable(parts))


class DateTrunc(Trunc):
    """``Trunc`` of a date column (``"week"``, ``"month"``, ``"quarter"``…) to a date.

    Django compiles the truncation of a ``DateField`` to ``DATE_TRUNC(kind, day)``,
    which PostgreSQL resolves to its ``timestamp with time zone`` variant: every
    row's date is converted to a moment in the session's zone and back, a third
    of the weighted pipeline's time over 30,000 open deals. A date has no zone,
    so on PostgreSQL it is cast to a plain ``timestamp`` first (same result);
    other databases get Django's SQL.
    """

    def __init__(self, expression: Any, kind: str) -> None:
        super().__init__(expression, kind, output_field=DateField())

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple]:
        field = self.lhs.output_field
        if isinstance(field, DateTimeField) or not isinstance(field, DateField):
            return self.as_sql(compiler, connection)  # a moment's day depends on the zone
        sql, params = compiler.compile(self.lhs)
        return f"DATE_TRUNC(%s, ({sql})::timestamp)::date", (self.kind, *params)


class JSONWithout(Func):
    """A JSON object column without some of its keys, dropped in the database.

    Lists read a summary of a large JSON document (a submitted weekly report's
    figures carry up to a hundred listed visits, moves and closed deals each,
    ~60 KB) without fetching and parsing the parts only the single record shows.
    PostgreSQL's ``jsonb - text[]``; SQLite's ``json_remove``.
    """

    output_field = JSONField()

    def __init__(self, expression: Any, *keys: str) -> None:
        if not keys:
            raise ValueError("JSONWithout needs at least one key to drop.")
        self.keys = keys
        super().__init__(expression)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple]:
        sql, params = compiler.compile(self.source_expressions[0])
        paths = ", ".join(["%s"] * len(self.keys))
        return f"JSON_REMOVE({sql}, {paths})", (*params, *(f"$.{k}" for k in self.keys))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - %s::text[])", (*params, list(self.keys))
