"""Quote arithmetic: each line rounded to the fen (half up), summed, tax on the net.

Hand-computed examples pin the rules; property-based tests (hypothesis) check
they hold for any quantities, prices, discounts and tax rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.services.quotes import FEN, compute_totals, line_amounts, quote_recalculate, to_fen

D = Decimal


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal


# ------------------------------------------------------------- hand-computed
def test_a_worked_example():
    # 3 × 33.33 = 99.99; 10% off = 9.999 → 10.00; net 89.99; 13% tax = 11.6987 → 11.70
    totals = compute_totals([Line(D("3"), D("33.33"), D("10"))], D("13"))
    assert totals.subtotal == D("99.99")
    assert totals.discount_total == D("10.00")
    assert totals.net == D("89.99")
    assert totals.tax_amount == D("11.70")
    assert totals.total == D("101.69")
    assert totals.max_discount_percent == D("10.00")


def test_half_a_fen_rounds_up_not_to_even():
    # Banker's rounding would give 0.00, 0.00 and 0.06 here.
    assert line_amounts(D("0.50"), D("0.01"), D("0")).gross == D("0.01")
    assert line_amounts(D("1"), D("0.05"), D("10")).discount == D("0.01")
    assert compute_totals([Line(D("1"), D("0.50"), D("0"))], D("13")).tax_amount == D("0.07")


def test_lines_are_rounded_before_they_are_summed():
    # Each line 0.33 × 1.01 = 0.3333 → 0.33; three lines 0.99 (not round(0.9999) = 1.00).
    lines = [Line(D("0.33"), D("1.01"), D("0"))] * 3
    assert compute_totals(lines, D("0")).subtotal == D("0.99")


def test_tax_is_charged_on_the_discounted_subtotal():
    lines = [Line(D("10"), D("100.00"), D("20")), Line(D("1"), D("500.00"), D("0"))]
    totals = compute_totals(lines, D("13"))
    assert totals.subtotal == D("1500.00")
    assert totals.discount_total == D("200.00")
    assert totals.tax_amount == D("169.00")  # 13% of 1300, not of 1500
    assert totals.total == D("1469.00")
    assert totals.max_discount_percent == D("20.00")


def test_a_full_discount_and_an_empty_quote_cost_nothing():
    assert compute_totals([Line(D("5"), D("99.99"), D("100"))], D("13")).total == D("0.00")
    empty = compute_totals([], D("13"))
    assert (empty.subtotal, empty.tax_amount, empty.total) == (D("0"), D("0"), D("0"))


# ------------------------------------------------------------------ properties
def money(min_value: str, max_value: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(min_value), max_value=D(max_value), places=2, allow_nan=False)


lines_strategy = st.lists(
    st.builds(
        Line,
        quantity=money("0.01", "100000"),
        unit_price=money("0", "10000000"),
        discount_percent=money("0", "100"),
    ),
    max_size=30,
)
tax_strategy = money("0", "30")


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, tax_rate=tax_strategy)
def test_total_is_subtotal_minus_discount_plus_tax(lines, tax_rate):
    totals = compute_totals(lines, tax_rate)
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_amount
    assert totals.net == totals.subtotal - totals.discount_total
    assert totals.tax_amount == to_fen(totals.net * tax_rate / 100)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, tax_rate=tax_strategy)
def test_every_amount_is_whole_fen_and_never_negative(lines, tax_rate):
    totals = compute_totals(lines, tax_rate)
    for amount in (totals.subtotal, totals.discount_total, totals.tax_amount, totals.total):
        assert amount == amount.quantize(FEN)
        assert amount >= 0
    assert totals.discount_total <= totals.subtotal
    for line in lines:
        amounts = line_amounts(line.quantity, line.unit_price, line.discount_percent)
        assert amounts.gross == to_fen(line.quantity * line.unit_price)
        assert amounts.discount == to_fen(amounts.gross * line.discount_percent / 100)
        assert 0 <= amounts.net <= amounts.gross


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, tax_rate=tax_strategy, data=st.data())
def test_the_order_of_lines_does_not_matter(lines, tax_rate, data):
    shuffled = data.draw(st.permutations(lines))
    assert compute_totals(shuffled, tax_rate) == compute_totals(lines, tax_rate)


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, tax_rate=tax_strategy)
def test_sums_are_sums_of_rounded_lines(lines, tax_rate):
    totals = compute_totals(lines, tax_rate)
    amounts = [line_amounts(x.quantity, x.unit_price, x.discount_percent) for x in lines]
    assert totals.subtotal == sum((a.gross for a in amounts), D("0"))
    assert totals.discount_total == sum((a.discount for a in amounts), D("0"))
    assert totals.max_discount_percent == max((x.discount_percent for x in lines), default=D("0"))


@settings(max_examples=100, deadline=None)
@given(
    lines=lines_strategy,
    extra=st.builds(Line, money("0.01", "1000"), money("0", "1000"), money("0", "100")),
    tax_rate=tax_strategy,
)
def test_adding_a_line_never_lowers_the_total(lines, extra, tax_rate):
    before = compute_totals(lines, tax_rate)
    after = compute_totals([*lines, extra], tax_rate)
    assert after.subtotal >= before.subtotal
    assert after.net >= before.net
    assert after.total >= before.total


# -------------------------------------------------------------- stored totals
@pytest.mark.django_db
def test_recalculate_stores_what_was_computed(org):
    from pipeline.tests.delivery.factories import (
        ClientFactory,
        DealFactory,
        QuoteFactory,
        QuoteLineFactory,
    )

    deal = DealFactory(client=ClientFactory(owner=org.rep), owner=org.rep)
    quote = QuoteFactory(deal=deal, tax_rate=D("13"))
    QuoteLineFactory(quote=quote, quantity=D("3"), unit_price=D("33.33"), discount_percent=D("10"))
    QuoteLineFactory(quote=quote, quantity=D("0.50"), unit_price=D("0.01"))
    quote_recalculate(quote=quote)
    quote.refresh_from_db()
    assert quote.subtotal == D("100.00")
    assert quote.discount_total == D("10.00")
    assert quote.tax_amount == D("11.70")  # 13% of 90.00
    assert quote.total == D("101.70")
    assert quote.max_discount_percent == D("10.00")
