"""The personas every permission test uses, in one place.

    director ─┬─ manager (East region) ─┬─ am (East Team) ─┬─ rep
              │                          │                   └─ peer_rep
              │                          └─ support (attached to the East region)
              └─ peer_manager (North region) ── peer_am (North Team) ── outsider

``outsider`` is a rep in the other region: inside the company, outside the
East hierarchy, so it must never see East's records (and vice versa).
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Role, Team, User
from accounts.tests.factories import TeamFactory, UserFactory


@dataclass
class Org:
    company: Team
    east: Team
    east_team: Team
    north: Team
    north_team: Team
    director: User
    manager: User
    am: User
    rep: User
    peer_rep: User
    support: User
    peer_manager: User
    peer_am: User
    outsider: User

    def all(self) -> dict[str, User]:
        return {
            name: getattr(self, name)
            for name in (
                "director",
                "manager",
                "am",
                "rep",
                "peer_rep",
                "support",
                "peer_manager",
                "peer_am",
                "outsider",
            )
        }


def build_org() -> Org:
    company = TeamFactory(name="Company", kind=Team.Kind.COMPANY)
    east = TeamFactory(name="East", kind=Team.Kind.REGION, parent=company)
    north = TeamFactory(name="North", kind=Team.Kind.REGION, parent=company)
    east_team = TeamFactory(name="East Team", kind=Team.Kind.TEAM, parent=east)
    north_team = TeamFactory(name="North Team", kind=Team.Kind.TEAM, parent=north)

    director = UserFactory(username="director", role=Role.DIRECTOR, team=company)
    manager = UserFactory(username="manager", role=Role.MANAGER, team=east, reports_to=director)
    am = UserFactory(username="am", role=Role.ACCOUNT_MANAGER, team=east_team, reports_to=manager)
    rep = UserFactory(username="rep", role=Role.REP, team=east_team, reports_to=am)
    peer_rep = UserFactory(username="peer_rep", role=Role.REP, team=east_team, reports_to=am)
    support = UserFactory(username="support", role=Role.SUPPORT, team=east, reports_to=manager)
    peer_manager = UserFactory(
        username="peer_manager", role=Role.MANAGER, team=north, reports_to=director
    )
    peer_am = UserFactory(
        username="peer_am", role=Role.ACCOUNT_MANAGER, team=north_team, reports_to=peer_manager
    )
    outsider = UserFactory(username="outsider", role=Role.REP, team=north_team, reports_to=peer_am)

    for team, boss in (
        (company, director),
        (east, manager),
        (north, peer_manager),
        (east_team, am),
        (north_team, peer_am),
    ):
        team.manager = boss
        team.save(update_fields=["manager"])
    return Org(
        company,
        east,
        east_team,
        north,
        north_team,
        director,
        manager,
        am,
        rep,
        peer_rep,
        support,
        peer_manager,
        peer_am,
        outsider,
    )
