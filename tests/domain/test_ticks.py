"""Tick-size tables and KRX daily price limits against hand-computed cases."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrade.domain import (
    FixedTick,
    KrxTickRule,
    Side,
    UsEquityTickRule,
    ValidationError,
    krx_price_limits,
)

D = Decimal


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        (D(1), D(1)),
        (D(1_999), D(1)),
        (D(2_000), D(5)),
        (D(4_999), D(5)),
        (D(5_000), D(10)),
        (D(19_990), D(10)),
        (D(20_000), D(50)),
        (D(49_950), D(50)),
        (D(50_000), D(100)),
        (D(199_900), D(100)),
        (D(200_000), D(500)),
        (D(499_500), D(500)),
        (D(500_000), D(1_000)),
        (D(2_000_000), D(1_000)),
    ],
)
def test_krx_tick_table_since_2023_01_25(price: Decimal, tick: Decimal) -> None:
    assert KrxTickRule().tick_for(price) == tick


@pytest.mark.parametrize(
    ("price", "tick"),
    [(D("0.5"), D("0.0001")), (D("0.9999"), D("0.0001")), (D(1), D("0.01")), (D(250), D("0.01"))],
)
def test_us_equity_ticks_are_cents_from_one_dollar(price: Decimal, tick: Decimal) -> None:
    assert UsEquityTickRule().tick_for(price) == tick


def test_fixed_tick_applies_at_every_price() -> None:
    rule = FixedTick(D("0.1"))

    assert rule.tick_for(D("0.3")) == rule.tick_for(D(65_000)) == D("0.1")
    assert rule.is_valid_price(D("65000.1"))
    assert not rule.is_valid_price(D("65000.15"))


@pytest.mark.parametrize(
    ("price", "valid"),
    [(D(1_999), True), (D(2_001), False), (D(2_005), True), (D(5_005), False), (D(65_000), True)],
)
def test_krx_price_validity(price: Decimal, valid: bool) -> None:
    assert KrxTickRule().is_valid_price(price) is valid


@pytest.mark.parametrize(
    ("price", "side", "expected"),
    [
        (D(52_345), Side.BUY, D(52_300)),  # tick 100: a buy never pays more than asked
        (D(52_345), Side.SELL, D(52_400)),  # a sell never accepts less
        (D(52_345), None, D(52_300)),
        (D(52_350), None, D(52_400)),  # ties go up
        (D(4_998), Side.SELL, D(5_000)),  # crosses into the 10 KRW band: 5,000 is on its grid
        (D(5_003), Side.BUY, D(5_000)),
        (D("1999.5"), None, D(2_000)),
        (D("0.4"), None, D(1)),  # below the smallest tick, nearest is the smallest price
    ],
)
def test_krx_rounding_is_side_aware(price: Decimal, side: Side | None, expected: Decimal) -> None:
    assert KrxTickRule().round_price(price, side) == expected


def test_us_rounding_across_the_one_dollar_boundary() -> None:
    rule = UsEquityTickRule()

    assert rule.round_price(D("0.99995"), Side.SELL) == D(1)
    assert rule.round_price(D("1.005"), Side.BUY) == D("1.00")
    assert rule.round_price(D("0.12345"), Side.BUY) == D("0.1234")


def test_floor_below_the_smallest_price_is_an_error() -> None:
    with pytest.raises(ValidationError, match="below the smallest tick"):
        KrxTickRule().round_price(D("0.5"), Side.BUY)


@pytest.mark.parametrize("bad", [D(0), D(-5), 1.5])
def test_tick_rules_reject_non_positive_or_float_prices(bad: object) -> None:
    with pytest.raises(ValidationError, match="price"):
        KrxTickRule().tick_for(bad)  # type: ignore[arg-type]


@given(price=st.decimals(min_value=D("0.5"), max_value=D(3_000_000), places=2))
def test_rounded_krx_prices_are_valid_and_bracket_the_input(price: Decimal) -> None:
    rule = KrxTickRule()

    up = rule.round_price(price, Side.SELL)
    nearest = rule.round_price(price)

    assert rule.is_valid_price(up)
    assert rule.is_valid_price(nearest)
    assert up >= price
    if price >= 1:
        down = rule.round_price(price, Side.BUY)
        assert rule.is_valid_price(down)
        assert down <= price <= up
        assert nearest in (down, up)


@pytest.mark.parametrize(
    ("base", "lower", "upper"),
    [
        # 50,000 x 0.7 = 35,000 (tick 50 there, on the grid); x 1.3 = 65,000 (tick 100, on it).
        (D(50_000), D(35_000), D(65_000)),
        # 9,870 x 0.7 = 6,909 -> tick 10 at 6,909 -> up toward the base: 6,910.
        # 9,870 x 1.3 = 12,831 -> tick 10 at 12,831 -> down toward the base: 12,830.
        (D(9_870), D(6_910), D(12_830)),
        # 16,100 x 1.3 = 20,930 lies in the 50 KRW band (>= 20,000): down to 20,900, although
        # the base's own tick (10) would allow 20,930. 16,100 x 0.7 = 11,270 (tick 10): kept.
        (D(16_100), D(11_270), D(20_900)),
        # 170,500 x 0.7 = 119,350 -> tick 100 -> up: 119,400.
        # 170,500 x 1.3 = 221,650 -> tick 500 (>= 200,000) -> down: 221,500.
        (D(170_500), D(119_400), D(221_500)),
        # 1,000 x 1.3 = 1,300, x 0.7 = 700: both on the 1 KRW grid.
        (D(1_000), D(700), D(1_300)),
        # 600,000 x 0.7 = 420,000 (tick 500, on it); x 1.3 = 780,000 (tick 1,000, on it).
        (D(600_000), D(420_000), D(780_000)),
        # 2,005 x 0.7 = 1,403.5 -> tick 1 -> up: 1,404. 2,005 x 1.3 = 2,606.5 -> tick 5 -> 2,605.
        (D(2_005), D(1_404), D(2_605)),
    ],
)
def test_krx_price_limits(base: Decimal, lower: Decimal, upper: Decimal) -> None:
    assert krx_price_limits(base) == (lower, upper)


def test_krx_price_limits_need_a_positive_base() -> None:
    with pytest.raises(ValidationError, match="previous_close"):
        krx_price_limits(D(0))
