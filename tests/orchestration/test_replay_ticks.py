"""Replay of stored trade prints: the data agent aggregates them into bars as a live feed would,
and the trades equal a backtest on the batch bars of the same prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestrade.agents.replay_feed import iter_tick_slices
from orchestrade.backtest.engine import Backtest
from orchestrade.data.resampling import ticks_to_bars
from orchestrade.domain import Market, Side, Symbol, Tick
from orchestrade.orchestration.runtime import replay

TRADE_KEYS = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]


def crypto_ticks(days: int = 90, per_day: int = 12, seed: int = 3) -> list[Tick]:
    """Two crypto pairs (24/7, UTC days), `per_day` prints a day, interleaved in time."""
    rng = np.random.default_rng(seed)
    ticks: list[Tick] = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for symbol, level in (("BTCUSDT", 40_000.0), ("ETHUSDT", 2_000.0)):
        prices = level * np.exp(np.cumsum(rng.normal(0.0004, 0.006, days * per_day)))
        sizes = rng.uniform(0.01, 2.0, days * per_day)
        for index, (price, size) in enumerate(zip(prices, sizes, strict=True)):
            at = start + timedelta(hours=24 * index / per_day, seconds=7 if symbol < "E" else 11)
            ticks.append(
                Tick(
                    Symbol(symbol),
                    at,
                    Decimal(repr(round(float(price), 2))),
                    Decimal(repr(round(float(size), 4))),
                    Side.BUY,
                )
            )
    ticks.sort(key=lambda tick: (tick.time, tick.symbol))
    return ticks


def ordered(trades: pd.DataFrame) -> pd.DataFrame:
    frame = trades.loc[:, TRADE_KEYS].sort_values(["symbol", "entry_time"])
    return frame.reset_index(drop=True)


def as_frame(ticks: list[Tick]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([tick.time for tick in ticks]),
            "symbol": [tick.symbol for tick in ticks],
            "price": [float(tick.price) for tick in ticks],
            "size": [float(tick.quantity) for tick in ticks],
        }
    )


def test_tick_slices_equal_the_batch_bars_slice_by_slice() -> None:
    ticks = crypto_ticks(days=10)
    batch = ticks_to_bars(as_frame(ticks), "1d", market=Market.CRYPTO)

    slices = list(iter_tick_slices(ticks, "1d", market=Market.CRYPTO))

    streamed = [
        (bar.start, bar.symbol, float(bar.open), float(bar.high), float(bar.low), float(bar.close))
        for item in slices
        for bar in item.bars
    ]
    expected = [
        (row.timestamp.to_pydatetime(), row.symbol, row.open, row.high, row.low, row.close)
        for row in batch.sort_values(["timestamp", "symbol"]).itertuples()
    ]
    assert streamed == expected
    assert [item.start for item in slices] == sorted({item.start for item in slices})
    assert all(len(item.bars) == 2 for item in slices)


def test_a_tick_replay_trades_like_a_backtest_of_the_same_prints(tmp_path: Path) -> None:
    ticks = crypto_ticks()
    bars = ticks_to_bars(as_frame(ticks), "1d", market=Market.CRYPTO)
    backtest = Backtest(
        bars, "sma_cross", cash=100_000.0, fees=0.001, market="crypto", min_confidence=0.0
    )
    params = {"fast": 5, "slow": 15}
    expected = backtest.run(**params)

    outcome = replay(
        backtest,
        params=params,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        broker_path=tmp_path / "broker.db",
        ticks=ticks,
    )

    got = outcome.require_result()
    assert len(expected.trades) > 0
    mine, theirs = ordered(got.trades), ordered(expected.trades)
    exact = [key for key in TRADE_KEYS if key != "qty"]
    pd.testing.assert_frame_equal(mine[exact], theirs[exact], check_exact=True)
    # Crypto lots are 1e-8: the kernel's float floor(x / lot) * lot carries binary noise
    # (1.4197736300000001) that the replay's order, exactly on the lot grid, does not.
    np.testing.assert_allclose(mine["qty"], theirs["qty"], rtol=1e-12)
    np.testing.assert_allclose(
        got.equity.iloc[-1].to_numpy(), expected.equity.iloc[-1].to_numpy(), rtol=1e-9
    )
    assert outcome.bars == len(bars)


@pytest.mark.parametrize("late_index", [5, 40])
def test_a_print_older_than_its_closed_bar_is_dropped(late_index: int) -> None:
    ticks = crypto_ticks(days=5)
    late = ticks[late_index]
    stale = Tick(late.symbol, late.time - timedelta(days=2), late.price, late.quantity)
    stream = [*ticks[: late_index + 30], stale, *ticks[late_index + 30 :]]

    with_stale = list(iter_tick_slices(stream, "1d", market=Market.CRYPTO))
    clean = list(iter_tick_slices(ticks, "1d", market=Market.CRYPTO))

    assert with_stale == clean
