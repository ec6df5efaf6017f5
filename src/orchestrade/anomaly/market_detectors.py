"""Detectors of unusual markets: fast price moves, volume spikes, extreme funding, lopsided books.

Each is a small streaming object fed one observation at a time (a bar, a funding rate, a
book) with O(1) amortized work (monotonic deques, running sums) and one window per symbol;
`update` returns the `AnomalyDetected` it caused (naming the symbol, no bot) or None. A
condition that lasts is reported once, when it starts, and re-armed when it ends
(`orchestrade.anomaly.crossing`). A finding about a bar is stamped with the bar's start,
the time the system names a bar by (the signals decided at its close carry it too); it was
known at the bar's close.

Prices and volumes are floats here: the detectors compare ratios with thresholds, and floats
keep a scan of millions of real bars fast. "Above 5%" means > 5%: a ratio is one subtraction
(exact for prices within a factor 2 of each other) and one correctly rounded division, so a
move of exactly 5% between prices that floats hold exactly (100 -> 105) equals the
threshold's own float and does not report. Prices that floats only approximate (105.01) are
judged on their float values, within about 1e-16 of the decimal truth.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from orchestrade.anomaly.crossing import Crossings
from orchestrade.anomaly.thresholds import AnomalyThresholds, Detector, format_duration
from orchestrade.domain import TIMEFRAME_SECONDS, AnomalyDetected, Bar, OrderBook, Symbol


class PriceMoveDetector:
    """A price move above `max_price_move_pct` within `price_move_window_s` (HIGH).

    Every bar gives two prices with their times: its open at its start and its close at its
    end (start + timeframe). At each close the detector looks at the prices of the window
    [close - window, close], both ends included (so a 1-minute bar's open and the previous
    bar's close are inside a 1-minute window), and measures

    - the rise from the window's lowest price to the close, (close - low) / low;
    - the fall from the window's highest price to the close, (high - close) / high;
    - for a bar no longer than the window, its own range (high - low) / high: both extremes
      happened inside the window, in an unknown order, so the market moved at least that
      much (this catches a flash crash that recovers within the minute).

    The value is the largest of the three. Bars longer than the window (hourly, daily) only
    contribute their open and close, which are further apart than the window, so they never
    report: this detector needs intraday data. Gaps in the data (an exchange outage) leave
    the window empty of older prices: no move is measured across a gap.
    """

    detector = Detector.PRICE_MOVE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._window = timedelta(seconds=self.thresholds.price_move_window_s)
        self._prices: dict[Symbol, _Extremes] = {}
        self._crossings: Crossings[Symbol] = Crossings()
        self._spans: dict[str, timedelta] = {}

    def on_bar(self, bar: Bar) -> AnomalyDetected | None:
        """`update` with a domain bar."""
        span = self._spans.get(bar.timeframe)
        if span is None:
            span = self._spans[bar.timeframe] = timedelta(seconds=TIMEFRAME_SECONDS[bar.timeframe])
        start = bar.start
        end = start + span
        if span > self._window:
            # A bar longer than the window: its open is older than the window at its close.
            # When every price seen so far is too (daily bars in time order), the window
            # holds the close alone and there is no move: `update`'s result, without the
            # conversions of prices it would not use (the close is converted if a later bar
            # reads it).
            symbol = bar.symbol
            extremes = self._prices.get(symbol)
            if extremes is None or extremes.newest < end - self._window:
                if extremes is None:
                    extremes = self._prices[symbol] = _Extremes(end)
                extremes.keep_alone(end, bar.close)
                self._crossings.clear(symbol)
                return None
        return self.update(
            bar.symbol,
            start,
            end,
            float(bar.open),
            float(bar.high),
            float(bar.low),
            float(bar.close),
        )

    def update(
        self,
        symbol: Symbol,
        start: datetime,
        end: datetime,
        open_: float,
        high: float,
        low: float,
        close: float,
    ) -> AnomalyDetected | None:
        """Add one bar (`start` <= `end`); the finding when a fast move just started."""
        window = self._window
        extremes = self._prices.get(symbol)
        if extremes is None:
            extremes = self._prices[symbol] = _Extremes(end)
        else:
            extremes.settle()
            if end > extremes.newest:
                extremes.newest = end
        extremes.add(start, open_)
        extremes.add(end, close)
        extremes.expire(end - window)
        lowest, highest = extremes.rising[0][1], extremes.falling[0][1]
        rise = (close - lowest) / lowest if lowest > 0 else 0.0
        fall = (highest - close) / highest if highest > 0 else 0.0
        in_bar = (high - low) / high if end - start <= window and high > 0 else 0.0
        move = max(rise, fall, in_bar)
        limit = self.thresholds.max_price_move_pct
        if not self._crossings.rising(symbol, move > limit):
            return None
        span = format_duration(self.thresholds.price_move_window_s)
        if move == rise:
            what = f"rose {rise:.2%} from {lowest:g} to {close:g}"
        elif move == fall:
            what = f"fell {fall:.2%} from {highest:g} to {close:g}"
        else:
            what = f"moved {in_bar:.2%} inside one bar (low {low:g}, high {high:g})"
        return AnomalyDetected(
            detected_at=start,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=symbol,
            value=move,
            threshold=limit,
            reason=f"{symbol} {what} within {span}, limit {limit:.2%}",
        )


class _Extremes:
    """Prices of a time window with their running minimum and maximum (monotonic deques),
    and the latest time ever added (`newest`: when it is older than the window, so is every
    price kept).

    `keep_alone` records that the window holds one price alone without touching the deques
    or converting the price (a long bar's close, which usually leaves the window unread);
    `settle` makes the deques hold it before they are read.
    """

    __slots__ = ("alone", "falling", "newest", "rising")

    def __init__(self, newest: datetime) -> None:
        self.rising: deque[tuple[datetime, float]] = deque()  # minimum first
        self.falling: deque[tuple[datetime, float]] = deque()  # maximum first
        self.newest = newest
        self.alone: tuple[datetime, Decimal] | None = None

    def add(self, at: datetime, price: float) -> None:
        rising, falling = self.rising, self.falling
        while rising and rising[-1][1] >= price:
            rising.pop()
        rising.append((at, price))
        while falling and falling[-1][1] <= price:
            falling.pop()
        falling.append((at, price))

    def expire(self, horizon: datetime) -> None:
        """Drop the prices older than `horizon` (a price at `horizon` stays)."""
        while self.rising[0][0] < horizon:
            self.rising.popleft()
        while self.falling[0][0] < horizon:
            self.falling.popleft()

    def keep_alone(self, at: datetime, price: Decimal) -> None:
        """From now on the window holds `price` at `at` alone (`at` is the newest time)."""
        self.alone = (at, price)
        self.newest = at

    def settle(self) -> None:
        """Put the price kept alone, if any, in the deques (as the only one)."""
        if self.alone is not None:
            at, price = self.alone
            self.alone = None
            entry = (at, float(price))
            self.rising.clear()
            self.rising.append(entry)
            self.falling.clear()
            self.falling.append(entry)


class VolumeSpikeDetector:
    """A bar's volume above `volume_spike_factor` x the mean of the previous
    `volume_window_bars` bars of its symbol (MEDIUM).

    The mean excludes the bar judged (a spike would otherwise raise its own yardstick) and
    is judged only once the window is full; a window of zero volume (a halted market) has
    no mean to compare with and judges nothing. The window counts bars, not time: in sparse
    data (bars only for minutes with trades) it spans more time. The value is the ratio.
    """

    detector = Detector.VOLUME_SPIKE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._volumes: dict[Symbol, _VolumeWindow] = {}
        self._crossings: Crossings[Symbol] = Crossings()

    def on_bar(self, bar: Bar) -> AnomalyDetected | None:
        """`update` with a domain bar."""
        return self.update(bar.symbol, bar.start, float(bar.volume))

    def update(self, symbol: Symbol, at: datetime, volume: float) -> AnomalyDetected | None:
        """Add the volume of the bar that starts at `at`; the finding when a spike just
        began."""
        size = self.thresholds.volume_window_bars
        window = self._volumes.get(symbol)
        if window is None:
            window = self._volumes[symbol] = _VolumeWindow(deque(maxlen=size))
        volumes = window.volumes
        total = window.total
        if len(volumes) == size:  # full: judge, then the oldest volume leaves the sum
            ratio = volume * size / total if total > 0 else 0.0
            kept = total - volumes[0]
        else:
            ratio = 0.0
            kept = total
        volumes.append(volume)
        added = window.added + 1
        if added >= len(volumes):  # recomputed exactly once per window length
            window.total = math.fsum(volumes)
            window.added = 0
        else:
            window.total = kept + volume
            window.added = added
        factor = self.thresholds.volume_spike_factor
        if not self._crossings.rising(symbol, ratio > factor):
            return None
        mean = total / size
        return AnomalyDetected(
            detected_at=at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=symbol,
            value=ratio,
            threshold=factor,
            reason=(
                f"{symbol} volume {_amount(volume)} is {ratio:.1f}x the mean {_amount(mean)} of "
                f"the previous {size} bars, limit {factor:g}x"
            ),
        )


@dataclass(slots=True)
class _VolumeWindow:
    """The last volumes and their sum, recomputed exactly (`math.fsum`) once per window
    length so that float drift from adding and removing cannot build up."""

    volumes: deque[float]
    total: float = 0.0
    added: int = 0


class FundingRateDetector:
    """A perpetual's funding rate beyond ± `max_funding_rate` (MEDIUM); the value is the
    signed rate per funding interval (0.0015 = 0.15%: longs pay shorts)."""

    detector = Detector.FUNDING_RATE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._crossings: Crossings[Symbol] = Crossings()

    def update(self, symbol: Symbol, at: datetime, rate: float) -> AnomalyDetected | None:
        """Add `symbol`'s funding rate published at `at`; the finding when it just went
        beyond the limit."""
        limit = self.thresholds.max_funding_rate
        if not self._crossings.rising(symbol, abs(rate) > limit):
            return None
        payer = "longs pay shorts" if rate > 0 else "shorts pay longs"
        return AnomalyDetected(
            detected_at=at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=symbol,
            value=rate,
            threshold=limit,
            reason=f"{symbol} funding rate {rate:+.4%} ({payer}), limit ±{limit:.4%}",
        )


class BookImbalanceDetector:
    """Resting quantity lopsided on the best `book_levels` levels: |bid - ask| / (bid + ask)
    above `max_book_imbalance` (LOW).

    The value is signed, (bid - ask) / (bid + ask): +0.8 is a book heavy with buyers. A
    book with one empty side is fully imbalanced (±1); an empty book judges nothing.
    """

    detector = Detector.BOOK_IMBALANCE

    def __init__(self, thresholds: AnomalyThresholds | None = None) -> None:
        self.thresholds = thresholds or AnomalyThresholds()
        self._crossings: Crossings[Symbol] = Crossings()

    def on_book(self, book: OrderBook) -> AnomalyDetected | None:
        """`update` with a domain order-book snapshot."""
        levels = self.thresholds.book_levels
        return self.update(
            book.symbol,
            book.time,
            [float(level.quantity) for level in book.bids[:levels]],
            [float(level.quantity) for level in book.asks[:levels]],
        )

    def update(
        self, symbol: Symbol, at: datetime, bid_sizes: Sequence[float], ask_sizes: Sequence[float]
    ) -> AnomalyDetected | None:
        """Judge a book from its level sizes, best first (extra levels are ignored)."""
        levels = self.thresholds.book_levels
        bids = sum(bid_sizes[:levels])
        asks = sum(ask_sizes[:levels])
        total = bids + asks
        imbalance = (bids - asks) / total if total > 0 else 0.0
        limit = self.thresholds.max_book_imbalance
        if not self._crossings.rising(symbol, abs(imbalance) > limit):
            return None
        heavy = "bids" if imbalance > 0 else "asks"
        return AnomalyDetected(
            detected_at=at,
            detector=self.detector.value,
            severity=self.thresholds.severity(self.detector),
            subject=symbol,
            value=imbalance,
            threshold=limit,
            reason=(
                f"{symbol} book {imbalance:+.0%} imbalanced towards the {heavy} on the best "
                f"{levels} levels (bid {_amount(bids)}, ask {_amount(asks)}), limit {limit:.0%}"
            ),
        )


def _amount(value: float) -> str:
    """A volume or size for people: 9,114,980 or 10.9088."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"
