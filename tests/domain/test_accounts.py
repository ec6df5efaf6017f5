"""Accounts: cash and positions under fills; equity and P&L invariants."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.domain import (
    Account,
    Fill,
    FillId,
    MissingPriceError,
    OrderId,
    Position,
    Side,
    Symbol,
    ValidationError,
)

from .strategies import fills, prices

D = Decimal
T0 = datetime(2024, 1, 2, tzinfo=UTC)
SAMSUNG, HYNIX, BTC = Symbol("005930"), Symbol("000660"), Symbol("BTC")


def fill(
    symbol: Symbol, side: Side, quantity: str, price: str, fee: str = "0", tax: str = "0"
) -> Fill:
    return Fill(FillId("f"), OrderId("o"), symbol, side, D(quantity), D(price), T0, D(fee), D(tax))


def test_krx_round_trip_by_hand() -> None:
    account = Account("KRW", D(10_000_000))

    account = account.apply(fill(SAMSUNG, Side.BUY, "100", "70000", fee="1050"))
    # cash 10,000,000 - 7,000,000 - 1,050
    assert account.cash == D(2_998_950)
    assert account.equity({SAMSUNG: D(72_000)}) == D(2_998_950 + 7_200_000)

    account = account.apply(fill(SAMSUNG, Side.SELL, "100", "72000", fee="1080", tax="12960"))
    # + 7,200,000 - 1,080 - 12,960; realized: 200,000 - 1,050 - 1,080 - 12,960 = 184,910
    assert account.cash == D(10_184_910)
    assert account.realized_pnl == D(184_910)
    assert account.open_positions == {}
    assert account.equity({}) == D(10_184_910)


def test_flat_positions_keep_their_realized_pnl() -> None:
    account = Account("KRW", D(1_000_000)).apply(fill(HYNIX, Side.BUY, "1", "130000"))
    account = account.apply(fill(HYNIX, Side.SELL, "1", "131000"))

    assert account.position(HYNIX).realized_pnl == D(1_000)
    assert account.position(SAMSUNG) == Position(SAMSUNG)


def test_equity_needs_a_price_for_every_open_position() -> None:
    account = Account("KRW", D(1_000_000)).apply(fill(HYNIX, Side.BUY, "1", "130000"))

    with pytest.raises(MissingPriceError, match="no price for open position 000660"):
        account.equity({SAMSUNG: D(70_000)})


def test_account_is_immutable_and_apply_returns_a_new_one() -> None:
    start = Account("KRW", D(1_000_000))

    after = start.apply(fill(HYNIX, Side.BUY, "1", "130000"))

    assert start.cash == D(1_000_000)
    assert dict(start.positions) == {}
    assert after.cash == D(870_000)
    with pytest.raises(TypeError):
        after.positions[HYNIX] = Position(HYNIX)  # type: ignore[index]


def test_positions_must_be_keyed_by_their_symbol() -> None:
    with pytest.raises(ValidationError, match="positions\\['X'\\] must be the Position of X"):
        Account("KRW", D(0), {Symbol("X"): Position(Symbol("Y"))})


def test_float_cash_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"Account.cash must be a Decimal, got float"):
        Account("KRW", 1_000.0)  # type: ignore[arg-type]


SYMBOLS = (SAMSUNG, HYNIX, BTC)


@settings(deadline=None)  # builds up to 20 fills; timing varies on a busy machine
@given(
    initial=st.decimals(min_value=0, max_value=100_000_000, places=2),
    sequence=st.lists(
        st.sampled_from(SYMBOLS).flatmap(lambda symbol: fills(symbol=symbol)), max_size=20
    ),
    marks=st.tuples(prices, prices, prices),
)
def test_money_invariants_hold_for_any_fill_sequence(
    initial: Decimal, sequence: list[Fill], marks: tuple[Decimal, Decimal, Decimal]
) -> None:
    prices_now = dict(zip(SYMBOLS, marks, strict=True))
    account = Account("KRW", initial)
    for each in sequence:
        account = account.apply(each)

    expected_cash = initial + sum((each.net_cash_flow for each in sequence), D(0))
    held = {
        symbol: sum((f.signed_quantity for f in sequence if f.symbol == symbol), D(0))
        for symbol in SYMBOLS
    }
    market_value = sum((held[symbol] * prices_now[symbol] for symbol in SYMBOLS), D(0))
    equity = account.equity(prices_now)

    assert account.cash == expected_cash
    for symbol in SYMBOLS:
        assert account.position(symbol).quantity == held[symbol]
    assert equity == account.cash + account.market_value(prices_now) == expected_cash + market_value
    assert account.realized_pnl + account.unrealized_pnl(prices_now) == equity - initial
