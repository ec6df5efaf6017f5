"""Stored bars or ticks as a stream of market-data slices: the replay clock's source of time.

A slice is every bar that starts at one instant (one per symbol that traded then). The
backtest kernel walks the same aligned panel, so a replay and a backtest see the same bars
in the same order; NaN cells (a symbol without a bar at that time) are skipped.

Stored trade prints replay through the live path's tick-to-bar aggregation
(`iter_tick_slices`): the bars equal the batch `ticks_to_bars` of the same prints, so a
backtest on those bars and a replay of the ticks trade alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from orchestrade.data import BarPanel
from orchestrade.data.bar_aggregation import BarAggregator
from orchestrade.domain import TIMEFRAMES, Bar, Market, Symbol, Tick, ValidationError


@dataclass(frozen=True, slots=True)
class BarSlice:
    """The bars starting at `start`, in the panel's symbol order."""

    start: datetime
    bars: tuple[Bar, ...]


def iter_slices(panel: BarPanel, timeframe: str = "1d") -> Iterator[BarSlice]:
    """Every slice of `panel`, oldest first.

    The panel's prices were checked when it was built (finite; rows with non-positive prices
    are refused by the backtest's input checks, which run first), so the bars are built with
    `Bar.trusted`; the timeframe is checked once here.

    Prices become `Decimal(repr(value))`: the shortest decimal that reads back as the same
    float, so that `float(bar.open)` is exactly the number the kernel simulated.
    """
    if timeframe not in TIMEFRAMES:
        raise ValidationError(f"timeframe must be one of {TIMEFRAMES}, got {timeframe!r}")
    symbols = [Symbol(name) for name in panel.symbols]
    micros = panel.timestamps.astype("datetime64[us]").astype(np.int64)
    # Time-major copies: one slice is then one contiguous row of each array.
    present = np.ascontiguousarray(~np.isnan(panel.close.T))
    columns = [
        np.ascontiguousarray(column.T)
        for column in (panel.open, panel.high, panel.low, panel.close, panel.volume)
    ]
    decimals = _Decimals()
    for t in range(panel.timestamps.size):
        rows = np.flatnonzero(present[t])
        if rows.size == 0:
            continue
        start = _EPOCH + timedelta(microseconds=int(micros[t]))
        values = [column[t, rows].tolist() for column in columns]
        as_decimal = decimals.of
        bars = tuple(
            Bar.trusted(
                symbols[row],
                timeframe,
                start,
                as_decimal(o),
                as_decimal(h),
                as_decimal(lo),
                as_decimal(c),
                as_decimal(v if v == v else 0.0),
            )
            for row, o, h, lo, c, v in zip(rows.tolist(), *values, strict=True)
        )
        yield BarSlice(start, bars)


def iter_tick_slices(
    ticks: Iterable[Tick], timeframe: str, *, market: Market
) -> Iterator[BarSlice]:
    """Trade prints, oldest first, aggregated into bars and handed over slice by slice.

    Before each print, every bar whose bucket has ended by its time is closed (for all
    symbols: their buckets end together), so a slice is complete when it is handed over:
    no later print can belong to it. Prints out of time order are dropped as late by the
    aggregator (its documented policy); the rest close at the end of the stream.
    """
    aggregator = BarAggregator(timeframe, market=market)
    pending: dict[datetime, dict[Symbol, Bar]] = {}
    for tick in ticks:
        for bar in aggregator.flush(tick.time):
            pending.setdefault(bar.start, {})[bar.symbol] = bar
        closed = aggregator.add(tick)
        if closed is not None:
            pending.setdefault(closed.start, {})[closed.symbol] = closed
        if pending:
            yield from _slices(pending)
            pending.clear()
    for bar in aggregator.flush():
        pending.setdefault(bar.start, {})[bar.symbol] = bar
    yield from _slices(pending)


def _slices(pending: dict[datetime, dict[Symbol, Bar]]) -> Iterator[BarSlice]:
    for start in sorted(pending):
        bars = pending[start]
        yield BarSlice(start, tuple(bars[symbol] for symbol in sorted(bars)))


class _Decimals:
    """`Decimal(repr(x))`, remembered: market prices repeat a lot, and the conversion is the
    costliest part of building a bar. Bounded: forgets everything past `limit` entries."""

    def __init__(self, limit: int = 200_000) -> None:
        self._known: dict[float, Decimal] = {}
        self._limit = limit

    def of(self, value: float) -> Decimal:
        known = self._known.get(value)
        if known is None:
            if len(self._known) >= self._limit:
                self._known.clear()
            known = self._known[value] = Decimal(repr(value))
        return known


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
