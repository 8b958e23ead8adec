"""Visibility rules of the planning and team records (reports-planning).

Two variations on ``accounts.visibility.OwnedBy``, written as rules so that
``visible_to``, ``get_for_user`` and ``access_for`` keep working unchanged:

- ``LineOnly``: a person's performance reviews, training records and skill
  profile are theirs and their line's above them — *not* their region's
  support staff, who maintain client records, not personnel files;
- ``OwnedOrShared``: a sales plan or a market analysis is its author's (and
  visible up the tree like any owned record); the author may share it with a
  team, and then everyone whose team lies in that team's subtree reads it
  (shared with no team: the whole company). Readers by sharing never write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from accounts.tree import path_pks
from accounts.visibility import OwnedBy, Relation

if TYPE_CHECKING:
    from accounts.models import User


class LineOnly(OwnedBy):
    """Owned through these user fields, seen by the owner and everyone above — nobody else."""

    def __init__(self, *fields: str) -> None:
        super().__init__(*fields, grants=False)

    def filter(self, qs: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
        scope = user.visibility_scope
        if scope.everything:
            return qs
        ids = sorted(scope.line_ids)
        condition = Q()
        for field in self.fields:
            condition |= Q(**{f"{field}__in": ids})
        return qs.filter(condition)

    def relation(self, obj: models.Model, user: User) -> tuple[Relation, set[str]]:
        scope = user.visibility_scope
        if scope.everything:
            return Relation.COMPANY, set()
        if self._owner_ids(obj) & scope.line_ids:
            return Relation.LINE, set()
        return Relation.NONE, set()


def team_line_ids(user: User) -> list[int]:
    """The user's team and the teams above it (cached on the user for the request).

    A record shared with any of these teams is shared with the user: sharing
    with a region reaches every team in it.
    """
    cache = user.__dict__.setdefault("_visibility_parent_ids", {})
    key = ("reports.team_line", user.pk)
    if key not in cache:
        if user.team_id is None:
            cache[key] = []
        else:
            from accounts.models import Team

            path = Team.objects.filter(pk=user.team_id).values_list("path", flat=True).first()
            cache[key] = sorted(path_pks(path)) if path else []
    return cache[key]


class OwnedOrShared(OwnedBy):
    """Owned through ``fields``; also readable by a team it is shared with.

    ``flag`` is the boolean field that shares the record, ``team_field`` the
    team it is shared with (empty: the whole company).
    """

    def __init__(self, *fields: str, team_field: str = "team", flag: str = "shared") -> None:
        super().__init__(*fields, grants=False)
        self.team_field = team_field
        self.flag = flag

    def filter(self, qs: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
        scope = user.visibility_scope
        if scope.everything:
            return qs
        ids = sorted(scope.user_ids)
        condition = Q()
        for field in self.fields:
            condition |= Q(**{f"{field}__in": ids})
        condition |= Q(**{self.flag: True, f"{self.team_field}__isnull": True})
        teams = team_line_ids(user)
        if teams:
            condition |= Q(**{self.flag: True, f"{self.team_field}__in": teams})
        return qs.filter(condition)

    def relation(self, obj: models.Model, user: User) -> tuple[Relation, set[str]]:
        relation, _perms = super().relation(obj, user)
        if relation != Relation.NONE:
            return relation, set()
        if getattr(obj, self.flag):
            team_id = getattr(obj, f"{self.team_field}_id")
            if team_id is None or team_id in team_line_ids(user):
                # read-only: a grant without any object permission
                return Relation.GRANT, set()
        return Relation.NONE, set()
