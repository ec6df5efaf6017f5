"""Incremental on-balance volume equal to talib.OBV."""

from __future__ import annotations

from orchestrade.indicators.streaming.checks import reject_bad_input


class OBV:
    """On-balance volume: running volume added on up closes, subtracted on down closes.

    As in TA-Lib the first bar's value is its own volume, so `warmup` = 1. The sum is
    accumulated in TA-Lib's order and therefore equals talib.OBV exactly.
    """

    __slots__ = ("_previous_close", "value", "warmup")

    def __init__(self) -> None:
        self.warmup = 1
        self.value: float | None = None
        self._previous_close = 0.0

    @property
    def is_ready(self) -> bool:
        """True once a value is available."""
        return self.value is not None

    def update(self, close: float, volume: float) -> float:
        """Add the next bar; return the on-balance volume."""
        if (close + volume) * 0.0 != 0.0:
            reject_bad_input("OBV", close, volume)
        obv = self.value
        if obv is None:
            obv = volume
        elif close > self._previous_close:
            obv += volume
        elif close < self._previous_close:
            obv -= volume
        self._previous_close = close
        self.value = obv
        return obv
