"""``DealStageChange.moved_on_at``: when the deal moved on from a stage it entered.

Stage conversion counts it, so it must always say what the stage history
says: the first later move to a further open stage, or to won; empty while the
deal has not moved on (moving back or losing is not moving on).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pipeline.models import DealStageChange, Stage
from pipeline.services import deals as services
from pipeline.tests.factories import DealFactory, stage

pytestmark = pytest.mark.django_db


def expected_moved_on(deal_ids: list[int] | None = None) -> dict[int, datetime | None]:
    """The definition, in Python, from the stored history: change id → when it moved on."""
    stages = {s.pk: s for s in Stage.objects.all()}
    changes = DealStageChange.objects.order_by("deal_id", "changed_at", "pk")
    if deal_ids is not None:
        changes = changes.filter(deal_id__in=deal_ids)
    by_deal: dict[int, list[DealStageChange]] = {}
    for change in changes:
        by_deal.setdefault(change.deal_id, []).append(change)
    out: dict[int, datetime | None] = {}
    for history in by_deal.values():
        for i, change in enumerate(history):
            entered = stages[change.to_stage_id]
            out[change.pk] = None
            if entered.kind != Stage.Kind.OPEN:
                continue
            for later in history[i + 1 :]:
                to = stages[later.to_stage_id]
                if to.kind == Stage.Kind.WON or (
                    to.kind == Stage.Kind.OPEN and to.order > entered.order
                ):
                    out[change.pk] = later.changed_at
                    break
    return out


def stored_moved_on(deal_ids: list[int] | None = None) -> dict[int, datetime | None]:
    changes = DealStageChange.objects.all()
    if deal_ids is not None:
        changes = changes.filter(deal_id__in=deal_ids)
    return dict(changes.values_list("pk", "moved_on_at"))


def _codes(deal) -> list[tuple[str, bool]]:
    return [
        (code, moved is not None)
        for code, moved in deal.stage_changes.order_by("changed_at", "pk").values_list(
            "to_stage__code", "moved_on_at"
        )
    ]


def test_moving_forward_or_winning_stamps_the_stage_left_and_moving_back_does_not(org):
    deal = DealFactory(owner=org.rep)  # first contact
    deal = services.deal_move(
        by=org.rep, deal=deal, stage=stage("needs_analysis"), expected_version=deal.version
    )
    assert _codes(deal) == [("first_contact", True), ("needs_analysis", False)]

    deal = services.deal_move(
        by=org.rep, deal=deal, stage=stage("first_contact"), expected_version=deal.version
    )
    assert _codes(deal) == [
        ("first_contact", True),
        ("needs_analysis", False),  # moved back: not moving on
        ("first_contact", False),
    ]

    deal = services.deal_mark_won(
        by=org.rep,
        deal=deal,
        closed_on=timezone.localdate(),
        amount=Decimal("1000"),
        expected_version=deal.version,
    )
    assert _codes(deal) == [
        ("first_contact", True),
        ("needs_analysis", True),  # won later: it moved on after all
        ("first_contact", True),
        ("won", False),
    ]
    won_at = deal.stage_changes.get(to_stage__code="won").changed_at
    second = deal.stage_changes.get(to_stage__code="needs_analysis")
    assert second.moved_on_at == won_at


def test_a_lost_deal_did_not_move_on(org):
    deal = DealFactory(owner=org.rep, stage=stage("proposal"))
    deal = services.deal_mark_lost(
        by=org.rep, deal=deal, reason="price", expected_version=deal.version
    )
    assert _codes(deal) == [("proposal", False), ("lost", False)]


def test_a_move_recorded_out_of_order_updates_the_earlier_entries(org):
    """Imported or back-dated history: the later move can be saved first."""
    deal = DealFactory(owner=org.rep)
    start = deal.stage_changes.get().changed_at
    proposal = DealStageChange.objects.create(
        deal=deal,
        from_stage=stage("first_contact"),
        to_stage=stage("proposal"),
        changed_at=start + timedelta(days=10),
        amount=deal.amount,
        probability=50,
    )
    analysis = DealStageChange.objects.create(
        deal=deal,
        from_stage=stage("first_contact"),
        to_stage=stage("needs_analysis"),
        changed_at=start + timedelta(days=5),
        amount=deal.amount,
        probability=25,
    )
    assert analysis.moved_on_at == proposal.changed_at  # the saved instance says so too
    assert stored_moved_on([deal.pk]) == expected_moved_on([deal.pk])
    assert deal.stage_changes.get(to_stage__code="first_contact").moved_on_at == (
        analysis.changed_at
    )

    analysis.delete()
    first = deal.stage_changes.get(to_stage__code="first_contact")
    assert first.moved_on_at == proposal.changed_at


def test_reordering_the_stages_recomputes_what_counts_as_moving_on(org):
    deal = DealFactory(owner=org.rep)
    deal = services.deal_move(
        by=org.rep, deal=deal, stage=stage("needs_analysis"), expected_version=deal.version
    )
    assert _codes(deal) == [("first_contact", True), ("needs_analysis", False)]

    analysis = stage("needs_analysis")
    analysis.order = 5  # now before first contact on the board
    analysis.save()
    assert _codes(deal) == [("first_contact", False), ("needs_analysis", False)]

    analysis.order = 20
    analysis.save()
    assert _codes(deal) == [("first_contact", True), ("needs_analysis", False)]


def test_random_histories_agree_with_the_definition(org):
    rng = random.Random(6)
    codes = ["first_contact", "needs_analysis", "proposal", "negotiation", "won", "lost"]
    stages = {code: stage(code) for code in codes}
    base = timezone.now() - timedelta(days=100)
    deal_ids = []
    for _ in range(25):
        deal = DealFactory(owner=org.rep)
        deal_ids.append(deal.pk)
        for _ in range(rng.randint(1, 6)):
            # Random days, some equal (ties are broken by the order of saving).
            DealStageChange.objects.create(
                deal=deal,
                to_stage=stages[rng.choice(codes)],
                changed_at=base + timedelta(days=rng.randint(0, 8)),
                amount=deal.amount,
                probability=10,
            )
    expected = expected_moved_on(deal_ids)
    assert stored_moved_on(deal_ids) == expected
    assert any(expected.values()) and not all(expected.values())
