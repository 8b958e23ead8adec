"""NPS and CSAT arithmetic (SPEC section 7), by hand and against the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients.models import SurveyResponse
from clients.survey_metrics import (
    CsatFigures,
    Figures,
    NpsFigures,
    csat,
    csat_mean,
    figures,
    is_low_score,
    nps,
    nps_score,
    percent,
    response_scores,
)
from clients.tests import survey_helpers as h
from clients.tests.factories import ContactFactory


# ------------------------------------------------------------- pure arithmetic
@pytest.mark.parametrize(
    ("promoters", "detractors", "answers", "expected"),
    [
        (0, 0, 0, None),  # no answers: no NPS, not 0
        (10, 0, 10, Decimal("100.0")),
        (0, 10, 10, Decimal("-100.0")),
        (5, 2, 10, Decimal("30.0")),  # 50 % − 20 %
        (1, 1, 3, Decimal("0.0")),
        (2, 1, 3, Decimal("33.3")),  # 66.67 % − 33.33 %
        (1, 0, 6, Decimal("16.7")),  # 16.666… rounds to nearest
        (0, 1, 8, Decimal("-12.5")),
        (1, 0, 80, Decimal("1.3")),  # 1.25: a tie rounds half up
        (3, 0, 80, Decimal("3.8")),  # 3.75 → 3.8
    ],
)
def test_nps_by_hand(promoters, detractors, answers, expected):
    assert nps_score(answers, promoters, detractors) == expected


def test_passives_and_shares():
    figures_ = NpsFigures(promoters=6, detractors=3, answers=12)
    assert figures_.passives == 3
    assert (figures_.promoter_share, figures_.detractor_share) == (Decimal("50.0"), Decimal("25.0"))
    assert figures_.score == Decimal("25.0")


def test_csat_by_hand():
    result = CsatFigures(answers=4, total=Decimal("15.34"), satisfied=3)
    assert result.mean == Decimal("3.84")  # 3.835: a tie, half to even
    assert csat_mean(8, 33) == Decimal("4.13")  # 4.125: half up
    assert csat_mean(8, 35) == Decimal("4.38")  # 4.375: half up
    assert result.satisfied_share == Decimal("75.0")
    assert CsatFigures().mean is None and CsatFigures().satisfied_share is None
    assert percent(1, 3) == Decimal("33.3")


def test_a_response_stores_its_nps_and_the_mean_of_its_ratings():
    assert response_scores(7, [5, 4, 4]) == (7, Decimal("4.33"))
    assert response_scores(None, [1, 2]) == (None, Decimal("1.50"))
    assert response_scores(10, []) == (10, None)


@pytest.mark.parametrize(
    ("nps_answer", "ratings", "low"),
    [
        (6, [5, 5], True),  # a detractor
        (7, [5, 5], False),
        (None, [3, 2], True),  # a rating of 2
        (None, [3, 3], False),
        (10, [1], True),
        (0, [], True),
        (None, [], False),
    ],
)
def test_what_counts_as_a_low_score(nps_answer, ratings, low):
    assert is_low_score(nps_answer, ratings) is low


@given(scores=st.lists(st.integers(min_value=0, max_value=10), max_size=60))
def test_nps_is_promoter_share_minus_detractor_share(scores):
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    value = nps_score(len(scores), promoters, detractors)
    if not scores:
        assert value is None
        return
    exact = Decimal(100) * promoters / len(scores) - Decimal(100) * detractors / len(scores)
    assert abs(value - exact) <= Decimal("0.05")
    assert Decimal(-100) <= value <= Decimal(100)


@given(
    a=st.tuples(*[st.integers(min_value=0, max_value=50)] * 3),
    b=st.tuples(*[st.integers(min_value=0, max_value=50)] * 3),
)
def test_figures_add_up_like_the_rows_they_come_from(a, b):
    """Teams are sums of people: adding figures equals counting the union."""

    def make(p, d, rest):
        return Figures(
            responses=p + d + rest,
            nps=NpsFigures(p, d, p + d + rest),
            csat=CsatFigures(rest, Decimal(rest * 4), rest),
            invited=p + d + rest + 1,
            answered=p + d + rest,
        )

    total = make(*a) + make(*b)
    assert total.nps == NpsFigures(a[0] + b[0], a[1] + b[1], sum(a) + sum(b))
    assert total.invited == sum(a) + sum(b) + 2
    assert total.csat.total == Decimal((a[2] + b[2]) * 4)


# ------------------------------------------------------------------ in SQL
@pytest.mark.django_db
def test_nps_and_csat_over_stored_responses(book):
    """Ten answers by hand: 4 promoters, 3 passives, 3 detractors → NPS 10."""
    camp = h.campaign("quarterly-satisfaction")
    contacts = [ContactFactory(client=book.clients["rep"]) for _i in range(10)]
    plan = [
        (10, [5, 5, 5]),
        (9, [5, 4, 4]),
        (9, [4, 4, 4]),
        (10, [5, 5, 4]),
        (8, [4, 3, 4]),
        (7, [3, 3, 3]),
        (8, [4, 4, 5]),
        (6, [2, 3, 3]),
        (3, [1, 2, 2]),
        (0, [1, 1, 1]),
    ]
    for contact, (score, ratings) in zip(contacts, plan, strict=True):
        h.answer(h.invitation(camp, contact), nps=score, ratings=ratings)
    qs = SurveyResponse.objects.all()
    assert nps(qs) == NpsFigures(promoters=4, detractors=3, answers=10)
    assert nps(qs).score == Decimal("10.0")
    # per-response means: 5, 4.33, 4, 4.67, 3.67, 3, 4.33, 2.67, 1.67, 1 → sum 34.34
    result = csat(qs)
    assert result.answers == 10
    assert result.total == Decimal("34.34")
    assert result.mean == Decimal("3.43")
    assert result.satisfied == 5  # 5, 4.33, 4, 4.67, 4.33
    assert result.satisfied_share == Decimal("50.0")
    assert figures(qs.filter(nps_score__gte=9)).nps.score == Decimal("100.0")
    assert nps(qs.none()).score is None
