"""Risk limits and the confidence policy inside the kernel; sizing methods."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.sizing import Sizing, realised_volatility
from orchestrade.settings import RiskSettings, RulesSettings

OPEN = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]


def run(kit, config, entries=(1,), exits=(3,), confidence=1.0, open_=OPEN, **prices):
    panel = kit.panel(open_, **prices)
    sim = simulate(panel, kit.signals(panel, entries, exits, confidence=confidence), config)
    kit.check_invariants(sim, panel)
    return sim


@pytest.mark.parametrize(("confidence", "traded"), [(0.7, True), (0.6, True), (0.5, False)])
def test_entries_below_min_confidence_are_not_traded(kit, confidence, traded):
    sim = run(kit, SimulationConfig(cash=10_000.0, min_confidence=0.6), confidence=confidence)
    assert (len(sim.fills) == 2) is traded
    assert sim.refusals["min_confidence"] == (0 if traded else 1)


def test_nan_confidence_counts_as_zero(kit):
    # SignalArrays forbids it, but the kernel takes any object with the same attributes.
    panel = kit.panel(OPEN)
    valid = kit.signals(panel, (1,), (3,))
    loose = SimpleNamespace(**{name: getattr(valid, name) for name in valid.__slots__})
    loose.entry_confidence = np.full(panel.close.shape, np.nan)
    strict = simulate(panel, loose, SimulationConfig(cash=10_000.0, min_confidence=0.1))
    assert strict.refusals["min_confidence"] == 1
    assert len(simulate(panel, loose, SimulationConfig(cash=10_000.0)).fills) == 2


def test_max_position_caps_the_quantity(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, max_position_pct=0.5))
    assert sim.fills[0]["quantity"] == math.floor(0.5 * 10_000 / 102)
    assert sim.capped["max_position"] == 1


def test_max_order_notional_refuses_larger_orders(kit):
    refused = run(kit, SimulationConfig(cash=10_000.0, max_order_notional=5_000.0))
    assert refused.refusals["max_order_notional"] == 1
    assert len(refused.fills) == 0
    fixed = SimulationConfig(cash=10_000.0, max_order_notional=5_000.0, sizing=Sizing.fixed_qty(40))
    assert run(kit, fixed).fills[0]["quantity"] == 40


def test_daily_loss_limit_stops_new_entries_for_the_rest_of_the_day(kit):
    # Bought at bar 1's open (100); bar 2 gaps down to 80 and the position is sold there:
    # the day (= the bar) lost 20% > 10%, so the entry signal of bar 2 is refused; the
    # signal of bar 3, a new day, is traded.
    open_ = [100.0, 100.0, 80.0, 80.0, 80.0, 80.0]
    close = [100.0, 100.0, 80.0, 80.0, 80.0, 80.0]
    config = SimulationConfig(cash=10_000.0, max_daily_loss_pct=0.1)
    sim = run(kit, config, entries=(0, 2, 3), exits=(1,), open_=open_, close=close)
    assert sim.refusals["daily_loss"] == 1
    assert [(f["bar"], f["side"]) for f in sim.fills] == [(1, 1), (2, -1), (4, 1)]


def test_intraday_days_group_bars_by_utc_date(kit):
    hour = 3_600_000_000_000
    open_ = [100.0, 100.0, 80.0, 80.0, 80.0, 80.0]
    panel = kit.panel(open_, close=open_, step_ns=hour)
    signals = kit.signals(panel, (0, 2, 3), (1,))
    sim = simulate(panel, signals, SimulationConfig(cash=10_000.0, max_daily_loss_pct=0.1))
    # every bar is on the same day: both later entries are refused
    assert sim.refusals["daily_loss"] == 2


def test_insufficient_cash_is_counted(kit):
    sim = run(kit, SimulationConfig(cash=50.0))
    assert sim.refusals["insufficient_cash"] == 1
    assert len(sim.fills) == 0


def test_percent_equity_sizing(kit):
    sim = run(kit, SimulationConfig(cash=10_000.0, sizing=Sizing.percent_equity(0.25)))
    assert sim.fills[0]["quantity"] == math.floor(2_500 / 102)


def test_fixed_quantity_is_capped_by_cash(kit):
    assert (
        run(kit, SimulationConfig(cash=10_000.0, sizing=Sizing.fixed_qty(10))).fills[0]["quantity"]
        == 10
    )
    assert run(kit, SimulationConfig(cash=1_000.0, sizing=Sizing.fixed_qty(50))).fills[0][
        "quantity"
    ] == math.floor(1_000 / 102)


def test_volatility_target_sizes_by_realised_volatility(kit):
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 40)))
    open_ = close.copy()
    panel = kit.panel(open_, high=close * 1.01, low=close * 0.99, close=close)
    sizing = Sizing.volatility_target(0.1, lookback=10, bars_per_year=252)
    config = SimulationConfig(cash=1_000_000.0, sizing=sizing)
    sim = simulate(panel, kit.signals(panel, (5, 30), (20,)), config)
    returns = pd.Series(np.log(close)).diff()
    vol = returns.rolling(10).std().iloc[30] * math.sqrt(252)
    assert sim.refusals["volatility"] == 1  # bar 5 has only 5 returns
    (buy,) = [f for f in sim.fills if f["side"] == 1]
    equity = sim.equity[0, 30]
    assert buy["quantity"] == math.floor(min(0.1 / vol * equity, equity) / open_[31])


def test_realised_volatility_matches_pandas_and_skips_missing_bars():
    close = np.array([[100.0, 101.0, np.nan, 99.0, 102.0, 103.0, 101.0, 100.0]])
    vol = realised_volatility(close, 3, 252.0)
    valid = close[0][~np.isnan(close[0])]
    expected = pd.Series(np.log(valid)).diff().rolling(3).std() * math.sqrt(252)
    np.testing.assert_allclose(vol[0][~np.isnan(close[0])], expected.to_numpy(), rtol=1e-12)
    assert np.isnan(vol[0, 2])


def test_risk_and_rules_settings_flow_into_the_config():
    risk = RiskSettings(max_position_pct=0.2, max_open_positions=3, max_order_notional=1e6)
    config = SimulationConfig().with_risk(risk).with_rules(RulesSettings(min_confidence=0.7))
    assert (config.max_position_pct, config.max_open_positions) == (0.2, 3)
    assert (config.max_daily_loss_pct, config.max_price_deviation_pct) == (0.1, 0.05)
    assert (config.max_order_notional, config.min_confidence) == (1e6, 0.7)
    off = config.with_risk(RiskSettings.disabled())
    assert off.max_position_pct is None
    assert off.max_daily_loss_pct is None
