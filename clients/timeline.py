"""The client timeline: one list of everything that happened with a client.

Each app registers a provider for its own records (activities, deals,
contracts, complaints, survey answers…) in its ``AppConfig.ready()``::

    from clients.timeline import register

    register(activity_entries)

A provider is ``provider(client, user, limit) -> Iterable[TimelineEntry]`` and
must read through ``visible_to(user)`` with one query, so the page's query
count stays constant however many providers and records there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # a short machine name: "activity", "deal", "contract", ...
    title: str
    url: str = ""
    summary: str = ""
    icon: str = ""  # an emoji or short symbol shown before the title
    actor: str = ""


Provider = Callable[["Client", "User", int], Iterable[TimelineEntry]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (usable as a decorator); registering twice is harmless."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def timeline_for(client: Client, user: User, limit: int = 50) -> list[TimelineEntry]:
    """The newest ``limit`` entries from every provider, newest first.

    Nothing at all for a client the user may not see: the check is made here,
    once, so that no provider can leak a record of someone else's client.
    """
    from clients.models import Client

    if not Client.objects.visible_to(user).filter(pk=client.pk).exists():
        return []
    entries: list[TimelineEntry] = []
    for provider in _providers:
        entries.extend(provider(client, user, limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
