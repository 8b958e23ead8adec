"""Server time and SQL query count on every response, for the benchmark.

Enabled only when ``SALESORG_BENCH_HEADERS=1`` (settings add it first in
``MIDDLEWARE``), so production never pays for it or leaks the numbers. The
benchmark (``make bench``) reads them from each response instead of timing
from the client, so network and client overhead do not blur the figures:

- ``X-Server-Time-Ms``: from the first middleware to the response, in ms;
- ``X-Query-Count``: SQL statements run for this request;
- ``X-Query-Time-Ms``: the time spent in them.

Streaming responses (large CSV exports) report the time to the first byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


class BenchHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counter = _QueryCounter()
        wrapped = list(connections.all())
        for conn in wrapped:
            conn.execute_wrappers.append(counter)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            for conn in wrapped:
                conn.execute_wrappers.remove(counter)
        elapsed = (time.perf_counter() - started) * 1000
        response["X-Server-Time-Ms"] = f"{elapsed:.2f}"
        response["X-Query-Count"] = str(counter.count)
        response["X-Query-Time-Ms"] = f"{counter.seconds * 1000:.2f}"
        return response
