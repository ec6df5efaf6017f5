"""Incremental Bollinger bands and average true range equal to talib.BBANDS and talib.ATR.

Both follow TA-Lib's definitions, warm-up and seeding (see `streaming.averages`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from orchestrade.indicators.streaming.checks import (
    reject_bad_input,
    require_finite,
    require_period,
)

_CANCELLATION_LIMIT = 1e-6
"""Recompute the variance exactly once the sliding sum falls below this share of the
magnitude of the updates that built it: its relative rounding error then stays < ~1e-9."""


class BandsValue(NamedTuple):
    """One bar of Bollinger bands."""

    upper: float
    middle: float
    lower: float


class BollingerBands:
    """SMA middle band +/- multiples of the population standard deviation (talib.BBANDS).

    The middle band is TA-Lib's running-sum SMA, bit for bit. The variance is kept as a
    sum of squared deviations updated in O(1) when a value enters and one leaves (a
    sliding Welford update) and recomputed exactly from the window once per `period`
    updates, or sooner when the sum has cancelled down near its rounding noise, so
    rounding cannot accumulate and a flat window reads exactly 0. The textbook "mean of
    squares minus square of the mean" shortcut is avoided: on prices it cancels
    catastrophically (1e-7 relative error on hourly BTC closes). `warmup` = `period`.
    """

    __slots__ = (
        "_count",
        "_mean",
        "_position",
        "_scale",
        "_squared_deviations",
        "_total",
        "_window",
        "nbdevdn",
        "nbdevup",
        "period",
        "value",
        "warmup",
    )

    def __init__(self, period: int = 20, nbdevup: float = 2.0, nbdevdn: float = 2.0) -> None:
        self.period = require_period("BollingerBands", "period", period, minimum=2)
        self.nbdevup = require_finite("BollingerBands", "nbdevup", nbdevup)
        self.nbdevdn = require_finite("BollingerBands", "nbdevdn", nbdevdn)
        self.warmup = self.period
        self.value: BandsValue | None = None
        self._window = [0.0] * self.period
        self._position = 0
        self._count = 0
        self._total = 0.0
        self._mean = 0.0
        self._squared_deviations = 0.0
        self._scale = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, value: float) -> BandsValue | None:
        """Add the next value; return upper, middle and lower band, or None."""
        if value - value != 0.0:
            reject_bad_input("BollingerBands", value)
        period = self.period
        window = self._window
        position = self._position
        leaving = window[position]
        window[position] = value
        self._total += value
        position += 1
        if position == period:
            position = 0
        self._position = position
        if self._count < period - 1:
            self._count += 1
            return None
        middle = self._total / period
        # TA-Lib drops the oldest value of the window just averaged, after averaging.
        self._total -= window[position]
        if position == 0 or self.value is None:
            mean, squared_deviations = _exact_moments(window)
            scale = squared_deviations
        else:
            previous_mean = self._mean
            mean = previous_mean + (value - leaving) / period
            increment = (value - leaving) * ((value - mean) + (leaving - previous_mean))
            squared_deviations = self._squared_deviations + increment
            scale = self._scale + abs(increment)
            if squared_deviations <= _CANCELLATION_LIMIT * scale:
                # The sum has cancelled down to its rounding noise (e.g. a flat window
                # after a move): recompute it exactly, so a flat window reads 0.
                mean, squared_deviations = _exact_moments(window)
                scale = squared_deviations
        self._mean = mean
        self._squared_deviations = squared_deviations
        self._scale = scale
        variance = squared_deviations / period
        deviation = math.sqrt(variance) if variance > 0.0 else 0.0
        bands = BandsValue(
            middle + deviation * self.nbdevup, middle, middle - deviation * self.nbdevdn
        )
        self.value = bands
        return bands


def _exact_moments(window: list[float]) -> tuple[float, float]:
    """Mean and sum of squared deviations of `window`, by two passes (O(period))."""
    mean = math.fsum(window) / len(window)
    return mean, math.fsum((value - mean) * (value - mean) for value in window)


class ATR:
    """Wilder's average true range (talib.ATR).

    The true range needs the previous close, so the first bar only primes it; the ATR is
    seeded with the simple average of the first `period` true ranges and then smoothed as
    ``atr = (atr * (period - 1) + true_range) / period``. `warmup` = `period` + 1 bars.
    """

    __slots__ = ("_count", "_previous_close", "_total", "period", "value", "warmup")

    def __init__(self, period: int = 14) -> None:
        self.period = require_period("ATR", "period", period, minimum=1)
        self.warmup = self.period + 1
        self.value: float | None = None
        self._previous_close: float | None = None
        self._count = 0
        self._total = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, high: float, low: float, close: float) -> float | None:
        """Add the next bar; return the ATR, or None during warm-up."""
        if (high + low + close) * 0.0 != 0.0:
            reject_bad_input("ATR", high, low, close)
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close is None:
            return None
        true_range = high - low
        gap_high = abs(previous_close - high)
        if gap_high > true_range:
            true_range = gap_high
        gap_low = abs(previous_close - low)
        if gap_low > true_range:
            true_range = gap_low
        atr = self.value
        if atr is not None:
            atr *= self.period - 1
            atr += true_range
            atr /= self.period
            self.value = atr
            return atr
        self._total += true_range
        self._count += 1
        if self._count < self.period:
            return None
        seed = self._total / self.period
        self.value = seed
        return seed
