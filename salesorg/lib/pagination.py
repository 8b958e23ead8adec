"""API pagination that stays fast on large tables.

An exact ``COUNT(*)`` over everything a manager can see is the slowest part of
a list on a big table, and nobody pages to row 120,000. We count at most
``count_cap`` rows (a ``LIMIT`` inside the count) and say when the real number
is larger.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import InvalidPage, Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``COUNT_CAP`` (+1 to tell "more")."""

    count_cap = COUNT_CAP

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        qs = self.object_list
        if hasattr(qs, "query"):
            return qs.order_by()[: self.count_cap + 1].count()
        return len(qs)

    @property
    def capped(self) -> bool:
        return self.count > self.count_cap


class CappedPageNumberPagination(PageNumberPagination):
    django_paginator_class = CappedPaginator
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise
        except InvalidPage as exc:  # pragma: no cover - DRF converts these already
            raise NotFound(str(exc)) from exc

    def get_paginated_response(self, data: Any) -> Response:
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, paginator.count_cap),
                "count_is_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        base = super().get_paginated_response_schema(schema)
        base["properties"]["count_is_capped"] = {
            "type": "boolean",
            "description": "True when there are more rows than `count` says.",
        }
        return base
