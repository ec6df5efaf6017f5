"""Positions under the average cost method: hand-computed cases and invariants."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.domain import Fill, FillId, OrderId, Position, Side, Symbol, ValidationError

from .strategies import fills

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)
X = Symbol("X")


def fill(side: Side, quantity: str, price: str, fee: str = "0", tax: str = "0") -> Fill:
    return Fill(FillId("f"), OrderId("o"), X, side, D(quantity), D(price), T0, D(fee), D(tax))


def apply_all(*fills_: Fill) -> Position:
    position = Position(X)
    for each in fills_:
        position = position.apply(each)
    return position


def test_opening_and_adding_average_the_cost() -> None:
    position = apply_all(fill(Side.BUY, "10", "100"), fill(Side.BUY, "30", "120"))

    # cost 10 x 100 + 30 x 120 = 4,600 for 40 shares: average 115
    assert (position.quantity, position.cost_basis, position.average_price) == (
        D(40),
        D(4_600),
        D(115),
    )
    assert position.realized_pnl == 0


def test_reducing_realizes_pnl_against_the_average_cost() -> None:
    position = apply_all(
        fill(Side.BUY, "10", "100"), fill(Side.BUY, "30", "120"), fill(Side.SELL, "20", "130")
    )

    # 20 sold at 130 against an average of 115: (130 - 115) x 20 = 300; half the cost released
    assert (position.quantity, position.cost_basis, position.realized_pnl) == (
        D(20),
        D(2_300),
        D(300),
    )
    assert position.average_price == D(115)


def test_fees_and_taxes_are_charged_to_realized_pnl_on_every_fill() -> None:
    position = apply_all(
        fill(Side.BUY, "10", "100", fee="1.5"), fill(Side.SELL, "10", "110", fee="1.65", tax="1.98")
    )

    # (110 - 100) x 10 - 1.5 - 1.65 - 1.98 = 94.87; the opening fee is not part of the cost
    assert position.realized_pnl == D("94.87")
    assert position.is_flat
    assert (position.cost_basis, position.average_price) == (D(0), None)


def test_opening_fee_shows_immediately_as_a_realized_loss() -> None:
    position = apply_all(fill(Side.BUY, "10", "100", fee="2"))

    assert (position.cost_basis, position.realized_pnl) == (D(1_000), D(-2))


def test_short_position_gains_when_price_falls() -> None:
    position = apply_all(fill(Side.SELL, "10", "100"), fill(Side.BUY, "4", "90"))

    # short 10 at 100; buying back 4 at 90 realizes (100 - 90) x 4 = 40
    assert (position.quantity, position.cost_basis, position.realized_pnl) == (
        D(-6),
        D(-600),
        D(40),
    )
    assert position.average_price == D(100)
    assert position.market_value(D(95)) == D(-570)
    assert position.unrealized_pnl(D(95)) == D(30)  # (100 - 95) x 6


def test_flipping_long_to_short_closes_then_reopens_at_the_fill_price() -> None:
    position = apply_all(
        fill(Side.BUY, "10", "100", fee="1"), fill(Side.SELL, "15", "110", fee="2", tax="3")
    )

    # close 10: (110 - 100) x 10 = 100; fees 1 + 2 + 3; then short 5 at 110
    assert (position.quantity, position.cost_basis, position.realized_pnl) == (
        D(-5),
        D(-550),
        D(94),
    )
    assert position.average_price == D(110)
    assert position.unrealized_pnl(D(120)) == D(-50)


def test_released_cost_is_rounded_yet_a_closed_position_balances_exactly() -> None:
    position = apply_all(
        fill(Side.BUY, "1", "10"), fill(Side.BUY, "2", "11"), fill(Side.SELL, "1", "12")
    )

    # cost 32 for 3: selling 1 releases 32 / 3 = 10.6666666667 (10 places)
    assert position.cost_basis == D("21.3333333333")
    assert position.realized_pnl == D("1.3333333333")

    closed = position.apply(fill(Side.SELL, "2", "12"))

    # 36 received - 32 paid = 4, exactly, whatever the intermediate rounding
    assert (closed.quantity, closed.cost_basis, closed.realized_pnl) == (D(0), D(0), D(4))


def test_decimal_quantities_do_not_drift() -> None:
    position = apply_all(*[fill(Side.BUY, "0.1", "0.1")] * 10)

    assert position.quantity == D(1)
    assert position.cost_basis == D("0.1")


def test_fill_for_another_symbol_is_rejected() -> None:
    other = Fill(FillId("f"), OrderId("o"), Symbol("Y"), Side.BUY, D(1), D(1), T0)

    with pytest.raises(ValidationError, match="fill f is for Y, not X"):
        Position(X).apply(other)


def test_cost_basis_sign_must_match_quantity() -> None:
    with pytest.raises(ValidationError, match="cost_basis -5 must have the sign of quantity 1"):
        Position(X, D(1), D(-5))


@settings(deadline=None)
@given(st.lists(fills(symbol=X), min_size=1, max_size=12), fills(symbol=X).map(lambda f: f.price))
def test_books_balance_for_any_fill_sequence(sequence: list[Fill], price: Decimal) -> None:
    position = apply_all(*sequence)

    cash_flows = sum((each.net_cash_flow for each in sequence), D(0))
    assert position.quantity == sum((each.signed_quantity for each in sequence), D(0))
    assert position.realized_pnl + position.unrealized_pnl(price) == cash_flows + (
        position.quantity * price
    )
    if position.is_flat:
        assert position.realized_pnl == cash_flows


@settings(deadline=None)
@given(st.lists(fills(symbol=X), min_size=1, max_size=8))
def test_fills_on_one_side_average_at_the_volume_weighted_price(sequence: list[Fill]) -> None:
    same_side = [each for each in sequence if each.side is sequence[0].side]

    position = apply_all(*same_side)

    total = sum((each.quantity for each in same_side), D(0))
    value = sum((each.gross_value for each in same_side), D(0))
    assert abs(position.quantity) == total
    assert position.average_price == value / total
    assert position.realized_pnl == -sum((each.fee + each.tax for each in same_side), D(0))


def test_a_trusted_position_equals_the_checked_one_of_the_same_values() -> None:
    values = (Symbol("005930"), Decimal("-2.5"), Decimal("-177.5"), Decimal("3.25"))

    trusted = Position.trusted(*values)

    assert trusted == Position(*values)
    assert hash(trusted) == hash(Position(*values))
    assert trusted.average_price == Decimal(71)
