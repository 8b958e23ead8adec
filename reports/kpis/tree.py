"""The organisation as it was on each day: placements rebuilt from history.

Team and company figures are sums over the reporting tree *as it was on the
day* a thing happened (a rep who moved teams on the 15th counts for the old
team up to the 14th and for the new one from the 15th). The tree's history is
already kept by ``django-simple-history`` on people (team, manager, role) and
teams (parent); this module turns it into ``reports.Placement`` rows — per
person, ranges of days with their reporting path, manager, team and the team's
path — that both the live KPI queries and the rollups join against.

A day belongs to the place a person held at the end of it. A person's first
known place also stands for the days before they were recorded (the demo
company is created today with 18 months of backdated work). The people's
current state is authoritative for today: a change that bypassed the history
counts from today.

Rebuilding is cheap (a company has hundreds of people, not millions) and is
done when the history changed: ``ensure_fresh`` compares a marker of the
history tables (one small query) with the one the placements were built from.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Team, User
from reports.models import BEGINNING, FOREVER, Placement, TreeHistoryState

logger = logging.getLogger(__name__)

#: (reporting path, manager id, team id, team path, role) — a person's place.
Place = tuple[str, int | None, int | None, str, str]


def history_marker() -> str:
    """A fingerprint of the people's and teams' history (one query)."""
    user_history = User.history.model._meta.db_table  # type: ignore[attr-defined]
    team_history = Team.history.model._meta.db_table  # type: ignore[attr-defined]
    users = User._meta.db_table
    teams = Team._meta.db_table
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(history_id) FROM {q(user_history)}),"  # noqa: S608 - table names
            f" (SELECT MAX(history_id) FROM {q(team_history)}),"
            f" (SELECT COUNT(*) FROM {q(users)}), (SELECT COUNT(*) FROM {q(teams)}),"
            f" (SELECT marker FROM {q(TreeHistoryState._meta.db_table)} WHERE id = 1)"
        )
        row = cursor.fetchone()
    return ":".join(str(v or 0) for v in row[:4]) + "|" + (row[4] or "")


def ensure_fresh() -> bool:
    """Rebuild the placements if the organisation's history changed; True if it did."""
    current, _sep, stored = history_marker().partition("|")
    if current == stored:
        return False
    rebuild(marker=current)
    return True


def _paths(parents: dict[int, int | None]) -> dict[int, str]:
    """Materialised paths ("1.4.9.") of every node from its parent, with loops cut."""
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        if pk in paths:
            return paths[pk]
        chain: list[int] = []
        node: int | None = pk
        seen: set[int] = set()
        while node is not None and node not in paths and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parents.get(node)
        prefix = paths.get(node, "") if node is not None else ""
        for member in reversed(chain):
            prefix = f"{prefix}{member}."
            paths[member] = prefix
        return paths[pk]

    for pk in parents:
        path_of(pk)
    return paths


def _places(
    people: dict[int, tuple[int | None, int | None, str]], team_parents: dict[int, int | None]
) -> dict[int, Place]:
    user_paths = _paths({pk: boss for pk, (boss, _team, _role) in people.items()})
    team_paths = _paths(team_parents)
    return {
        pk: (
            user_paths.get(pk, ""),
            boss,
            team,
            team_paths.get(team, "") if team is not None else "",
            role,
        )
        for pk, (boss, team, role) in people.items()
    }


@transaction.atomic
def rebuild(*, marker: str | None = None, today: date | None = None) -> int:
    """Recompute every placement from the history tables; returns how many rows.

    Locks the state row, so two processes rebuilding at once take turns and
    the second finds the work done.
    """
    today = today or timezone.localdate()
    state, _created = TreeHistoryState.objects.select_for_update().get_or_create(pk=1)
    marker = marker or history_marker().partition("|")[0]
    if state.marker == marker and Placement.objects.exists():
        return 0
    tz = timezone.get_current_timezone()

    # Every recorded change, by the local day it happened on.
    changes: dict[date, list[tuple[str, tuple]]] = defaultdict(list)
    user_history = User.history.model  # type: ignore[attr-defined]
    for pk, at, kind, boss, team, role in (
        user_history.objects.order_by("history_date", "history_id")
        .values_list("id", "history_date", "history_type", "reports_to_id", "team_id", "role")
        .iterator()
    ):
        changes[timezone.localtime(at, tz).date()].append(("user", (pk, kind, boss, team, role)))
    team_history = Team.history.model  # type: ignore[attr-defined]
    for pk, at, kind, parent in (
        team_history.objects.order_by("history_date", "history_id")
        .values_list("id", "history_date", "history_type", "parent_id")
        .iterator()
    ):
        changes[timezone.localtime(at, tz).date()].append(("team", (pk, kind, parent)))

    people: dict[int, tuple[int | None, int | None, str]] = {}
    team_parents: dict[int, int | None] = {}
    timeline: dict[int, list[tuple[date, Place]]] = defaultdict(list)

    def record(day: date) -> None:
        for pk, place in _places(people, team_parents).items():
            spans = timeline[pk]
            if not spans or spans[-1][1] != place:
                spans.append((day, place))

    for day in sorted(d for d in changes if d < today):
        for kind, values in changes[day]:
            if kind == "user":
                pk, history_type, boss, team, role = values
                if history_type == "-":
                    people.pop(pk, None)
                else:
                    people[pk] = (boss, team, role)
            else:
                pk, history_type, parent = values
                if history_type == "-":
                    team_parents.pop(pk, None)
                else:
                    team_parents[pk] = parent
        record(day)
    # Today: the people and teams as they are now.
    current = User.objects.values_list("pk", "reports_to_id", "team_id", "role")
    people = {pk: (boss, team, role) for pk, boss, team, role in current}
    team_parents = dict(Team.objects.values_list("pk", "parent_id"))
    record(today)

    rows = []
    for pk, spans in timeline.items():
        if pk not in people:
            continue  # deleted people leave no placements (their records went with them)
        for index, (start, (path, boss, team, team_path, role)) in enumerate(spans):
            until = spans[index + 1][0] if index + 1 < len(spans) else FOREVER
            rows.append(
                Placement(
                    user_id=pk,
                    valid_from=BEGINNING if index == 0 else start,
                    valid_until=until,
                    path=path,
                    reports_to_id=boss,
                    team_id=team,
                    team_path=team_path,
                    role=role,
                )
            )
    Placement.objects.all().delete()
    Placement.objects.bulk_create(rows, batch_size=1000)
    state.marker = marker
    state.rebuilt_at = timezone.now()
    state.save()
    logger.info("rebuilt %d placements from the organisation's history", len(rows))
    return len(rows)
