"""Each KPI of SPEC section 7 against a fixture computed by hand.

Every rollup-backed number is checked three ways: live from the records, from
the rollup after rebuilding the days, and as the sum of the records a
drill-down lists for the director.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum
from django.test import override_settings

from accounts import services as account_services
from pipeline.services import deals as deal_services
from reports import kpis, rollups
from reports.kpis import Period, Scope
from reports.tests import factories as f
from reports.tests.factories import at

JAN = Period.containing("month", date(2026, 1, 1))
FEB = Period.containing("month", date(2026, 2, 1))


def both(scope: Scope, period: Period) -> tuple[kpis.Totals, kpis.Totals]:
    """The live totals and, after rolling the period up, the rollup's."""
    live = kpis.totals(scope, period, source="live")
    rollups.rebuild_period(period)
    return live, kpis.totals(scope, period, source="rollup")


# ------------------------------------------------------------------- won revenue
@pytest.fixture
def january(past_org):
    org = past_org
    rep, peer, outsider = org.rep, org.peer_rep, org.outsider

    def won_on(owner, moment, amount, currency="CNY"):
        return f.deal(
            owner,
            created=at(date(2025, 12, 1)),
            path=[("proposal", at(date(2025, 12, 20))), ("won", moment)],
            amount=amount,
            currency=currency,
        )

    deals = {
        "a": won_on(rep, at(date(2026, 1, 10)), "100000"),
        # Won at 23:30 in Shanghai on the last day of January (15:30 UTC): January's.
        "b": won_on(rep, at(date(2026, 1, 31), 23, 30), "200000"),
        # Won at 00:10 on 1 February in Shanghai — still 31 January in UTC: February's.
        "c": won_on(rep, at(date(2026, 2, 1), 0, 10), "400000"),
        "e": won_on(rep, at(date(2026, 1, 20)), "50000", currency="USD"),
        "g": won_on(peer, at(date(2026, 1, 12)), "300000"),
        "h": won_on(outsider, at(date(2026, 1, 8)), "400000"),
    }
    # Lost through the service at 23:30 local on 15 January: closes on the 15th.
    lost = f.deal(rep, created=at(date(2026, 1, 2)))
    with time_machine.travel(at(date(2026, 1, 15), 23, 30), tick=False):
        deal_services.deal_mark_lost(
            by=rep, deal=lost, reason="Budget went elsewhere", expected_version=lost.version
        )
    # Won on 5 January, reopened on the 25th: no longer won, so not counted at all.
    reopened = won_on(rep, at(date(2026, 1, 5)), "700000")
    reopened.refresh_from_db()
    with time_machine.travel(at(date(2026, 1, 25)), tick=False):
        deal_services.deal_reopen(by=rep, deal=reopened, expected_version=reopened.version)
    deals["lost"], deals["reopened"] = lost, reopened
    return org, deals


def test_won_revenue_and_win_rate_follow_close_dates_in_shanghai(january):
    org, deals = january
    expected = {
        # person: CNY amount, won (all currencies), lost, won in other currencies
        Scope.person(org.rep): (Decimal("300000.00"), 3, 1, 1),
        Scope.team(org.east_team): (Decimal("600000.00"), 4, 1, 1),
        Scope.team(org.east): (Decimal("600000.00"), 4, 1, 1),
        Scope.line(org.am): (Decimal("600000.00"), 4, 1, 1),
        Scope.team(org.north): (Decimal("400000.00"), 1, 0, 0),
        Scope.company(): (Decimal("1000000.00"), 5, 1, 1),
    }
    for scope, (amount, won, lost, other) in expected.items():
        for totals in both(scope, JAN):
            assert totals.won_amount == amount, scope
            assert (totals.deals_won, totals.deals_lost) == (won, lost), scope
            assert totals.won_other_currency == other, scope
    rate = kpis.win_rate(Scope.person(org.rep), JAN)
    assert (rate.won, rate.lost, rate.rate, rate.percent) == (
        3,
        1,
        Decimal("0.75"),
        Decimal("75.0"),
    )
    assert kpis.won_revenue(Scope.person(org.rep), FEB, source="live").amount == Decimal("400000")

    records = kpis.won_revenue_records(Scope.person(org.rep), JAN, viewer=org.director)
    assert {d.pk for d in records} == {deals["a"].pk, deals["b"].pk}
    assert records.aggregate(s=Sum("amount"))["s"] == Decimal("300000")
    other = kpis.won_revenue_records(
        Scope.person(org.rep), JAN, viewer=org.director, part="other_currency"
    )
    assert [d.pk for d in other] == [deals["e"].pk]
    lost = kpis.win_rate_records(Scope.person(org.rep), JAN, viewer=org.director, part="lost")
    assert [d.pk for d in lost] == [deals["lost"].pk]


def test_live_figures_follow_a_changed_currency_setting(january):
    """The live SQL is compiled once per period and scope, and again after a setting changes."""
    org, _deals = january
    rep = Scope.person(org.rep)
    assert kpis.won_revenue(rep, JAN, source="live").amount == Decimal("300000")
    with override_settings(DEFAULT_CURRENCY="USD"):
        usd = kpis.won_revenue(rep, JAN, source="live")
        assert (usd.amount, usd.other_currency) == (Decimal("50000"), 2)
    assert kpis.won_revenue(rep, JAN, source="live").amount == Decimal("300000")


def test_activities_count_on_their_local_day(past_org):
    rep = past_org.rep
    f.activity(rep, when=at(date(2026, 1, 31), 23, 30))  # January in Shanghai
    f.activity(rep, when=at(date(2026, 2, 1), 0, 10))  # February (31 Jan in UTC)
    f.activity(rep, when=at(date(2026, 1, 10)), type="follow_up")
    f.activity(rep, when=at(date(2026, 1, 11)), type="visit")
    f.activity(rep, when=at(date(2026, 1, 12)), status="planned")  # not done: not counted
    f.activity(rep, when=at(date(2026, 1, 13)), type="visit", status="cancelled")
    for totals in both(Scope.person(rep), JAN):
        assert (totals.act_call, totals.act_follow_up, totals.act_visit) == (1, 1, 1)
        assert (totals.calls, totals.activities) == (2, 3)
    feb = kpis.totals(Scope.person(rep), FEB, source="live")
    assert feb.act_call == 1
    calls = kpis.activity_records(Scope.person(rep), JAN, viewer=rep, part="calls")
    assert calls.count() == 2


def test_a_team_move_mid_month_splits_the_month_between_the_teams(past_org):
    org = past_org
    march = Period.containing("month", date(2026, 3, 1))
    before = f.deal(
        org.rep,
        created=at(date(2026, 2, 1)),
        path=[("won", at(date(2026, 3, 10)))],
        amount="100000",
    )
    with time_machine.travel(at(date(2026, 3, 15), 10), tick=False):
        account_services.user_update(
            by=org.director, user=org.rep, team=org.north_team, reports_to=org.peer_am
        )
    after = f.deal(
        org.rep,
        created=at(date(2026, 2, 1)),
        path=[("won", at(date(2026, 3, 20)))],
        amount="200000",
    )
    f.activity(org.rep, when=at(date(2026, 3, 14), 18))
    f.activity(org.rep, when=at(date(2026, 3, 15), 9))  # the day of the move: the new team's
    org.rep.refresh_from_db()
    expected = {
        Scope.team(org.east_team): (Decimal("100000.00"), 1),
        Scope.line(org.am): (Decimal("100000.00"), 1),
        Scope.team(org.east): (Decimal("100000.00"), 1),
        Scope.team(org.north_team): (Decimal("200000.00"), 1),
        Scope.line(org.peer_manager): (Decimal("200000.00"), 1),
        Scope.person(org.rep): (Decimal("300000.00"), 2),
        Scope.company(): (Decimal("300000.00"), 2),
    }
    for scope, (amount, calls) in expected.items():
        for totals in both(scope, march):
            assert totals.won_amount == amount, scope
            assert totals.act_call == calls, scope
    # The director's drill-down of East's March lists the deal from before the move...
    east = kpis.won_revenue_records(Scope.team(org.east), march, viewer=org.director)
    assert [d.pk for d in east] == [before.pk]
    # ...the North manager's drill-down of North's lists the one after it.
    north = kpis.won_revenue_records(Scope.team(org.north), march, viewer=org.peer_manager)
    assert [d.pk for d in north] == [after.pk]
    # The rep's deals now follow them to North: East's manager counts March 10 for
    # East but no longer sees the record (visibility is today's).
    assert not kpis.won_revenue_records(Scope.team(org.east), march, viewer=org.manager).exists()
    # Many scopes and periods at once (the targets pages) count the same way.
    pairs = {
        (scope.key, period.label): (scope, period)
        for scope in expected
        for period in (march, Period.custom(date(2026, 3, 1), date(2026, 3, 14)), march.previous())
    }
    many = kpis.won_revenue_many(pairs)
    assert many == {key: kpis.won_revenue(s, p).amount for key, (s, p) in pairs.items()}
    assert many[(Scope.team(org.east).key, march.label)] == Decimal("100000.00")


def test_stage_changes_count_where_their_owner_was_that_day(past_org):
    """Stage conversion over a month with a move in it: the moved rep's changes count
    for the team of each day, everyone else's (in their team all month) as usual."""
    org = past_org
    march = Period.containing("month", date(2026, 3, 1))
    f.deal(org.peer_rep, created=at(date(2026, 3, 2)))  # East all month
    f.deal(org.rep, created=at(date(2026, 3, 10)))  # East on the day
    with time_machine.travel(at(date(2026, 3, 15), 10), tick=False):
        account_services.user_update(
            by=org.director, user=org.rep, team=org.north_team, reports_to=org.peer_am
        )
    f.deal(org.rep, created=at(date(2026, 3, 20)))  # North on the day
    f.deal(org.peer_rep, created=at(date(2026, 4, 1)))  # after the month

    def entered(scope: Scope) -> int:
        steps = {s.code: s for s in kpis.stage_conversion(scope, march).steps}
        return steps["first_contact"].entered

    assert entered(Scope.team(org.east)) == 2
    assert entered(Scope.team(org.north)) == 1
    assert entered(Scope.person(org.rep)) == 2
    assert entered(Scope.company()) == 3
    first = f.stage("first_contact").pk
    east = kpis.stage_conversion_records(
        Scope.team(org.east), march, viewer=org.director, stage_id=first
    )
    assert {d.owner_id for d in east} == {org.peer_rep.pk, org.rep.pk}
    assert east.count() == 2


# ------------------------------------------------------------- care numbers
def test_nps_csat_and_complaint_sla(past_org):
    org = past_org
    april = Period.containing("month", date(2026, 4, 1))
    managed = f.client(org.rep, account_manager=org.am)  # answers count for the AM
    own = f.client(org.rep)  # no AM: for the owner
    for nps, csat in ((10, "4.5"), (9, "5"), (6, "2")):
        f.survey_response(managed, submitted=at(date(2026, 4, 10)), nps=nps, csat=csat)
    f.survey_response(own, submitted=at(date(2026, 4, 11)), nps=7, csat="3.4")
    f.survey_response(own, submitted=at(date(2026, 4, 30), 23, 50), nps=0)
    f.survey_response(own, submitted=at(date(2026, 5, 1), 0, 5), nps=0)  # May
    for totals in both(Scope.person(org.am), april):
        nps = kpis.nps_from(totals)
        assert (nps.responses, nps.promoters, nps.passives, nps.detractors) == (3, 2, 0, 1)
        assert nps.score == Decimal("33.3")
        assert kpis.csat_from(totals).average == Decimal("3.83")
    for totals in both(Scope.person(org.rep), april):
        assert kpis.nps_from(totals).score == Decimal("-50.0")
        assert kpis.csat_from(totals).average == Decimal("3.40")
    team = kpis.nps(Scope.team(org.east_team), april)
    assert (team.responses, team.promoters, team.detractors, team.score) == (5, 2, 2, Decimal("0"))
    detractors = kpis.nps_records(
        Scope.team(org.east_team), april, viewer=org.manager, part="detractors"
    )
    assert sorted(r.nps_score for r in detractors) == [0, 6]

    f.complaint(org.rep, received=at(date(2026, 4, 3)), responded_after=timedelta(hours=2))
    f.complaint(org.rep, received=at(date(2026, 4, 5)), responded_after=timedelta(hours=30))
    f.complaint(org.rep, received=at(date(2026, 4, 30), 23, 50))  # never answered
    f.complaint(org.rep, received=at(date(2026, 5, 1), 0, 30), responded_after=timedelta(hours=1))
    for totals in both(Scope.person(org.rep), april):
        sla = kpis.complaint_sla_from(totals)
        assert (sla.received, sla.in_sla, sla.missed) == (3, 1, 2)
        assert sla.percent == Decimal("33.3")
    missed = kpis.complaint_sla_records(Scope.person(org.rep), april, viewer=org.rep, part="missed")
    assert missed.count() == 2


# ------------------------------------------------------------ visit conversion
def test_visit_conversion_counts_prospects_visited_that_became_a_won_deal(past_org):
    rep = past_org.rep
    may = Period.containing("month", date(2026, 5, 1))
    converted, visited, customer, won_before, planned, called, june = (
        f.client(rep) for _ in range(7)
    )
    f.activity(rep, client_=converted, type="visit", when=at(date(2026, 5, 5)))
    f.deal(
        rep, client_=converted, created=at(date(2026, 5, 6)), path=[("won", at(date(2026, 6, 10)))]
    )
    f.activity(rep, client_=visited, type="visit", when=at(date(2026, 5, 7)))
    f.activity(rep, client_=visited, type="visit", when=at(date(2026, 5, 20)))
    f.deal(
        rep, client_=customer, created=at(date(2026, 1, 6)), path=[("won", at(date(2026, 2, 1)))]
    )
    f.activity(rep, client_=customer, type="visit", when=at(date(2026, 5, 9)))
    f.deal(
        rep, client_=won_before, created=at(date(2026, 4, 6)), path=[("won", at(date(2026, 5, 1)))]
    )
    f.activity(rep, client_=won_before, type="visit", when=at(date(2026, 5, 12)))
    f.activity(rep, client_=planned, type="visit", status="planned", when=at(date(2026, 5, 13)))
    f.activity(rep, client_=called, type="call", when=at(date(2026, 5, 14)))
    f.activity(rep, client_=june, type="visit", when=at(date(2026, 6, 2)))

    result = kpis.visit_conversion(Scope.person(rep), may)
    assert (result.visited, result.converted, result.rate) == (2, 1, Decimal("0.5"))
    records = kpis.visit_conversion_records(Scope.person(rep), may, viewer=rep)
    assert {c.pk for c in records} == {converted.pk, visited.pk}
    won = kpis.visit_conversion_records(Scope.person(rep), may, viewer=rep, part="converted")
    assert [c.pk for c in won] == [converted.pk]
    assert kpis.visit_conversion(Scope.person(past_org.outsider), may).visited == 0


# ---------------------------------------------------------- contract numbers
def test_negotiation_cycle_average_contract_and_renewal_rate(past_org):
    am = past_org.am
    june = Period.containing("month", date(2026, 6, 1))

    def negotiated(entered: date, signed: date, amount: str = "500000", currency: str = "CNY"):
        deal = f.deal(
            am,
            created=at(entered - timedelta(days=30)),
            path=[("negotiation", at(entered, 16)), ("won", at(signed - timedelta(days=1)))],
        )
        return f.contract(
            am,
            deal_=deal,
            amount=amount,
            currency=currency,
            start=signed,
            end=signed + timedelta(days=364),
            signed_on=signed,
        )

    first = negotiated(date(2026, 5, 12), date(2026, 6, 1), "400000")  # 20 days
    negotiated(date(2026, 5, 21), date(2026, 6, 30), "800000")  # 40 days
    negotiated(date(2026, 4, 1), date(2026, 7, 1))  # signed in July
    negotiated(date(2026, 5, 1), date(2026, 6, 15), "90000", currency="USD")  # 45 days
    # A renewal signed in June: a contract, but no negotiation cycle of its own.
    f.contract(
        am,
        deal_=first.deal,
        amount="600000",
        start=date(2027, 6, 1),
        end=date(2028, 5, 31),
        signed_on=date(2026, 6, 20),
        renews=first,
    )
    for totals in both(Scope.person(am), june):
        cycle = kpis.negotiation_cycle_from(totals)
        assert (cycle.contracts, cycle.total_days, cycle.average_days) == (3, 105, Decimal("35.0"))
        average = kpis.average_contract_from(totals)
        assert (average.contracts, average.other_currency) == (4, 1)
        assert (average.total, average.average) == (Decimal("1800000"), Decimal("600000.00"))
    cycles = kpis.negotiation_cycle_records(Scope.team(past_org.east), june, viewer=am)
    assert sorted(c.cycle_days for c in cycles) == [20, 40, 45]

    def ending(status: str, end: date) -> None:
        f.contract(am, start=end - timedelta(days=365), end=end, status=status)

    for _ in range(3):
        ending("renewed", date(2026, 6, 10))
    ending("expired", date(2026, 6, 30))
    ending("terminated", date(2026, 6, 12))  # never ran to its end
    ending("draft", date(2026, 6, 12))
    ending("expired", date(2026, 7, 1))  # July
    for totals in both(Scope.person(am), june):
        rate = kpis.renewal_rate_from(totals)
        assert (rate.ended, rate.renewed, rate.percent) == (4, 3, Decimal("75.0"))
    not_renewed = kpis.renewal_rate_records(
        Scope.team(past_org.east), june, viewer=past_org.manager, part="not_renewed"
    )
    assert [c.status for c in not_renewed] == ["expired"]


def test_an_active_contract_counts_as_ended_from_its_end_day(past_org):
    """The live SQL is compiled once per day: a process running past midnight counts
    the contract ending that day (the nightly job flips its status later)."""
    am = past_org.am
    june = Period.containing("month", date(2026, 6, 1))
    f.contract(am, start=date(2025, 6, 16), end=date(2026, 6, 15))
    with time_machine.travel(at(date(2026, 6, 14), 23, 50), tick=False):
        assert kpis.totals(Scope.person(am), june, source="live").contracts_ended == 0
    with time_machine.travel(at(date(2026, 6, 15), 0, 10), tick=False):
        assert kpis.totals(Scope.person(am), june, source="live").contracts_ended == 1


# ---------------------------------------------------------------- targets
def test_attainment_compares_won_revenue_with_the_same_scope_and_period(past_org):
    org = past_org
    feb = FEB
    f.deal(
        org.rep, created=at(date(2026, 1, 5)), path=[("won", at(date(2026, 2, 3)))], amount="250000"
    )
    f.deal(
        org.am, created=at(date(2026, 1, 5)), path=[("won", at(date(2026, 2, 4)))], amount="150000"
    )
    f.target(period="month", start=feb.start, revenue="1000000", user=org.rep)
    f.target(period="month", start=feb.start, revenue="800000", team=org.east_team)
    f.target(period="month", start=feb.start, revenue="2000000")  # the company's
    f.target(period="quarter", start=date(2026, 1, 1), revenue="500000", user=org.rep)
    rep = kpis.target_attainment(Scope.person(org.rep), feb)
    assert (rep.target, rep.won, rep.percent) == (
        Decimal("1000000"),
        Decimal("250000"),
        Decimal("25.0"),
    )
    team = kpis.target_attainment(Scope.team(org.east_team), feb)
    assert (team.won, team.percent) == (Decimal("400000"), Decimal("50.0"))
    assert kpis.target_attainment(Scope.company(), feb).percent == Decimal("20.0")
    quarter = Period.containing("quarter", date(2026, 2, 1))
    assert kpis.target_attainment(Scope.person(org.rep), quarter).percent == Decimal("50.0")
    # No target for a line, a week or a custom period: nothing to measure against.
    assert kpis.target_attainment(Scope.line(org.am), feb).ratio is None
    assert (
        kpis.target_attainment(Scope.person(org.rep), Period.containing("week", feb.start)).ratio
        is None
    )


def test_activities_against_the_people_s_targets(past_org):
    rep = past_org.rep
    june = Period.containing("month", date(2026, 6, 1))  # 22 working days
    f.target(period="month", start=june.start, user=rep, calls_per_day=20, visits_per_week=10)
    f.target(period="month", start=june.start, user=past_org.peer_rep, calls_per_day=25)
    for day, kind in (
        (1, "call"),
        (2, "call"),
        (3, "call"),
        (4, "follow_up"),
        (5, "visit"),
        (8, "visit"),
    ):
        f.activity(rep, type=kind, when=at(date(2026, 6, day)))
    f.activity(rep, type="call", status="planned", when=at(date(2026, 6, 9)))
    result = kpis.activity_vs_targets(Scope.person(rep), june)
    assert (result.calls, result.visits, result.workdays) == (4, 2, 22)
    assert (result.expected_calls, result.expected_visits) == (Decimal("440.0"), Decimal("44.0"))
    assert result.expected_demos is None
    team = kpis.activity_vs_targets(Scope.team(past_org.east_team), june)
    assert (team.expected_calls, team.people_with_targets) == (Decimal("990.0"), 2)


# ------------------------------------------------------------------ pipeline
def test_funnel_weighted_pipeline_and_stage_conversion(past_org):
    rep = past_org.rep
    today = kpis.Period.containing("day").start
    soon = today + timedelta(days=20)
    later = today + timedelta(days=60)
    f.deal(rep, created=at(date(2026, 7, 1)), amount="100000", expected_close=soon)  # 10%
    f.deal(
        rep,
        created=at(date(2026, 7, 2)),
        path=[("needs_analysis", at(date(2026, 7, 10))), ("negotiation", at(date(2026, 7, 20)))],
        amount="200000",
        expected_close=later,
    )  # 75%
    f.deal(
        rep,
        created=at(date(2026, 7, 3)),
        path=[("proposal", at(date(2026, 7, 11)))],
        amount="300000",
        currency="USD",
        expected_close=soon,
    )
    f.deal(rep, created=at(date(2026, 7, 4)), path=[("lost", at(date(2026, 7, 5)))])
    f.deal(
        rep,
        created=at(date(2026, 7, 5)),
        path=[("needs_analysis", at(date(2026, 7, 6))), ("won", at(date(2026, 7, 30)))],
    )
    funnel = {s.code: s for s in kpis.funnel(Scope.person(rep)).stages}
    assert (funnel["first_contact"].deals, funnel["first_contact"].weighted_amount) == (
        1,
        Decimal("10000.00"),
    )
    assert (funnel["negotiation"].amount, funnel["negotiation"].weighted_amount) == (
        Decimal("200000.00"),
        Decimal("150000.00"),
    )
    assert (funnel["proposal"].deals, funnel["proposal"].amount) == (1, Decimal("0"))
    assert funnel["proposal"].other_currency == 1
    # Today's funnel is the pipeline snapshot of today, rolled up or rebuilt.
    rollups.rebuild_days([today])
    for source in ("live", "rollup"):
        days, _used = kpis.pipeline_snapshot(Scope.person(rep), [today], source=source)
        assert {s: v["deals"] for s, v in days[today].items()} == {
            s.stage_id: s.deals for s in kpis.funnel(Scope.person(rep)).stages if s.deals
        }

    pipeline = kpis.weighted_pipeline(Scope.person(rep), Period.custom(today, later))
    by_month = {m.month: m for m in pipeline.months}
    assert pipeline.weighted_amount == Decimal("160000.00")
    assert by_month[soon.replace(day=1)].other_currency == 1

    july = Period.containing("month", date(2026, 7, 1))
    steps = {s.code: s for s in kpis.stage_conversion(Scope.person(rep), july).steps}
    assert (steps["first_contact"].entered, steps["first_contact"].advanced) == (5, 3)
    assert (steps["needs_analysis"].entered, steps["needs_analysis"].advanced) == (2, 2)
    # Proposal and negotiation each kept their only deal: 0 %, the earlier stage is named.
    assert (steps["proposal"].entered, steps["proposal"].advanced) == (1, 0)
    bottleneck = kpis.stage_conversion(Scope.person(rep), july).bottleneck
    assert bottleneck is not None and bottleneck.code == "proposal"
    stuck = kpis.stage_conversion_records(
        Scope.person(rep), july, viewer=rep, stage_id=f.stage("first_contact").pk
    )
    assert stuck.count() == 5


def test_funnel_and_pipeline_read_together_equal_each_read_alone(past_org):
    """The director's one read of the open deals gives today's funnel and the
    weighted pipeline exactly as ``funnel`` and ``weighted_pipeline`` do."""
    org = past_org
    today = kpis.Period.containing("day").start
    horizon = Period.between(today.replace(day=1), today.replace(day=1) + timedelta(days=95))
    for person, close, amount, currency in (
        (org.rep, today + timedelta(days=3), "100000", "CNY"),
        (org.rep, today + timedelta(days=40), "55555.55", "CNY"),
        (org.peer_rep, today + timedelta(days=40), "70000", "USD"),
        (org.rep, today + timedelta(days=400), "900000", "CNY"),  # beyond the horizon
        (org.outsider, today + timedelta(days=3), "123000", "CNY"),  # another region
    ):
        f.deal(
            person,
            created=at(today - timedelta(days=5)),
            path=[("proposal", at(today - timedelta(days=2)))],
            amount=amount,
            currency=currency,
            expected_close=close,
        )
    f.deal(org.rep, created=at(today - timedelta(days=9)), expected_close=today)
    for scope in (Scope.company(), Scope.team(org.east), Scope.person(org.rep)):
        funnel, pipeline = kpis.funnel_and_pipeline(scope, horizon)
        assert funnel == kpis.funnel(scope)
        assert pipeline == kpis.weighted_pipeline(scope, horizon)
    funnel, pipeline = kpis.funnel_and_pipeline(Scope.team(org.east), horizon)
    assert funnel.deals == 5  # the far one counts today, the other region's does not
    assert sum(m.deals for m in pipeline.months) == 4


def test_a_client_counts_for_its_account_manager_else_its_owner(past_org):
    """Cadence compliance counts each client once: for its account manager when it
    has one (wherever the owner sits), else for its owner."""
    org = past_org
    f.client(org.rep, account_manager=org.am, cadence="monthly")  # East's (the AM)
    f.client(org.rep, cadence="monthly")  # East's (the owner, no AM)
    f.client(org.rep, account_manager=org.peer_am, cadence="monthly")  # North's AM
    f.client(org.outsider, cadence="monthly")  # North's owner
    f.client(org.outsider, account_manager=org.am, cadence="monthly")  # East's AM
    f.client(org.rep, cadence="on_demand")  # no interval: nobody's

    def clients(scope: Scope) -> int:
        return kpis.cadence_compliance(scope).clients

    assert clients(Scope.team(org.east)) == 3
    assert clients(Scope.team(org.north)) == 2
    assert clients(Scope.person(org.am)) == 2
    assert clients(Scope.person(org.rep)) == 1
    assert clients(Scope.company()) == 5


def test_cadence_compliance_as_of_a_day(past_org):
    am = past_org.am
    as_of = date(2026, 8, 31)
    weekly = f.client(am, cadence="weekly")
    monthly = f.client(am, cadence="monthly")
    f.client(am, cadence="quarterly")  # never visited: overdue
    f.client(am, cadence="on_demand")  # no interval: not counted
    f.activity(am, client_=weekly, type="visit", when=at(date(2026, 8, 25)))
    f.activity(am, client_=monthly, type="visit", when=at(date(2026, 7, 15)))
    f.activity(am, client_=monthly, type="visit", when=at(date(2026, 9, 5)))  # after as_of
    result = kpis.cadence_compliance(Scope.person(am), as_of=as_of)
    assert (result.clients, result.on_cadence, result.overdue) == (3, 1, 2)
    overdue = kpis.cadence_records(Scope.person(am), viewer=am, as_of=as_of, part="overdue")
    assert monthly in overdue and weekly not in overdue
    assert kpis.cadence_compliance(Scope.person(am), as_of=date(2026, 9, 6)).on_cadence == 1


def test_cadence_compliance_today_follows_the_visits_as_they_are_logged(past_org):
    """Today's figure reads each client's last visit, which the activity services keep:
    logging, moving and deleting a visit change it as the visit history says."""
    from django.utils import timezone

    from pipeline.services import activities

    am = past_org.am
    weekly = f.client(am, cadence="weekly")
    monthly = f.client(am, cadence="monthly")
    never = f.client(am, cadence="quarterly")

    def log(client, days_ago):
        return activities.activity_create(
            by=am,
            type="visit",
            status="done",
            client=client,
            subject="Visit",
            start_at=timezone.now() - timedelta(days=days_ago),
        )

    def figures(as_of=None):
        result = kpis.cadence_compliance(Scope.person(am), as_of=as_of)
        overdue = kpis.cadence_records(Scope.person(am), viewer=am, as_of=as_of, part="overdue")
        return (result.clients, result.on_cadence), set(overdue.values_list("pk", flat=True))

    old = log(weekly, 20)
    log(monthly, 10)
    assert figures() == ((3, 1), {weekly.pk, never.pk})
    recent = log(weekly, 2)
    assert figures() == ((3, 2), {never.pk})
    activities.activity_delete(by=am, activity=recent)  # the visit before counts again
    assert figures() == ((3, 1), {weekly.pk, never.pk})
    old.refresh_from_db()
    activities.activity_update(
        by=am,
        activity=old,
        expected_version=old.version,
        start_at=timezone.now() - timedelta(days=1),
    )
    today = figures()
    assert today == ((3, 2), {never.pk})
    # Read tomorrow, today is a past day, counted from the visits themselves: the same.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert figures(as_of=timezone.localdate() - timedelta(days=1)) == today


def test_rfm_scores_by_quintile(past_org):
    rep = past_org.rep
    as_of = date(2026, 10, 31)
    clients = []
    for i in range(5):
        c = f.client(rep)
        clients.append(c)
        for n in range(i + 1):  # client i: i + 1 won deals, the last one i months ago
            f.deal(
                rep,
                client_=c,
                created=at(date(2026, 1, 5)),
                path=[("won", at(date(2026, 10 - i - n // 3, 20)))],
                amount=str(100000 * (i + 1)),
            )
    result = kpis.rfm_distribution(Scope.person(rep), as_of=as_of)
    assert result.scored == 5
    assert {(c.recency, c.frequency, c.monetary) for c in result.cells} == {
        (5, 1, 1),
        (4, 2, 2),
        (3, 3, 3),
        (2, 4, 4),
        (1, 5, 5),
    }
    assert result.marginal("recency") == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    best = kpis.rfm_records(Scope.person(rep), viewer=rep, as_of=as_of, recency=5)
    assert [c.pk for c in best] == [clients[0].pk]
    assert kpis.rfm_distribution(Scope.person(past_org.outsider), as_of=as_of).scored == 0
    # The company's are every scored client's: here the rep's five.
    assert kpis.rfm_distribution(Scope.company(), as_of=as_of).cells == result.cells
    champions = kpis.rfm_records(Scope.company(), viewer=past_org.director, as_of=as_of, recency=5)
    assert [c.pk for c in champions] == [clients[0].pk]
