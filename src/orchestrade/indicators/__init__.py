"""Technical indicators: every TA-Lib function by name, and incremental ones for live trading.

Batch (whole series, aligned with the input):
    ``compute("rsi", frame, timeperiod=14)``, ``add_indicators(frame, ["obv", ("sma", {...})])``
    and the named shortcuts ``sma, ema, wma, rsi, macd, bbands, stoch, atr, adx, obv, cci,
    mfi, willr``. Column names follow one scheme: ``sma_20``, ``macd_signal_12_26_9``,
    ``bb_upper_20_2`` (see `registry`).
Streaming (one bar at a time, equal to the batch values after warm-up):
    ``SMA, EMA, RSI, MACD, BollingerBands, Stochastic, ATR, OBV``.
Crossovers: ``crossed_above``/``crossed_below`` on the last bar, ``cross_above``/
``cross_below`` for every bar.

The names are imported on first use: a process that only describes indicators or loads a
strategy spec (the array backtest) does not load TA-Lib, nor pandas, which TA-Lib imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrade.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from orchestrade.indicators.batch import add_indicators, compute, evaluate
    from orchestrade.indicators.crosses import (
        cross_above,
        cross_below,
        crossed_above,
        crossed_below,
    )
    from orchestrade.indicators.errors import IndicatorError
    from orchestrade.indicators.functions import (
        adx,
        atr,
        bbands,
        cci,
        ema,
        macd,
        mfi,
        obv,
        rsi,
        sma,
        stoch,
        willr,
        wma,
    )
    from orchestrade.indicators.registry import (
        IndicatorSpec,
        column_names,
        describe,
        indicator_names,
        lookback,
        resolve_parameters,
    )
    from orchestrade.indicators.streaming import (
        ATR,
        EMA,
        MACD,
        OBV,
        RSI,
        SMA,
        BandsValue,
        BollingerBands,
        MACDValue,
        Stochastic,
        StochasticValue,
    )

__all__ = [
    "ATR",
    "EMA",
    "MACD",
    "OBV",
    "RSI",
    "SMA",
    "BandsValue",
    "BollingerBands",
    "IndicatorError",
    "IndicatorSpec",
    "MACDValue",
    "Stochastic",
    "StochasticValue",
    "add_indicators",
    "adx",
    "atr",
    "bbands",
    "cci",
    "column_names",
    "compute",
    "cross_above",
    "cross_below",
    "crossed_above",
    "crossed_below",
    "describe",
    "ema",
    "evaluate",
    "indicator_names",
    "lookback",
    "macd",
    "mfi",
    "obv",
    "resolve_parameters",
    "rsi",
    "sma",
    "stoch",
    "willr",
    "wma",
]

_MODULES = {
    "batch": ("add_indicators", "compute", "evaluate"),
    "crosses": ("cross_above", "cross_below", "crossed_above", "crossed_below"),
    "errors": ("IndicatorError",),
    "functions": (
        "adx",
        "atr",
        "bbands",
        "cci",
        "ema",
        "macd",
        "mfi",
        "obv",
        "rsi",
        "sma",
        "stoch",
        "willr",
        "wma",
    ),
    "registry": (
        "IndicatorSpec",
        "column_names",
        "describe",
        "indicator_names",
        "lookback",
        "resolve_parameters",
    ),
    "streaming": (
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
    ),
}
_HOMES = {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
