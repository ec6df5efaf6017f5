"""Incremental indicators for live trading: O(1) work per bar, equal to TA-Lib's batch values.

Every class has ``update(...)`` (None until warm-up is done), ``value`` (the last result or
None), ``is_ready`` and ``warmup`` (the number of updates that produce the first value,
TA-Lib's lookback + 1).
"""

from orchestrade.indicators.streaming.averages import EMA, SMA
from orchestrade.indicators.streaming.momentum import (
    MACD,
    RSI,
    MACDValue,
    Stochastic,
    StochasticValue,
)
from orchestrade.indicators.streaming.volatility import ATR, BandsValue, BollingerBands
from orchestrade.indicators.streaming.volume import OBV

__all__ = [
    "ATR",
    "EMA",
    "MACD",
    "OBV",
    "RSI",
    "SMA",
    "BandsValue",
    "BollingerBands",
    "MACDValue",
    "Stochastic",
    "StochasticValue",
]
