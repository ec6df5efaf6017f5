"""Incremental simple and exponential moving averages that match TA-Lib bar for bar.

The streaming indicators follow TA-Lib's definitions exactly: same warm-up, same seeding
(simple averages), same recurrences. Where it pays, they also follow TA-Lib's *operation
order* so that results are bit-identical:

* SMA keeps TA-Lib's running window sum (add the new value, divide, then subtract the
  value that leaves). TA-Lib 0.8 still computes SMA that way, so the stream equals
  talib.SMA bit for bit on any data, and so do the SMA-smoothed Stochastic lines and the
  BBANDS middle band. Bit equality matters for crossovers: SMA ties are common on
  integer-priced markets such as KRX, and a backtest (batch) and a live agent (stream)
  must take the same decisions. The running sum's rounding stays at ``n * eps * max|x|``
  and is exactly zero on integer data (KRX prices and volumes); a compensated sum would
  be closer to the exact mean but further from TA-Lib, so it is not used here.
* EMA, RSI, ATR and MACD recurrences are evaluated in the textbook order; TA-Lib 0.8's C
  code orders a few operations differently, which shows only in the last bits (measured
  at most about 1e-11 relative on KRX, crypto and random-walk series).
* BollingerBands keeps its variance numerically stable (see `volatility.BollingerBands`).
"""

from __future__ import annotations

from collections import deque

from orchestrade.indicators.streaming.checks import reject_bad_input, require_period


class SMA:
    """Simple moving average over the last `period` values (talib.SMA).

    `update` returns None until `warmup` (= `period`) values have been seen.
    """

    __slots__ = ("_total", "_window", "period", "value", "warmup")

    def __init__(self, period: int) -> None:
        self.period = require_period("SMA", "period", period, minimum=1)
        self.warmup = self.period
        self.value: float | None = None
        self._window: deque[float] = deque(maxlen=self.period)
        self._total = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, value: float) -> float | None:
        """Add the next value; return the average of the last `period` values, or None."""
        if value - value != 0.0:
            reject_bad_input("SMA", value)
        window = self._window
        window.append(value)
        total = self._total + value
        if len(window) < self.period:
            self._total = total
            return None
        average = total / self.period
        # TA-Lib drops the oldest value of the window just averaged, after averaging.
        self._total = total - window[0]
        self.value = average
        return average


class EMA:
    """Exponential moving average with k = 2 / (period + 1) (talib.EMA).

    Seeded, like TA-Lib, with the simple average of the first `period` values; `update`
    returns None until `warmup` (= `period`) values have been seen.
    """

    __slots__ = ("_count", "_k", "_total", "period", "value", "warmup")

    def __init__(self, period: int) -> None:
        self.period = require_period("EMA", "period", period, minimum=1)
        self.warmup = self.period
        self.value: float | None = None
        self._k = 2.0 / (self.period + 1)
        self._count = 0
        self._total = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, value: float) -> float | None:
        """Add the next value; return the updated average, or None during warm-up."""
        if value - value != 0.0:
            reject_bad_input("EMA", value)
        previous = self.value
        if previous is not None:
            current = (value - previous) * self._k + previous
            self.value = current
            return current
        self._total += value
        self._count += 1
        if self._count < self.period:
            return None
        seed = self._total / self.period
        self.value = seed
        return seed
