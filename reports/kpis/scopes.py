"""Whose numbers: a person, a person's line, a team subtree or the company.

A scope is resolved through the reporting tree *as it was on each day*
(``reports.kpis.tree``): a team's figures for March are what the people who
were in the team in March did then. Which scopes a user may ask for follows
the visibility rule: the director any; everyone else their own line (themselves
and everyone below them) and the teams they lead with the teams below; support
staff also the people and teams of the region they are attached to. Asking for
anything else is answered like a record one may not see (404), the company
figures by anyone but the director with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import CharField, Count, Exists, IntegerField, OuterRef, Q, Value
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team, User
from reports.kpis import tree
from reports.models import Placement

if TYPE_CHECKING:
    from reports.kpis.periods import Period


class ScopeKind(models.TextChoices):
    PERSON = "person", _("Person")
    LINE = "line", _("Person and everyone below")
    TEAM = "team", _("Team")
    COMPANY = "company", _("Company")


@dataclass(frozen=True)
class Scope:
    """Whose records a number counts.

    - ``person``: what one person owns (``id`` is the user's id);
    - ``line``: the person and everyone who reported to them, on each day;
    - ``team``: everyone in the team or a team below it, on each day
      (``id`` is the team's id);
    - ``company``: everyone.

    Make one with ``Scope.person(user)``, ``Scope.line(user)``,
    ``Scope.team(team)``, ``Scope.company()`` — or, for a request, with
    ``resolve_scope(viewer, kind, id)``, which also checks the viewer may ask.
    Building a line or team scope makes sure the tree history is current.
    """

    kind: str
    id: int | None = None
    label: str = ""

    # ------------------------------------------------------------ constructors
    @classmethod
    def person(cls, user: User) -> Scope:
        return cls(ScopeKind.PERSON, user.pk, str(user))

    @classmethod
    def line(cls, user: User) -> Scope:
        tree.ensure_fresh()
        return cls(ScopeKind.LINE, user.pk, gettext("%(name)s and team") % {"name": user})

    @classmethod
    def team(cls, team: Team) -> Scope:
        tree.ensure_fresh()
        return cls(ScopeKind.TEAM, team.pk, team.name)

    @classmethod
    def company(cls) -> Scope:
        return cls(ScopeKind.COMPANY, None, gettext("Company"))

    # ------------------------------------------------------------- predicates
    @property
    def uses_tree(self) -> bool:
        """Whether membership depends on the day (line and team scopes)."""
        return self.kind in (ScopeKind.LINE, ScopeKind.TEAM)

    @property
    def key(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"

    def placed_q(self) -> Q:
        """The condition on a placed row (``Placement``, ``DailyFact``, ``PipelineSnapshot``)."""
        if self.kind == ScopeKind.COMPANY:
            return Q()
        if self.kind == ScopeKind.PERSON:
            return Q(user_id=self.id)
        field = "path" if self.kind == ScopeKind.LINE else "team_path"
        return Q(**{f"{field}__startswith": f"{self.id}."}) | Q(
            **{f"{field}__contains": f".{self.id}."}
        )

    def placed_sql(self, alias: str, person: str) -> tuple[str, list[Any]]:
        """The same condition in SQL on placement alias ``alias`` (``person``: the user column)."""
        if self.kind == ScopeKind.COMPANY:
            return "1 = 1", []
        if self.kind == ScopeKind.PERSON:
            return f"{person} = %s", [self.id]
        column = f"{alias}.path" if self.kind == ScopeKind.LINE else f"{alias}.team_path"
        return f"({column} LIKE %s OR {column} LIKE %s)", [f"{self.id}.%", f"%.{self.id}.%"]

    def rollup_q(self) -> Q:
        """``placed_q`` for the rollup's rows, which are indexed by ``(user, day)``.

        A path pattern (``%.12.%``) can use no index, so a line's or a team's
        year of rows was found by testing every row of the year. Naming everyone
        ever in the scope as well lets the database read just their rows by the
        index; the path still decides which of those days count.
        """
        if not self.uses_tree:
            return self.placed_q()
        return self.placed_q() & Q(user_id__in=self.members_ever())

    def members_ever(self) -> models.QuerySet[Any]:
        """Ids of everyone who was ever in a line or team scope (to narrow big scans)."""
        return Placement.objects.filter(self.placed_q()).values("user_id")


def in_scope(scope: Scope, person: str, day: Any, *, within: Period | None = None) -> Q:
    """The condition "the record's ``person`` was in ``scope`` on ``day``".

    ``person`` names the user field (or annotation) of the queryset being
    filtered; ``day`` is the record's local day: a field name, a ``date``, or
    an expression built on ``OuterRef`` (e.g. ``local_date(OuterRef("start_at"))``).
    ``within``: a period every record's day lies in (the caller filters by it).
    Whoever was in the scope for all of it is in on any of its days, so only
    the records of people who joined or left during the period have their day
    checked — that check, a time-zone conversion per record against the
    placements, was half the cost of a region's month of stage changes.
    """
    if scope.kind == ScopeKind.COMPANY:
        return Q()
    if scope.kind == ScopeKind.PERSON:
        return Q(**{person: scope.id})
    if isinstance(day, date):
        # One day for every record: the people placed in the scope that day, an
        # uncorrelated list the database reads once (not a probe per record).
        return Q(
            **{
                f"{person}__in": Placement.objects.filter(
                    scope.placed_q(), valid_from__lte=day, valid_until__gt=day
                ).values("user_id")
            }
        )
    if isinstance(day, str):
        day = OuterRef(day)
    placed = Q(
        Exists(
            Placement.objects.filter(
                scope.placed_q(),
                user_id=OuterRef(person),
                valid_from__lte=day,
                valid_until__gt=day,
            )
        )
    )
    if within is not None:
        throughout = Placement.objects.filter(
            scope.placed_q(), valid_from__lte=within.start, valid_until__gte=within.end
        ).values("user_id")
        placed = Q(**{f"{person}__in": throughout}) | placed
    # The first condition is implied by the second; it lets the database narrow
    # to the records of anyone ever in the scope (an index) before checking days.
    return Q(**{f"{person}__in": scope.members_ever()}) & placed


def client_in_scope(scope: Scope, day: date) -> Q:
    """The condition "the client's account manager, else its owner, was in ``scope``
    on ``day``" (how cadence, key accounts and RFM count a client).

    Written as two conditions on the two columns rather than one on
    ``COALESCE(account_manager, owner)``, so the database can find a team's
    clients by the columns' indexes instead of computing it for every client.
    """
    if scope.kind == ScopeKind.COMPANY:
        return Q()
    return in_scope(scope, "account_manager", day) | (
        Q(account_manager__isnull=True) & in_scope(scope, "owner", day)
    )


# ----------------------------------------------------------------- who may ask
def _led_teams(viewer: User) -> list[Team]:
    """The teams ``viewer`` manages, read once per request (cached on the user object,
    like its visibility scope): the default scope, the picker and every scope check
    ask for them."""
    cache = viewer.__dict__
    if "_led_teams" not in cache:
        cache["_led_teams"] = list(
            Team.objects.filter(manager=viewer).only("pk", "name", "path").order_by("path")
        )
    return cache["_led_teams"]


def _led_team_paths(viewer: User) -> list[str]:
    paths = [team.path for team in _led_teams(viewer)]
    if viewer.role == Role.SUPPORT and viewer.region is not None:
        paths.append(viewer.region.path)
    return paths


def may_view(viewer: User, scope: Scope) -> bool:
    """Whether ``viewer`` may see the figures of ``scope`` (see the module docstring)."""
    if not viewer.is_authenticated or not viewer.is_active:
        return False
    if viewer.sees_everything:
        return True
    if scope.kind == ScopeKind.COMPANY:
        return False
    if scope.kind in (ScopeKind.PERSON, ScopeKind.LINE):
        return scope.id in viewer.visibility_scope.user_ids
    team_path = Team.objects.filter(pk=scope.id).values_list("path", flat=True).first()
    return team_path is not None and any(team_path.startswith(p) for p in _led_team_paths(viewer))


def resolve_scope(viewer: User, kind: str, pk: int | None = None) -> Scope:
    """The scope a request asks for, or 404/403 when the viewer may not ask for it.

    A person or team outside the viewer's part of the organisation reads as
    unknown (404), like a record they may not see; the company's figures are
    the director's (403 for anyone else).
    """
    if kind == ScopeKind.COMPANY:
        if not (viewer.is_authenticated and viewer.sees_everything):
            raise PermissionDenied
        return Scope.company()
    if kind in (ScopeKind.PERSON, ScopeKind.LINE):
        person = User.objects.filter(pk=pk).first() if pk is not None else None
        if person is None:
            raise Http404("No such person.")
        scope = Scope(kind, person.pk, str(person))
        if not may_view(viewer, scope):
            raise Http404("No such person.")
        return Scope.person(person) if kind == ScopeKind.PERSON else Scope.line(person)
    if kind == ScopeKind.TEAM:
        team = Team.objects.filter(pk=pk).first() if pk is not None else None
        if team is None or not may_view(viewer, Scope(kind, team.pk, team.name)):
            raise Http404("No such team.")
        return Scope.team(team)
    raise Http404("No such scope.")


def default_scope(viewer: User) -> Scope:
    """What a report shows first.

    - the director: the company;
    - support staff: their region (their own line is only themselves);
    - someone who leads a team (a manager's region, an account manager's team),
      with any other team they lead inside it: that team, whose revenue target
      is the one they answer for — a line has no target, so a manager opening
      "Team attainment" on their line saw a dash;
    - someone nobody reports to: themselves (the same records as their line,
      labelled as what it is);
    - else their line.
    """
    if viewer.sees_everything:
        return Scope.company()
    if viewer.role == Role.SUPPORT and viewer.region is not None:
        return Scope.team(viewer.region)
    led = _led_teams(viewer)
    tops = [t for t in led if not any(t.path.startswith(o.path) for o in led if o is not t)]
    if len(tops) == 1:
        return Scope.team(tops[0])
    if viewer.visibility_scope.line_ids <= {viewer.pk}:
        return Scope.person(viewer)
    return Scope.line(viewer)


def scopes_for(viewer: User) -> list[Scope]:
    """Every scope ``viewer`` may pick: company, their teams, their line and its people.

    Two queries (teams, people); for the scope picker of dashboards and the API.
    """
    if not viewer.is_authenticated or not viewer.is_active:
        return []
    scopes: list[Scope] = []
    if viewer.sees_everything:
        scopes.append(Scope(ScopeKind.COMPANY, None, gettext("Company")))
        teams = Team.objects.all()
        people = User.objects.all()
    else:
        paths = _led_team_paths(viewer)
        condition = Q(pk__in=[])
        for path in paths:
            condition |= Q(path__startswith=path)
        teams = Team.objects.filter(condition)
        people = User.objects.filter(pk__in=sorted(viewer.visibility_scope.user_ids))
    # Teams and people in one query (a UNION): the picker is on every dashboard.
    text = CharField()
    team_rows = teams.values_list(
        Value("t", output_field=text),
        "pk",
        "path",
        "name",
        Value("", output_field=text),
        Value("", output_field=text),
        Value(0, output_field=IntegerField()),
    )
    people_rows = (
        people.filter(is_active=True)
        .annotate(
            direct_reports_count=Count("direct_reports", filter=Q(direct_reports__is_active=True))
        )
        .values_list(
            Value("p", output_field=text),
            "pk",
            "path",
            "first_name",
            "last_name",
            "username",
            "direct_reports_count",
        )
    )
    # (No ORDER BY inside a compound statement: SQLite refuses it; sorted here.)
    rows = sorted(
        team_rows.order_by().union(people_rows.order_by(), all=True),
        key=lambda r: (r[0] != "t", r[2], r[1]),
    )
    for kind, pk, _path, first, last, username, reports in rows:
        if kind == "t":
            scopes.append(Scope(ScopeKind.TEAM, pk, first))
            continue
        name = User(first_name=first, last_name=last, username=username).__str__()
        if pk == viewer.pk or reports:
            scopes.append(Scope(ScopeKind.LINE, pk, gettext("%(name)s and team") % {"name": name}))
        scopes.append(Scope(ScopeKind.PERSON, pk, name))
    return scopes
