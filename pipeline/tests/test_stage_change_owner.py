"""``DealStageChange.owner``: a copy of the deal's owner on every stage change.

Stage conversion reads a team's moves by this copy, so it must always be the
deal's owner — after a move, a reassignment, or a change written directly.
"""

from __future__ import annotations

import pytest

from pipeline.models import Deal, DealStageChange
from pipeline.services import deals as services
from pipeline.tests.factories import DealFactory, stage
from reports import kpis
from reports.kpis import Period, Scope

pytestmark = pytest.mark.django_db


def give_to(deal: Deal, owner, *, by) -> None:
    services.deal_update(by=by, deal=deal, expected_version=deal.version, owner=owner)


def owners(deal: Deal) -> set[int]:
    return set(deal.stage_changes.values_list("owner_id", flat=True))


def test_every_move_carries_the_deals_owner(org):
    deal = DealFactory(owner=org.rep)
    services.deal_move(by=org.rep, deal=deal, stage=stage("needs_analysis"), expected_version=None)
    assert deal.stage_changes.count() == 2
    assert owners(deal) == {org.rep.pk}


def test_a_change_written_without_an_owner_takes_the_deals(org):
    deal = DealFactory(owner=org.rep)
    change = DealStageChange.objects.create(
        deal=deal,
        to_stage=stage("proposal"),
        changed_at=deal.stage_changed_at,
        amount=deal.amount,
        probability=50,
    )
    assert change.owner_id == org.rep.pk


def test_a_reassigned_deal_takes_its_history_along(org):
    deal = DealFactory(owner=org.rep)
    other = DealFactory(owner=org.rep)
    services.deal_move(by=org.rep, deal=deal, stage=stage("needs_analysis"), expected_version=None)
    deal.refresh_from_db()
    give_to(deal, org.peer_rep, by=org.manager)
    assert owners(deal) == {org.peer_rep.pk}
    assert owners(other) == {org.rep.pk}  # only that deal's changes


def test_saving_a_deal_without_a_new_owner_rewrites_nothing(org, django_assert_num_queries):
    deal = DealFactory(owner=org.rep)
    deal = Deal.objects.get(pk=deal.pk)
    deal.title = "Renamed"
    with django_assert_num_queries(2):  # the deal and its history row; no change rewritten
        deal.save(update_fields=["title"])


def test_stage_conversion_counts_a_reassigned_deal_for_its_new_owner(org):
    deal = DealFactory(owner=org.rep)
    month = Period.containing("month", deal.stage_changed_at.date())
    assert kpis.stage_conversion(Scope.person(org.rep), month).steps[0].entered == 1
    deal.refresh_from_db()
    give_to(deal, org.peer_rep, by=org.manager)
    steps = {s.code: s for s in kpis.stage_conversion(Scope.person(org.rep), month).steps}
    assert steps["first_contact"].entered == 0
    steps = {s.code: s for s in kpis.stage_conversion(Scope.person(org.peer_rep), month).steps}
    assert steps["first_contact"].entered == 1


def test_only_a_written_owner_moves_the_history(org):
    deal = Deal.objects.get(pk=DealFactory(owner=org.rep).pk)
    deal.owner = org.peer_rep
    deal.save(update_fields=["title"])  # the owner is not written: nor is its copy
    assert owners(deal) == {org.rep.pk}
    deal.save(update_fields=["owner"])
    assert owners(deal) == {org.peer_rep.pk}
