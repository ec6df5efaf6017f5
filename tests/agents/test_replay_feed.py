"""`iter_slices`: a panel as market-data slices, oldest first, NaN cells skipped, prices as
the exact decimals of the floats the backtest kernel simulates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from orchestrade.agents.replay_feed import BarSlice, iter_slices
from orchestrade.data import BarPanel
from orchestrade.domain import Bar, Symbol, ValidationError

NAN = np.nan
T0 = datetime(2024, 1, 2, tzinfo=UTC)
DAY = np.timedelta64(1, "D")


def make_panel(
    close: list[list[float]],
    *,
    symbols: tuple[str, ...] = ("000660", "005930"),
    step: np.timedelta64 = DAY,
    volume: list[list[float]] | None = None,
) -> BarPanel:
    closes = np.array(close, dtype=np.float64)
    stamps = np.datetime64("2024-01-02T00:00", "ns") + step * np.arange(closes.shape[1])
    return BarPanel(
        symbols,
        stamps.astype("datetime64[ns]"),
        closes - 1.0,
        closes + 2.0,
        closes - 2.0,
        closes,
        np.full(closes.shape, 1_000.0) if volume is None else np.array(volume, dtype=np.float64),
    )


def test_each_instant_becomes_one_slice_in_time_order_with_the_symbols_in_panel_order() -> None:
    panel = make_panel([[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]])

    slices = list(iter_slices(panel))

    assert [item.start for item in slices] == [T0 + timedelta(days=day) for day in range(3)]
    assert [[bar.symbol for bar in item.bars] for item in slices] == [["000660", "005930"]] * 3
    assert all(isinstance(item, BarSlice) for item in slices)
    assert slices[1].bars[1] == Bar(
        Symbol("005930"),
        "1d",
        T0 + timedelta(days=1),
        Decimal("20.0"),
        Decimal("23.0"),
        Decimal("19.0"),
        Decimal("21.0"),
        Decimal("1000.0"),
    )


def test_a_symbol_without_a_bar_at_an_instant_is_left_out_and_an_empty_instant_skipped() -> None:
    panel = make_panel([[10.0, NAN, NAN, 13.0], [20.0, 21.0, NAN, NAN]])

    slices = list(iter_slices(panel))

    assert [(item.start, [bar.symbol for bar in item.bars]) for item in slices] == [
        (T0, ["000660", "005930"]),
        (T0 + timedelta(days=1), ["005930"]),
        (T0 + timedelta(days=3), ["000660"]),
    ]


def test_prices_are_the_shortest_decimals_that_read_back_as_the_same_floats() -> None:
    close = 0.1 + 0.2  # 0.30000000000000004
    panel = make_panel([[close], [70_100.00000000001]])

    (item,) = iter_slices(panel)

    first, second = item.bars
    assert first.close == Decimal("0.30000000000000004")
    assert float(first.close) == close
    assert float(first.open) == close - 1.0 == panel.open[0, 0]
    assert second.close == Decimal("70100.00000000001")
    for row, bar in enumerate(item.bars):
        for name in ("open", "high", "low", "close", "volume"):
            assert float(getattr(bar, name)) == getattr(panel, name)[row, 0], name


def test_a_missing_volume_is_zero() -> None:
    panel = make_panel([[10.0], [20.0]], volume=[[NAN], [5.0]])

    (item,) = iter_slices(panel)

    assert [bar.volume for bar in item.bars] == [Decimal("0.0"), Decimal("5.0")]


def test_the_bars_equal_validated_bars_with_the_given_timeframe() -> None:
    panel = make_panel([[10.0, 11.0]], symbols=("AAPL",), step=np.timedelta64(1, "h"))

    slices = list(iter_slices(panel, "1h"))

    for item in slices:
        (bar,) = item.bars
        checked = Bar(
            bar.symbol, bar.timeframe, bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume
        )
        assert bar == checked
        assert bar.timeframe == "1h"
        assert bar.start.tzinfo is UTC
    assert slices[1].start == T0 + timedelta(hours=1)


def test_sub_second_bar_times_are_kept_to_the_microsecond() -> None:
    panel = make_panel([[10.0, 11.0]], symbols=("X",), step=np.timedelta64(1_500_000, "us"))

    starts = [item.start for item in iter_slices(panel, "1m")]

    assert starts == [T0, T0 + timedelta(seconds=1.5)]


def test_an_unknown_timeframe_is_refused_before_any_slice() -> None:
    panel = make_panel([[10.0]], symbols=("X",))

    with pytest.raises(ValidationError, match=r"timeframe must be one of .*got '7d'"):
        next(iter_slices(panel, "7d"))


def test_the_slices_are_produced_lazily() -> None:
    panel = make_panel([[10.0, 11.0, 12.0]], symbols=("X",))
    slices = iter_slices(panel)

    first = next(slices)

    assert first.start == T0
    assert len(list(slices)) == 2
