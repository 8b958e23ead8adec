"""Reference data (pipeline stages, ...) kept in the cache between requests.

Reference tables change a few times a year, through the admin, yet the
funnel, the board and every dashboard read them. ``cached(name, load)`` keeps
the loaded value in the shared cache (Redis, or the file cache on one
machine) under a generation that a save or delete of the model replaces, so
every web process sees an edit on its next request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import uuid4

from django.core.cache import cache
from django.db.models.signals import post_delete, post_migrate, post_save

T = TypeVar("T")

GENERATION_KEY = "refcache:generation"
#: An upper bound on staleness should a change bypass the signals (raw SQL, ``update()``).
CACHE_SECONDS = 600


def cached(name: str, load: Callable[[], T]) -> T:
    generation = cache.get_or_set(GENERATION_KEY, lambda: uuid4().hex, None)
    key = f"refcache:{generation}:{name}"
    value = cache.get(key)
    if value is None:
        value = load()
        cache.set(key, value, CACHE_SECONDS)
    return value


def forget(**_kwargs: Any) -> None:
    """Start a new generation: every cached reference value is loaded again."""
    cache.delete(GENERATION_KEY)


def watch(*models: type) -> None:
    """Forget the cached values whenever one of ``models`` is saved or deleted."""
    for model in models:
        post_save.connect(forget, sender=model, weak=False)
        post_delete.connect(forget, sender=model, weak=False)
    post_migrate.connect(forget, weak=False, dispatch_uid="refcache-forget")
