"""Streaming tick-to-bar aggregation: trade prints in, finished bars out, one tick at a time.

The DataAgent builds bars from a live (or replayed) trade feed with a `BarAggregator`. Its
bars are the bars `orchestrade.data.resampling.ticks_to_bars` builds from the same ticks in
one batch: the same buckets (UTC-epoch aligned for crypto; aligned to session boundaries
and never spanning two sessions for KRX/US intraday; the exchange trading date for daily
bars, so KRX and XNYS daily bars follow their local dates and US extended hours count to
their date; the ISO week of trading dates for weekly bars), open = first trade, high/low =
extremes, close = last trade, volume = sum of quantities.

When a bar is emitted: a symbol's forming bar is finished when the first tick of a later
bucket of that symbol arrives (`add` returns it), or by `flush(now)` once its bucket has
ended at `now` (a feed that goes quiet still closes its bars; call it on a timer or at the
session close), or by `flush()` without a time, which emits every forming bar (end of a
replay, shutdown).

Out-of-order ticks. Inside the forming bar a late tick is merged exactly as the batch's
stable time sort would place it: the open is the trade with the earliest time (the first to
arrive among equal times), the close the one with the latest time (the last to arrive among
equal times); high, low and volume do not depend on order. A tick older than the start of
its symbol's forming bar, or than the end of its last emitted bar, is *late*: its bar was
already published (or would now come out of time order), so it is dropped and counted in
`stats.late`. The bars then equal the batch's bars over the accepted ticks.

Duplicate ticks. A trade print has no id, so an identical (time, price, quantity,
aggressor) print may be a second real trade: by default (`duplicates="keep"`) every print
counts, as in the batch. With `duplicates="drop"` (feeds known to re-send prints, e.g.
after a reconnect) a print identical to one already in the forming bar is dropped and
counted in `stats.duplicates`; the bars equal the batch's bars over the ticks without
those repeats.

One aggregator serves the symbols of one market (its calendar decides the buckets).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd

from orchestrade.data.calendars import market_timezone
from orchestrade.data.resampling import (
    Timeframe,
    TimeframeError,
    _session_boundaries,
    parse_timeframe,
)
from orchestrade.domain import TIMEFRAMES, Bar, Market, Side, Symbol, Tick

DuplicatePolicy = Literal["keep", "drop"]
"""What `BarAggregator` does with a print identical to one already in the forming bar."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_US_PER_DAY = 86_400_000_000


@dataclass(frozen=True, slots=True)
class AggregationStats:
    """What an aggregator did with the ticks it was given.

    Attributes:
        accepted: ticks merged into a bar.
        late: ticks dropped because their bar was already emitted (or older than the
            forming one).
        duplicates: ticks dropped as repeats (only with `duplicates="drop"`).
    """

    accepted: int = 0
    late: int = 0
    duplicates: int = 0


class BarAggregator:
    """Turn the trade prints of one market into bars of one timeframe, as they arrive.

    Args:
        timeframe: a bar length the system stores ("1m", "5m", "15m", "30m", "1h", "4h",
            "1d", "1w").
        market: the market of every symbol fed in; decides sessions and time zone.
        duplicates: "keep" (default) or "drop" identical prints (module docstring).

    Raises:
        TimeframeError: `timeframe` is not one of the stored bar lengths, or `duplicates`
            is not a policy.
    """

    __slots__ = (
        "_accepted",
        "_clock",
        "_dropped",
        "_duplicates",
        "_emitted_until",
        "_forming",
        "_late",
        "market",
        "timeframe",
    )  # fmt: skip

    def __init__(
        self, timeframe: str, *, market: Market, duplicates: DuplicatePolicy = "keep"
    ) -> None:
        if timeframe not in TIMEFRAMES:
            raise TimeframeError(
                f"timeframe {timeframe!r} is not a stored bar length {', '.join(TIMEFRAMES)}"
            )
        if duplicates not in ("keep", "drop"):
            raise TimeframeError(f"duplicates must be 'keep' or 'drop', got {duplicates!r}")
        self.timeframe = timeframe
        self.market = market
        self._duplicates = duplicates == "drop"
        self._clock = _BucketClock(parse_timeframe(timeframe), market)
        self._forming: dict[Symbol, _FormingBar] = {}
        self._emitted_until: dict[Symbol, int] = {}
        self._accepted = 0
        self._late = 0
        self._dropped = 0

    @property
    def stats(self) -> AggregationStats:
        """Counts of accepted, late and duplicate ticks so far."""
        return AggregationStats(self._accepted, self._late, self._dropped)

    def add(self, tick: Tick) -> Bar | None:
        """Merge one trade print; returns the symbol's previous bar when this tick starts a
        later bucket, else None. Late and (with "drop") duplicate ticks change nothing."""
        micros = (tick.time - _EPOCH) // _MICROSECOND
        forming = self._forming.get(tick.symbol)
        if forming is not None and forming.start <= micros < forming.end:
            if self._duplicates and not forming.remember(tick, micros):
                self._dropped += 1
                return None
            forming.merge(tick, micros)
            self._accepted += 1
            return None
        floor = self._emitted_until.get(tick.symbol, -1)
        if micros < floor or (forming is not None and micros < forming.start):
            self._late += 1
            return None
        start, end = self._clock.bucket(micros)
        fresh = _FormingBar(start, end, tick, micros)
        if self._duplicates:
            fresh.remember(tick, micros)
        self._forming[tick.symbol] = fresh
        self._accepted += 1
        if forming is None:
            return None
        self._emitted_until[tick.symbol] = forming.end
        return forming.to_bar(tick.symbol, self.timeframe)

    def flush(self, now: datetime | None = None) -> list[Bar]:
        """Emit the forming bars whose bucket ended at or before `now` (all of them when
        `now` is None), ordered by start time, then symbol. Ticks that arrive later for an
        emitted bucket are late."""
        limit = None if now is None else (now - _EPOCH) // _MICROSECOND
        done = [
            (forming.start, symbol)
            for symbol, forming in self._forming.items()
            if limit is None or forming.end <= limit
        ]
        bars = []
        for _, symbol in sorted(done):
            forming = self._forming.pop(symbol)
            self._emitted_until[symbol] = forming.end
            bars.append(forming.to_bar(symbol, self.timeframe))
        return bars

    def forming(self, symbol: Symbol) -> Bar | None:
        """The bar `symbol` is building now, as it stands (None when there is none)."""
        forming = self._forming.get(symbol)
        return None if forming is None else forming.to_bar(symbol, self.timeframe)


class _FormingBar:
    """The running open/high/low/close/volume of one symbol's current bucket [start, end)."""

    __slots__ = ("close", "close_time", "end", "high", "low", "open", "open_time", "seen",
                 "start", "volume")  # fmt: skip

    def __init__(self, start: int, end: int, tick: Tick, micros: int) -> None:
        self.start = start
        self.end = end
        self.open = self.high = self.low = self.close = tick.price
        self.open_time = self.close_time = micros
        self.volume = tick.quantity
        self.seen: set[tuple[int, Decimal, Decimal, Side | None]] | None = None

    def merge(self, tick: Tick, micros: int) -> None:
        price = tick.price
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price
        if micros < self.open_time:
            self.open, self.open_time = price, micros
        if micros >= self.close_time:
            self.close, self.close_time = price, micros
        self.volume += tick.quantity

    def remember(self, tick: Tick, micros: int) -> bool:
        """Record the print; False when an identical one is already in this bar."""
        key = (micros, tick.price, tick.quantity, tick.aggressor)
        if self.seen is None:
            self.seen = set()
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def to_bar(self, symbol: Symbol, timeframe: str) -> Bar:
        return Bar(
            symbol=symbol,
            timeframe=timeframe,
            start=_EPOCH + timedelta(microseconds=self.start),
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
        )


class _BucketClock:
    """The bucket [start, end) in epoch microseconds of an instant, as `bar_starts` cuts it."""

    __slots__ = ("_boundaries", "_market", "_step", "_timeframe", "_zone")

    def __init__(self, timeframe: Timeframe, market: Market) -> None:
        self._timeframe = timeframe
        self._market = market
        self._step = timeframe.nanos // 1_000
        self._zone = ZoneInfo(market_timezone(market))
        self._boundaries: list[int] = []

    def bucket(self, micros: int) -> tuple[int, int]:
        unit = self._timeframe.unit
        if unit in ("d", "w"):
            local = (_EPOCH + timedelta(microseconds=micros)).astimezone(self._zone).date()
            if unit == "w":
                local -= timedelta(days=local.weekday())
            days = 7 if unit == "w" else 1
            start = (local - date(1970, 1, 1)).days * _US_PER_DAY
            return start, self._local_midnight(local + timedelta(days=days))
        if self._market.calendar_name is None:
            start = micros - micros % self._step
            return start, start + self._step
        boundaries = self._boundaries_around(micros)
        index = bisect.bisect_right(boundaries, micros) - 1
        anchor, following = boundaries[index], boundaries[index + 1]
        start = anchor + (micros - anchor) // self._step * self._step
        return start, min(start + self._step, following)

    def _local_midnight(self, day: date) -> int:
        midnight = datetime.combine(day, time(), tzinfo=self._zone)
        return (midnight - _EPOCH) // _MICROSECOND

    def _boundaries_around(self, micros: int) -> list[int]:
        """Session boundaries (opens, closes, break edges, local midnights) in microseconds,
        covering `micros` on both sides; computed a few days at a time and cached."""
        cached = self._boundaries
        if cached and cached[0] <= micros < cached[-1]:
            return cached
        stamp = pd.DatetimeIndex([pd.Timestamp(micros * 1_000, unit="ns", tz="UTC")])
        nanos = _session_boundaries(self._market, stamp)
        self._boundaries = [int(value) // 1_000 for value in nanos]
        return self._boundaries
