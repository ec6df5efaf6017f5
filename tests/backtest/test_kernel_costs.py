"""Fills, fees, taxes, slippage, latency and fill timing on hand-computed scenarios."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.records import ExitReason, FillReason

OPEN = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]


def run(kit, config, entries=(1,), exits=(3,), **prices):
    panel = kit.panel(prices.pop("open", OPEN), **prices)
    sim = simulate(panel, kit.signals(panel, entries, exits), config)
    kit.check_invariants(sim, panel)
    return sim


def test_next_open_buys_all_cash_and_sells_at_the_next_open(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, commission=0.001))
    quantity = math.floor(10_000 / (102 * 1.001))  # 97
    buy, sell = sim.fills
    assert (buy["bar"], buy["side"], buy["quantity"], buy["price"]) == (2, 1, quantity, 102.0)
    assert buy["fee"] == pytest.approx(0.001 * quantity * 102)
    assert (sell["bar"], sell["side"], sell["quantity"], sell["price"]) == (4, -1, quantity, 104)
    assert sell["reason"] == FillReason.EXIT_SIGNAL
    cash = 10_000 - quantity * 102 * 1.001 + quantity * 104 * 0.999
    assert sim.equity[0, -1] == pytest.approx(cash, rel=1e-12)
    assert sim.position[0].tolist() == [0, 0, quantity, quantity, 0, 0]
    (trade,) = sim.trades
    assert trade["pnl"] == pytest.approx(cash - 10_000, rel=1e-12)
    assert trade["exit_reason"] == ExitReason.SIGNAL


def test_minimum_commission_lowers_the_quantity_and_tax_applies_to_sells_only(kit):
    config = SimulationConfig(cash=10_000.0, commission=0.0001, commission_min=5.0, sell_tax=0.002)
    sim = run(kit, config)
    buy, sell = sim.fills
    # floor(10000 / (102 * 1.0001)) = 98 shares would cost 9996 + 5 > 10000: 97 shares.
    assert buy["quantity"] == 97
    assert (buy["fee"], buy["tax"]) == (5.0, 0.0)
    assert sell["fee"] == 5.0
    assert sell["tax"] == pytest.approx(0.002 * 97 * 104)
    expected = 10_000 - 97 * 102 - 5 + 97 * 104 - 5 - 0.002 * 97 * 104
    assert sim.equity[0, -1] == pytest.approx(expected, rel=1e-12)
    assert sim.trades[0]["costs"] == pytest.approx(10 + 0.002 * 97 * 104)


def test_fixed_bps_slippage_moves_both_fills_against_the_trader(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, slippage_bps=50.0))
    buy, sell = sim.fills
    assert buy["price"] == pytest.approx(102 * 1.005)
    assert buy["quantity"] == math.floor(10_000 / (102 * 1.005))
    assert sell["price"] == pytest.approx(104 * 0.995)


def test_range_slippage_is_a_fraction_of_high_minus_low(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, slippage_range=0.25))
    buy, sell = sim.fills
    assert buy["price"] == pytest.approx(102 + 0.25 * 4)
    assert sell["price"] == pytest.approx(104 - 0.25 * 4)


def test_volume_participation_caps_entries_and_carries_exits(kit):
    volume = [1e6, 1e6, 500.0, 1e6, 200.0, 500.0]
    sim = run(kit, SimulationConfig(cash=10_000.0, participation=0.1), volume=volume)
    buy, first, second = sim.fills
    assert (buy["bar"], buy["quantity"]) == (2, 50)
    assert (first["bar"], first["quantity"], first["price"]) == (4, 20, 104)
    assert (second["bar"], second["quantity"], second["price"]) == (5, 30, 105)
    assert sim.capped["participation"] == 1
    (trade,) = sim.trades
    assert trade["exit_bar"] == 5
    assert trade["exit_price"] == pytest.approx((20 * 104 + 30 * 105) / 50)


def test_latency_delays_market_orders_by_whole_bars(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, latency_bars=1), exits=(3,))
    assert [(f["bar"], f["price"]) for f in sim.fills] == [(3, 103.0), (5, 105.0)]


def test_close_fill_trades_at_the_decision_bar_close(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, fill="close"))
    assert [(f["bar"], f["price"]) for f in sim.fills] == [(1, 102.0), (3, 104.0)]
    delayed = run(kit, SimulationConfig(cash=10_000.0, fill="close", latency_bars=1))
    assert [(f["bar"], f["price"]) for f in delayed.fills] == [(2, 103.0), (4, 105.0)]


def test_missing_bars_are_skipped_and_count_for_no_latency(kit):
    open_ = [100.0, 101.0, np.nan, 103.0, 104.0, 105.0]
    panel = kit.panel(
        open_, high=np.add(open_, 2), low=np.subtract(open_, 2), close=np.add(open_, 1)
    )
    sim = simulate(panel, kit.signals(panel, (1,), (3,)), SimulationConfig(cash=10_000.0))
    kit.check_invariants(sim, panel)
    assert [(f["bar"], f["price"]) for f in sim.fills] == [(3, 103.0), (4, 104.0)]
    assert sim.equity[0, 2] == sim.equity[0, 1]


def test_open_position_at_the_end_is_valued_at_the_last_close(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0), exits=())
    (trade,) = sim.trades
    assert trade["exit_reason"] == ExitReason.END
    assert (trade["exit_bar"], trade["exit_price"]) == (5, 106.0)
    assert len(sim.fills) == 1
    quantity = math.floor(10_000 / 102)
    assert sim.equity[0, -1] == pytest.approx(10_000 - quantity * 102 + quantity * 106)


def test_same_bar_entry_and_exit_means_exit(kit):
    panel = kit.panel(OPEN)
    signals = kit.signals(panel, entries=(1,), exits=())
    both = kit.signals(panel, entries=(1, 3), exits=(3,))
    assert len(simulate(panel, signals).fills) == 1
    assert [f["side"] for f in simulate(panel, both).fills] == [1, -1]


def test_crypto_lot_size_gives_fractional_quantities(kit):
    panel = kit.panel([30_000.0, 30_000.0, 30_000.0, 31_000.0])
    sim = simulate(
        panel, kit.signals(panel, (0,), (1,)), SimulationConfig(cash=1_000.0, lot_size=1e-8)
    )
    buy, sell = sim.fills
    assert buy["quantity"] == pytest.approx(0.03333333, abs=1e-12)
    assert sell["quantity"] == buy["quantity"]
    kit.check_invariants(sim, panel)


def test_krx_ticks_round_buys_up_and_sells_down_after_slippage(kit):
    open_ = [10_000.0, 10_000.0, 10_000.0, 10_500.0, 10_500.0]
    config = SimulationConfig(cash=1_000_000.0, slippage_bps=7.0, tick_kind="krx")
    sim = run(kit, config, entries=(1,), exits=(2,), open=open_)
    buy, sell = sim.fills
    assert buy["price"] == 10_010.0  # 10007 -> up to the 10-won grid
    assert sell["price"] == 10_490.0  # 10492.65 -> down


def test_fills_outside_the_daily_price_band_do_not_happen(kit):
    # Entry decided at bar 1 (close 102); bar 2 opens at 140 > 102 x 1.3: refused.
    open_ = [100.0, 101.0, 140.0, 141.0]
    sim = run(kit, SimulationConfig(cash=10_000.0, price_limit=0.3), open=open_, exits=())
    assert len(sim.fills) == 0
    assert sim.refusals["price_limit"] == 1


def test_an_exit_outside_the_band_is_retried_on_the_next_bar(kit):
    open_ = [100.0, 100.0, 100.0, 60.0, 61.0, 62.0]
    close = [100.0, 100.0, 100.0, 60.0, 61.0, 62.0]
    high = np.add(open_, 1)
    low = np.subtract(open_, 1)
    config = SimulationConfig(cash=10_000.0, price_limit=0.3)
    sim = run(kit, config, entries=(0,), exits=(2,), open=open_, close=close, high=high, low=low)
    buy, sell = sim.fills
    assert (buy["bar"], sell["bar"], sell["price"]) == (1, 4, 61.0)
    assert sim.refusals["price_limit"] == 1
