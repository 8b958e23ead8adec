"""Data quality of the client records a user sees: incomplete ones and duplicates.

Everything is computed in SQL over ``Client.objects.visible_to(user)``: the
counts in one aggregate query, duplicate candidates as ``GROUP BY key HAVING
COUNT(DISTINCT client) > 1`` over (client, key) pairs, paged with ``LIMIT`` —
so the page costs the same handful of queries at 100 or 10,000 clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Contact
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone
from salesorg.lib.pagination import COUNT_CAP

# ------------------------------------------------------------------ incomplete
MISSING: dict[str, Any] = {
    "phone": _("Missing phone"),
    "email": _("Missing e-mail"),
    "industry": _("Missing industry"),
    "contact": _("No contact"),
}


def _has_contact() -> Exists:
    return Exists(Contact.objects.filter(client=OuterRef("pk")))


def _missing_condition(key: str) -> Q:
    if key == "contact":
        return ~Q(_has_contact())
    return Q(**{key: ""})


def incomplete_counts(visible: QuerySet[Client]) -> dict[str, int]:
    """How many visible clients lack each piece (and anything), in one query."""
    anything = Q()
    for key in MISSING:
        anything |= _missing_condition(key)
    aggregates = {f"lacking_{key}": Count("pk", filter=_missing_condition(key)) for key in MISSING}
    aggregates["lacking_any"] = Count("pk", filter=anything)
    counts = visible.order_by().aggregate(**aggregates)
    return {name.removeprefix("lacking_"): value for name, value in counts.items()}


def incomplete_clients(visible: QuerySet[Client], missing: str) -> QuerySet[Client]:
    """Visible clients lacking ``missing`` (or anything, for ``"any"``), with what they lack."""
    if missing in MISSING:
        condition = _missing_condition(missing)
    else:
        condition = Q()
        for key in MISSING:
            condition |= _missing_condition(key)
    return (
        visible.annotate(has_contact=_has_contact())
        .filter(condition)
        .select_related("owner")
        .order_by("name", "pk")
    )


# ------------------------------------------------------------------ duplicates
DUPLICATE_KINDS: dict[str, Any] = {
    "name": _("Same name"),
    "registration_number": _("Same registration number"),
    "phone": _("Same phone"),
    "email": _("Same e-mail"),
}


_KEY_COLUMN = {
    "name": "name_normalized",
    "registration_number": "registration_number",
    "phone": "phone_normalized",
    "email": "email",
}


def _pairs_sql(kind: str, visible: QuerySet[Client]) -> tuple[str, list[Any]]:
    """SQL for the distinct (cid, k) pairs — client and key — of one kind of duplicate.

    Compiled by the ORM from the visible queryset, so the visibility rule is
    the one every page uses; e-mails are the client's own and its contacts'.
    """
    column = _KEY_COLUMN[kind]
    pairs = visible.order_by().exclude(**{column: ""}).values(cid=F("pk"), k=F(column)).distinct()
    if kind == "email":
        contacts = (
            Contact.objects.order_by()
            .filter(client__in=visible.order_by().values("pk"))
            .exclude(email="")
            .values(cid=F("client"), k=F("email"))
        )
        pairs = pairs.union(contacts)  # UNION, not UNION ALL: one pair per client and e-mail
    sql, params = pairs.query.sql_with_params()
    return sql, list(params)


def _search_key(kind: str, text: str) -> str:
    """The search text in the form the keys are stored in, LIKE wildcards escaped away."""
    text = (text or "").strip()
    if not text:
        return ""
    key = {
        "name": normalize_name,
        "registration_number": lambda t: t.upper(),
        "phone": normalize_phone,
        "email": normalize_email,
    }[kind](text)
    return key.replace("%", "").replace("_", "")


class DuplicateGroups:
    """Groups of one kind, as a sliceable sequence the paginator can page.

    ``len()`` is capped like every list count (``COUNT_CAP``); a slice runs one
    ``GROUP BY … HAVING … LIMIT … OFFSET`` query.
    """

    def __init__(self, kind: str, visible: QuerySet[Client], search: str = "") -> None:
        if kind not in DUPLICATE_KINDS:
            raise ValueError(kind)
        self.kind = kind
        self.visible = visible
        self.search = _search_key(kind, search)
        self._count: int | None = None

    def _grouped(self) -> tuple[str, list[Any]]:
        pairs, params = _pairs_sql(self.kind, self.visible)
        where = ""
        if self.search:
            where = "WHERE p.k LIKE %s "
            params = [*params, f"%{self.search}%"]
        sql = (
            f"SELECT p.k, COUNT(*) AS n FROM ({pairs}) p {where}"  # noqa: S608
            "GROUP BY p.k HAVING COUNT(*) > 1"
        )
        return sql, params

    def count(self) -> int:
        if self._count is None:
            grouped, params = self._grouped()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM ({grouped} LIMIT %s) g",  # noqa: S608
                    [*params, COUNT_CAP + 1],
                )
                self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[DuplicateGroup]:
        if not isinstance(index, slice):
            raise TypeError("DuplicateGroups supports slices only.")
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + COUNT_CAP
        grouped, params = self._grouped()
        with connection.cursor() as cursor:
            cursor.execute(
                f"{grouped} ORDER BY n DESC, p.k LIMIT %s OFFSET %s",
                [*params, stop - start, start],
            )
            rows = cursor.fetchall()
        return self._with_members([(k, n) for k, n in rows])

    def _with_members(self, keys: Sequence[tuple[str, int]]) -> list[DuplicateGroup]:
        """Load the clients of these groups: one query for the pairs, one for the clients."""
        if not keys:
            return []
        pairs, params = _pairs_sql(self.kind, self.visible)
        marks = ", ".join(["%s"] * len(keys))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.k, p.cid FROM ({pairs}) p WHERE p.k IN ({marks})",  # noqa: S608
                [*params, *(k for k, _n in keys)],
            )
            members: dict[str, set[int]] = {}
            for key, client_id in cursor.fetchall():
                members.setdefault(key, set()).add(client_id)
        ids = sorted({pk for found in members.values() for pk in found})
        clients = {
            c.pk: c
            for c in Client.objects.filter(pk__in=ids)
            .select_related("owner")
            .annotate(contact_count=Count("contacts"))
        }
        return [
            DuplicateGroup(
                kind=self.kind,
                key=key,
                clients=sorted(
                    (clients[pk] for pk in members.get(key, ()) if pk in clients),
                    key=lambda c: c.pk,
                ),
            )
            for key, _n in keys
        ]


@dataclass
class DuplicateGroup:
    kind: str
    key: str
    clients: list[Client]

    @property
    def ids(self) -> list[int]:
        return [c.pk for c in self.clients]


def duplicate_counts(visible: QuerySet[Client]) -> dict[str, int]:
    """Number of duplicate groups of each kind (capped like list counts)."""
    return {kind: DuplicateGroups(kind, visible).count() for kind in DUPLICATE_KINDS}
