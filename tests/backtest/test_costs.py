"""Cost constants, tick-grid rounding and market conventions."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrade.backtest.costs import (
    KRX_SELL_TAX,
    TICK_FIXED,
    TICK_KINDS,
    TICK_KRX,
    TICK_NONE,
    TICK_US,
    commission_fee,
    market_conventions,
    round_to_tick,
    tick_bands,
)
from orchestrade.domain import KrxTickRule, Market, Side, UsEquityTickRule, krx_price_limits

UPPER, TICKS = tick_bands()


def rounded(price: float, upward: bool, kind: int, size: float = 0.0) -> float:
    return float(round_to_tick(price, upward, kind, size, UPPER, TICKS))


def test_krx_sell_tax_is_the_2026_rate():
    assert KRX_SELL_TAX == 0.002
    assert market_conventions(Market.KRX).sell_tax == KRX_SELL_TAX
    assert market_conventions(Market.US).sell_tax == 0.0


def test_market_conventions():
    krx, us, crypto = (market_conventions(m) for m in (Market.KRX, Market.US, Market.CRYPTO))
    assert (krx.tick_kind, krx.lot_size, krx.price_limit) == ("krx", 1.0, 0.30)
    assert (us.tick_kind, us.lot_size, us.price_limit) == ("us", 1.0, 0.0)
    assert (crypto.tick_kind, crypto.lot_size, crypto.price_limit) == ("none", 1e-8, 0.0)
    assert set(TICK_KINDS.values()) == {TICK_NONE, TICK_FIXED, TICK_KRX, TICK_US}


def test_commission_has_a_minimum_and_nothing_for_nothing():
    assert commission_fee(10_000.0, 0.001, 5.0) == 10.0
    assert commission_fee(1_000.0, 0.001, 5.0) == 5.0
    assert commission_fee(0.0, 0.001, 5.0) == 0.0


def test_tick_bands_come_from_the_domain_tables():
    krx = KrxTickRule.table()
    assert UPPER[0, : len(krx) - 1].tolist() == [float(bound) for bound, _ in krx[:-1]]
    assert TICKS[0, : len(krx)].tolist() == [float(tick) for _, tick in krx]
    assert TICKS[1, 0] == 0.0001


@pytest.mark.parametrize(
    ("price", "up", "down"),
    [
        (10_007.0, 10_010.0, 10_000.0),
        (10_010.0, 10_010.0, 10_010.0),
        (1_999.5, 2_000.0, 1_999.0),
        (4_999.0, 5_000.0, 4_995.0),
        (19_999.0, 20_000.0, 19_990.0),
        (70_100.00000000001, 70_100.0, 70_100.0),
        (512_345.0, 513_000.0, 512_000.0),
    ],
)
def test_krx_rounding(price, up, down):
    assert rounded(price, True, TICK_KRX) == up
    assert rounded(price, False, TICK_KRX) == down


def test_us_fixed_and_none_rounding():
    assert rounded(12.345, True, TICK_US) == pytest.approx(12.35)
    assert rounded(12.345, False, TICK_US) == pytest.approx(12.34)
    assert rounded(0.12345, True, TICK_US) == pytest.approx(0.1235)
    assert rounded(1.2345, True, TICK_FIXED, 0.5) == 1.5
    assert rounded(1.2345, False, TICK_FIXED, 0.5) == 1.0
    assert rounded(1.2345, True, TICK_NONE) == 1.2345


@given(st.integers(min_value=1, max_value=3_000_000), st.integers(min_value=0, max_value=99))
def test_krx_rounding_matches_the_domain_rule(units, cents):
    price = Decimal(units) + Decimal(cents) / 100
    rule = KrxTickRule()
    assert rounded(float(price), True, TICK_KRX) == float(rule.round_price(price, Side.SELL))
    if price >= 1:
        assert rounded(float(price), False, TICK_KRX) == float(rule.round_price(price, Side.BUY))


@given(st.integers(min_value=100, max_value=10_000_000))
def test_us_rounding_matches_the_domain_rule(hundredths_of_cents):
    price = Decimal(hundredths_of_cents) / 10_000 + Decimal("0.00003")
    rule = UsEquityTickRule()
    assert rounded(float(price), True, TICK_US) == pytest.approx(
        float(rule.round_price(price, Side.SELL)), rel=1e-12
    )


def test_band_bounds_match_the_domain_limits():
    for close in (1_234.0, 10_050.0, 68_300.0, 250_000.0):
        lower, upper = krx_price_limits(Decimal(str(close)))
        assert rounded(close * 0.7, True, TICK_KRX) == float(lower)
        assert rounded(close * 1.3, False, TICK_KRX) == float(upper)


def test_tick_bands_shape():
    assert UPPER.shape == TICKS.shape
    assert np.isinf(UPPER[:, -1]).all()
