"""Who may ask for whose figures, and drill-downs that never leave the viewer's part."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.tests.factories import TeamFactory
from reports import kpis
from reports.kpis import Period, Scope, ScopeKind
from reports.kpis.registry import KPIS, Options
from reports.tests import factories as f
from reports.tests.factories import at

#: persona -> (teams they may ask for, people whose person/line figures they may ask for)
ALLOWED = {
    "manager": ({"east", "east_team"}, {"manager", "am", "rep", "peer_rep", "support"}),
    "am": ({"east_team"}, {"am", "rep", "peer_rep"}),
    "rep": (set(), {"rep"}),
    "peer_rep": (set(), {"peer_rep"}),
    # Support staff read their region's reports.
    "support": ({"east", "east_team"}, {"manager", "am", "rep", "peer_rep", "support"}),
    "peer_manager": ({"north", "north_team"}, {"peer_manager", "peer_am", "outsider"}),
    "peer_am": ({"north_team"}, {"peer_am", "outsider"}),
    "outsider": (set(), {"outsider"}),
}
TEAMS = ("company", "east", "east_team", "north", "north_team")
PEOPLE = (
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


@pytest.mark.parametrize("viewer", sorted(ALLOWED))
def test_scope_matrix(org, viewer):
    user = getattr(org, viewer)
    teams, people = ALLOWED[viewer]
    for name in TEAMS:
        team = getattr(org, name)
        if name in teams:
            assert kpis.resolve_scope(user, ScopeKind.TEAM, team.pk).id == team.pk
        else:
            with pytest.raises(Http404):
                kpis.resolve_scope(user, ScopeKind.TEAM, team.pk)
    for name in PEOPLE:
        person = getattr(org, name)
        for kind in (ScopeKind.PERSON, ScopeKind.LINE):
            if name in people:
                assert kpis.resolve_scope(user, kind, person.pk).id == person.pk
            else:
                with pytest.raises(Http404):
                    kpis.resolve_scope(user, kind, person.pk)
    with pytest.raises(PermissionDenied):
        kpis.resolve_scope(user, ScopeKind.COMPANY)
    listed = kpis.scopes_for(user)
    assert {s.id for s in listed if s.kind == ScopeKind.TEAM} == {getattr(org, t).pk for t in teams}
    assert {s.id for s in listed if s.kind == ScopeKind.PERSON} == {
        getattr(org, p).pk for p in people
    }
    assert kpis.default_scope(user) == DEFAULT[viewer](org)


#: what each persona's reports show first
DEFAULT = {
    "manager": lambda org: Scope.team(org.east),  # the region they lead
    "am": lambda org: Scope.team(org.east_team),
    "rep": lambda org: Scope.person(org.rep),  # nobody reports to them
    "peer_rep": lambda org: Scope.person(org.peer_rep),
    "support": lambda org: Scope.team(org.east),  # the region they are attached to
    "peer_manager": lambda org: Scope.team(org.north),
    "peer_am": lambda org: Scope.team(org.north_team),
    "outsider": lambda org: Scope.person(org.outsider),
}


def test_a_leader_of_teams_side_by_side_or_of_none_starts_on_their_line(org):
    """Two teams neither inside the other have no one team to show first; someone
    with people below them and no team of their own sees their line."""
    second = TeamFactory(name="East Team 2", parent=org.east, manager=org.am)
    assert kpis.default_scope(type(org.am).objects.get(pk=org.am.pk)) == Scope.line(org.am)
    second.manager = None
    second.save(update_fields=["manager"])
    org.east_team.manager = None
    org.east_team.save(update_fields=["manager"])
    assert kpis.default_scope(type(org.am).objects.get(pk=org.am.pk)) == Scope.line(org.am)
    # a team inside the one they lead does not compete with it
    TeamFactory(name="East desk", parent=org.east_team, manager=org.manager)
    manager = type(org.manager).objects.get(pk=org.manager.pk)
    assert kpis.default_scope(manager) == Scope.team(org.east)


def test_the_director_may_ask_for_anything(org):
    assert kpis.resolve_scope(org.director, ScopeKind.COMPANY) == Scope.company()
    for name in TEAMS:
        assert kpis.resolve_scope(org.director, ScopeKind.TEAM, getattr(org, name).pk)
    assert kpis.resolve_scope(org.director, ScopeKind.PERSON, org.outsider.pk)
    assert kpis.default_scope(org.director) == Scope.company()
    assert kpis.scopes_for(org.director)[0] == Scope.company()
    with pytest.raises(Http404):
        kpis.resolve_scope(org.director, ScopeKind.PERSON, 999999)
    with pytest.raises(Http404):
        kpis.resolve_scope(org.director, "planet", 1)


@pytest.fixture
def both_regions(past_org):
    """The same kinds of records in East and North, last month."""
    org = past_org
    day = Period.containing("month").previous().start + timedelta(days=9)
    for person in (org.rep, org.am, org.outsider, org.peer_am):
        client = f.client(person, account_manager=person, cadence="weekly")
        f.activity(person, client_=client, type="visit", when=at(day))
        f.activity(person, client_=client, type="call", when=at(day))
        won = f.deal(
            person,
            client_=client,
            created=at(day - timedelta(days=30)),
            path=[("negotiation", at(day - timedelta(days=20))), ("won", at(day))],
        )
        f.deal(person, client_=client, created=at(day), path=[("lost", at(day))])
        f.deal(person, client_=client, created=at(day), path=[("proposal", at(day))])
        f.contract(
            person,
            deal_=won,
            start=day,
            end=day + timedelta(days=3),
            signed_on=day,
            status="renewed",
        )
        f.complaint(person, client_=client, received=at(day))
        f.survey_response(client, submitted=at(day), nps=9, csat="4")
    return org, Period.containing("month", day)


def test_a_manager_s_drill_downs_never_include_another_region(both_regions):
    org, period = both_regions
    east_people = {org.manager.pk, org.am.pk, org.rep.pk, org.peer_rep.pk, org.support.pk}
    seen = 0
    for scope in (Scope.team(org.east), Scope.line(org.manager), Scope.team(org.east_team)):
        for name, kpi in KPIS.items():
            if kpi.records is None:
                continue
            for part in (None, *kpi.parts):
                opts = Options(as_of=period.last, part=part, stage=f.stage("proposal").pk)
                records = list(kpi.records(scope, period, org.manager, opts))
                for record in records:
                    owner = getattr(record, "owner_id", None)
                    if owner is None:  # a client or a survey answer: whose client it is
                        client = getattr(record, "client", record)
                        owner = client.account_manager_id or client.owner_id
                    assert owner in east_people, (name, part, record)
                seen += len(records)
        # The numbers themselves are East's only.
        totals = kpis.totals(scope, period)
        assert totals.deals_won == 2 and totals.act_visit == 2
        assert kpis.nps(scope, period).responses == 2
    assert seen > 40
    # The company's figures are the sum of both regions; only the director sees them.
    assert kpis.totals(Scope.company(), period).deals_won == 4


def test_a_rep_cannot_ask_for_a_peer_s_figures(org):
    with pytest.raises(Http404):
        kpis.resolve_scope(org.rep, ScopeKind.PERSON, org.peer_rep.pk)
    with pytest.raises(Http404):
        kpis.resolve_scope(org.rep, ScopeKind.LINE, org.am.pk)
    assert not kpis.may_view(org.rep, Scope.person(org.peer_rep))
    assert kpis.may_view(org.rep, Scope.person(org.rep))


def test_periods_are_local_days():
    jan = Period.containing("month", date(2026, 1, 31))
    assert (jan.start, jan.last, jan.days) == (date(2026, 1, 1), date(2026, 1, 31), 31)
    assert jan.local_start.isoformat() == "2026-01-01T00:00:00+08:00"
    week = Period.containing("week", date(2026, 1, 1))  # a Thursday
    assert (week.start, week.last, week.label) == (date(2025, 12, 29), date(2026, 1, 4), "2026-W01")
    assert Period.containing("quarter", date(2026, 11, 27)).label == "2026 Q4"
    assert Period.containing("year", date(2026, 5, 5)).previous().label == "2025"
    custom = Period.custom(date(2026, 2, 1), date(2026, 2, 10))
    assert (custom.days, custom.previous().start) == (10, date(2026, 1, 22))
    assert Period.containing("month", date(2026, 6, 1)).workdays() == 22
    assert Period.containing("month", date(2026, 6, 1)).workdays(until=date(2026, 6, 8)) == 5
    assert date(2026, 1, 31) in jan and date(2026, 2, 1) not in jan
    with pytest.raises(Exception, match="ends before"):
        Period.custom(date(2026, 2, 10), date(2026, 2, 1))
    with pytest.raises(Exception, match="five years"):
        Period.custom(date(2020, 1, 1), date(2026, 1, 1))
