"""Incremental RSI, MACD and slow stochastic that equal talib.RSI, talib.MACD, talib.STOCH.

Each follows TA-Lib's warm-up, seeding and recurrences (see `streaming.averages` for how
close the floating-point results are: Stochastic is bit-identical, RSI and MACD agree to
about 1e-11 relative).
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from orchestrade.indicators.streaming.averages import SMA
from orchestrade.indicators.streaming.checks import reject_bad_input, require_period

_STOCH_ZERO_RANGE = 1e-14
"""TA-Lib treats a high-low range within 1e-14 of |high| + |low| as flat (%K = 0)."""


class RSI:
    """Wilder's relative strength index, 0..100 (talib.RSI).

    The average gain and loss are seeded with the simple averages of the first `period`
    changes, then smoothed as ``avg = (avg * (period - 1) + change) / period``. A window
    without any change reads 0, as in TA-Lib. `warmup` = `period` + 1 closes.
    """

    __slots__ = ("_changes", "_gain", "_loss", "_previous", "period", "value", "warmup")

    def __init__(self, period: int = 14) -> None:
        self.period = require_period("RSI", "period", period, minimum=2)
        self.warmup = self.period + 1
        self.value: float | None = None
        self._previous: float | None = None
        self._changes = 0
        self._gain = 0.0
        self._loss = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, close: float) -> float | None:
        """Add the next close; return the RSI, or None during warm-up."""
        if close - close != 0.0:
            reject_bad_input("RSI", close)
        previous = self._previous
        self._previous = close
        if previous is None:
            return None
        change = close - previous
        if self.value is None:
            if change < 0.0:
                self._loss -= change
            else:
                self._gain += change
            self._changes += 1
            if self._changes < self.period:
                return None
            loss = self._loss / self.period
            gain = self._gain / self.period
        else:
            loss = self._loss * (self.period - 1)
            gain = self._gain * (self.period - 1)
            if change < 0.0:
                loss -= change
            else:
                gain += change
            loss /= self.period
            gain /= self.period
        self._loss = loss
        self._gain = gain
        total = gain + loss
        rsi = 100.0 * (gain / total) if total != 0.0 else 0.0
        self.value = rsi
        return rsi


class MACDValue(NamedTuple):
    """One bar of MACD: the line, its signal EMA, and their difference."""

    macd: float
    signal: float
    histogram: float


class MACD:
    """Moving average convergence/divergence (talib.MACD).

    As in TA-Lib, the fast and slow EMAs are both seeded on bar ``slow - 1`` (the fast one
    with the average of the last `fast` of those bars), and the signal EMA is seeded with
    the average of the first `signal` MACD values. A `slow` shorter than `fast` is swapped,
    as TA-Lib does. `warmup` = ``slow + signal - 1`` closes.
    """

    __slots__ = (
        "_count",
        "_fast",
        "_fast_k",
        "_fast_total",
        "_signal",
        "_signal_count",
        "_signal_k",
        "_signal_total",
        "_slow",
        "_slow_k",
        "_slow_total",
        "fast",
        "signal",
        "slow",
        "value",
        "warmup",
    )

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        fast = require_period("MACD", "fast", fast, minimum=2)
        slow = require_period("MACD", "slow", slow, minimum=2)
        self.fast, self.slow = (slow, fast) if slow < fast else (fast, slow)
        self.signal = require_period("MACD", "signal", signal, minimum=1)
        self.warmup = self.slow + self.signal - 1
        self.value: MACDValue | None = None
        self._fast_k = 2.0 / (self.fast + 1)
        self._slow_k = 2.0 / (self.slow + 1)
        self._signal_k = 2.0 / (self.signal + 1)
        self._count = 0
        self._fast_total = 0.0
        self._slow_total = 0.0
        self._signal_total = 0.0
        self._signal_count = 0
        self._fast = 0.0
        self._slow = 0.0
        self._signal = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, close: float) -> MACDValue | None:
        """Add the next close; return MACD line, signal and histogram, or None."""
        if close - close != 0.0:
            reject_bad_input("MACD", close)
        if self.value is not None:
            fast = (close - self._fast) * self._fast_k + self._fast
            slow = (close - self._slow) * self._slow_k + self._slow
            self._fast = fast
            self._slow = slow
            line = fast - slow
            signal = (line - self._signal) * self._signal_k + self._signal
            self._signal = signal
            value = MACDValue(line, signal, line - signal)
            self.value = value
            return value
        return self._warm_up(close)

    def _warm_up(self, close: float) -> MACDValue | None:
        count = self._count
        self._count = count + 1
        if count < self.slow:
            self._slow_total += close
            if count >= self.slow - self.fast:
                self._fast_total += close
            if count < self.slow - 1:
                return None
            self._slow = self._slow_total / self.slow
            self._fast = self._fast_total / self.fast
        else:
            self._fast = (close - self._fast) * self._fast_k + self._fast
            self._slow = (close - self._slow) * self._slow_k + self._slow
        line = self._fast - self._slow
        self._signal_total += line
        self._signal_count += 1
        if self._signal_count < self.signal:
            return None
        signal = self._signal_total / self.signal
        self._signal = signal
        value = MACDValue(line, signal, line - signal)
        self.value = value
        return value


class StochasticValue(NamedTuple):
    """One bar of the slow stochastic: %K and its moving average %D."""

    k: float
    d: float


class Stochastic:
    """Slow stochastic %K/%D with SMA smoothing (talib.STOCH defaults 5, 3, 3).

    Fast %K is ``100 * (close - lowest low) / (highest high - lowest low)`` over `fastk`
    bars (0 on a flat window); slow %K is its `slowk`-bar SMA and %D the `slowd`-bar SMA of
    slow %K. The window extremes are kept in monotonic queues (amortised O(1)).
    `warmup` = ``fastk + slowk + slowd - 2`` bars.
    """

    __slots__ = (
        "_count",
        "_d_average",
        "_highs",
        "_k_average",
        "_lows",
        "fastk",
        "slowd",
        "slowk",
        "value",
        "warmup",
    )

    def __init__(self, fastk: int = 5, slowk: int = 3, slowd: int = 3) -> None:
        self.fastk = require_period("Stochastic", "fastk", fastk, minimum=1)
        self.slowk = require_period("Stochastic", "slowk", slowk, minimum=1)
        self.slowd = require_period("Stochastic", "slowd", slowd, minimum=1)
        self.warmup = self.fastk + self.slowk + self.slowd - 2
        self.value: StochasticValue | None = None
        self._count = 0
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()
        self._k_average = SMA(self.slowk)
        self._d_average = SMA(self.slowd)

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, high: float, low: float, close: float) -> StochasticValue | None:
        """Add the next bar; return slow %K and %D, or None during warm-up."""
        if (high + low + close) * 0.0 != 0.0:
            reject_bad_input("Stochastic", high, low, close)
        count = self._count
        self._count = count + 1
        highs = self._highs
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((count, high))
        if highs[0][0] <= count - self.fastk:
            highs.popleft()
        lows = self._lows
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((count, low))
        if lows[0][0] <= count - self.fastk:
            lows.popleft()
        if count < self.fastk - 1:
            return None
        highest = highs[0][1]
        lowest = lows[0][1]
        spread = highest - lowest
        if abs(spread) <= _STOCH_ZERO_RANGE * (abs(highest) + abs(lowest)):
            fast_k = 0.0
        else:
            fast_k = ((close - lowest) / spread) * 100.0
        slow_k = self._k_average.update(fast_k)
        if slow_k is None:
            return None
        slow_d = self._d_average.update(slow_k)
        if slow_d is None:
            return None
        value = StochasticValue(slow_k, slow_d)
        self.value = value
        return value
