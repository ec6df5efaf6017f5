"""Invariants on random price paths, random signals and random settings (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.sizing import Sizing

SIZINGS = [
    Sizing.all_cash(),
    Sizing.fixed_qty(7),
    Sizing.percent_equity(0.3),
    Sizing.volatility_target(0.2, lookback=3),
]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[object, ...]:
    n_symbols = draw(st.integers(1, 3))
    n_times = draw(st.integers(2, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    close = 1_000 * np.exp(np.cumsum(rng.normal(0, 0.05, (n_symbols, n_times)), axis=1))
    open_ = close * np.exp(rng.normal(0, 0.02, close.shape))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.03, close.shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.03, close.shape))
    volume = rng.integers(0, 500, close.shape).astype(float)
    missing = rng.random(close.shape) < draw(st.sampled_from([0.0, 0.2]))
    for array in (open_, high, low, close, volume):
        array[missing] = np.nan
    entries = rng.random(close.shape) < 0.3
    exits = rng.random(close.shape) < 0.2
    confidence = np.where(entries, rng.uniform(0, 1, close.shape), np.nan)
    limit = np.where(
        rng.random(close.shape) < 0.3, close * rng.uniform(0.95, 1.02, close.shape), np.nan
    )
    stop = np.where(
        rng.random(close.shape) < 0.3, close * rng.uniform(0.98, 1.05, close.shape), np.nan
    )
    config = SimulationConfig(
        mode=draw(st.sampled_from(["isolated", "portfolio"])),
        fill=draw(st.sampled_from(["next_open", "close"])),
        cash=1e6,
        commission=draw(st.sampled_from([0.0, 0.001])),
        sell_tax=draw(st.sampled_from([0.0, 0.002])),
        slippage_bps=draw(st.sampled_from([0.0, 10.0])),
        slippage_range=draw(st.sampled_from([0.0, 0.1])),
        participation=draw(st.sampled_from([None, 0.5])),
        latency_bars=draw(st.integers(0, 2)),
        tick_kind=draw(st.sampled_from(["none", "krx"])),
        lot_size=draw(st.sampled_from([1.0, 1e-8])),
        price_limit=draw(st.sampled_from([0.0, 0.05])),
        sizing=draw(st.sampled_from(SIZINGS)),
        stop_loss=draw(st.sampled_from([None, 0.03])),
        take_profit=draw(st.sampled_from([None, 0.05])),
        trailing_stop=draw(st.sampled_from([None, 0.04])),
        max_position_pct=draw(st.sampled_from([None, 0.5])),
        max_open_positions=draw(st.sampled_from([None, 1, 2])),
        max_daily_loss_pct=draw(st.sampled_from([None, 0.02])),
        max_price_deviation_pct=draw(st.sampled_from([None, 0.03])),
        max_order_notional=draw(st.sampled_from([None, 5e5])),
        min_confidence=draw(st.sampled_from([0.0, 0.5])),
        position_allocation=draw(st.sampled_from([1.0, 0.4])),
    )
    with_orders = draw(st.booleans())
    return (
        open_,
        high,
        low,
        close,
        volume,
        entries,
        exits,
        confidence,
        limit,
        stop,
        config,
        with_orders,
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenarios())
def test_invariants_hold_at_every_bar(kit, scenario):
    open_, high, low, close, volume, entries, exits, confidence, limit, stop, config, orders = (
        scenario
    )
    panel = kit.panel(open_, high=high, low=low, close=close, volume=volume)
    signals = kit.signals(panel)
    signals = type(signals)(
        symbols=panel.symbols,
        timestamps=panel.timestamps,
        entries=entries & ~np.isnan(close),
        exits=exits & ~np.isnan(close),
        entry_confidence=np.where(entries & ~np.isnan(close), np.nan_to_num(confidence), np.nan),
        exit_confidence=np.where(exits & ~np.isnan(close), 1.0, np.nan),
        reasons=np.zeros(close.shape, dtype=np.int64),
        reason_names=(),
        entry_limit=limit if orders else None,
        entry_stop=stop if orders else None,
    )
    sim = simulate(panel, signals, config)
    kit.check_invariants(sim, panel)
    fills = sim.fills
    assert np.all(fills["quantity"] > 0)
    assert np.all(fills["price"] >= 0)
    lots = fills["quantity"] / config.lot_size
    np.testing.assert_allclose(lots, np.round(lots), atol=1e-6)
    if config.slippage_bps == 0 and config.slippage_range == 0 and config.tick_kind == "none":
        bar_low = low[fills["symbol"], fills["bar"]]
        bar_high = high[fills["symbol"], fills["bar"]]
        assert np.all(fills["price"] >= bar_low * (1 - 1e-12))
        assert np.all(fills["price"] <= bar_high * (1 + 1e-12))
    if config.participation is not None:
        assert np.all(fills["quantity"] <= 0.5 * volume[fills["symbol"], fills["bar"]] + 1e-9)
    if config.mode == "portfolio" and config.max_open_positions is not None:
        assert np.all((sim.position > 0).sum(axis=0) <= config.max_open_positions)
    buys = fills[fills["side"] == 1]
    assert len(sim.trades) == len(buys)
