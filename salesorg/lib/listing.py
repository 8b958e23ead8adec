"""Sorting and paging for the HTML list pages, one way everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest

from salesorg.lib.pagination import CappedPaginator

PAGE_SIZE = 25


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key


def apply_sort(
    request: HttpRequest,
    qs: QuerySet[Any],
    columns: Mapping[str, str | tuple[str, ...]],
    default: str,
) -> tuple[QuerySet[Any], Sort]:
    """Order ``qs`` by the ``?sort=`` column if it is one of ``columns``.

    ``columns`` maps the public column key to model ordering fields; a
    unique field (``pk``) is appended so pages never repeat or skip rows.
    """
    raw = request.GET.get("sort", default)
    key = raw.lstrip("-")
    if key not in columns:
        raw, key = default, default.lstrip("-")
    descending = raw.startswith("-")
    fields = columns[key]
    fields = (fields,) if isinstance(fields, str) else fields
    ordering = [f"-{f}" if descending else f for f in fields]
    return qs.order_by(*ordering, "-pk" if descending else "pk"), Sort(key, descending)


def paginate(request: HttpRequest, qs: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page:
    paginator = CappedPaginator(qs, per_page)
    return paginator.get_page(request.GET.get("page"))
