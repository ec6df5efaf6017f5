"""Cost per update of each streaming indicator, beside TA-Lib's batch cost per bar.

Run: ``python bench/bench_indicators.py``. Uses the longest KRX daily series from the
shared data folder (``ORCHESTRADE_SHARED_DATA`` or ``../shared/data``), or a seeded
synthetic random walk when that folder is absent; the first line says which.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import talib

from orchestrade.indicators import ATR, EMA, MACD, OBV, RSI, SMA, BollingerBands, Stochastic

REPEATS = 5
Series = dict[str, np.ndarray[Any, np.dtype[np.float64]]]


def main() -> None:
    """Print one table row per streaming indicator: ns/update, TA-Lib ns/bar, ratio."""
    series, source = _load_series()
    length = len(series["close"])
    print(f"data: {source}, {length} bars; best of {REPEATS} runs")
    high, low, close, volume = (series[c] for c in ("high", "low", "close", "volume"))
    h, lo, c, v = (column.tolist() for column in (high, low, close, volume))
    cases: list[tuple[str, Callable[[], None], Callable[[], object]]] = [
        ("SMA(20)", lambda: _feed1(SMA(20), c), lambda: talib.SMA(close, 20)),
        ("EMA(20)", lambda: _feed1(EMA(20), c), lambda: talib.EMA(close, 20)),
        ("RSI(14)", lambda: _feed1(RSI(14), c), lambda: talib.RSI(close, 14)),
        ("MACD(12,26,9)", lambda: _feed1(MACD(), c), lambda: talib.MACD(close)),
        (
            "BollingerBands(20,2)",
            lambda: _feed1(BollingerBands(20), c),
            lambda: talib.BBANDS(close, 20, 2.0, 2.0),
        ),
        (
            "Stochastic(5,3,3)",
            lambda: _feed3(Stochastic(), h, lo, c),
            lambda: talib.STOCH(high, low, close),
        ),
        ("ATR(14)", lambda: _feed3(ATR(14), h, lo, c), lambda: talib.ATR(high, low, close, 14)),
        ("OBV", lambda: _feed2(OBV(), c, v), lambda: talib.OBV(close, volume)),
    ]
    print(f"{'indicator':<22}{'stream ns/update':>18}{'talib ns/bar':>14}{'ratio':>9}")
    for name, streaming, batch in cases:
        stream_ns = _best_ns(streaming) / length
        batch_ns = _best_ns(batch) / length
        print(f"{name:<22}{stream_ns:>18.0f}{batch_ns:>14.1f}{stream_ns / batch_ns:>8.0f}x")


def _feed1(indicator: Any, values: list[float]) -> None:
    update = indicator.update
    for value in values:
        update(value)


def _feed2(indicator: Any, first: list[float], second: list[float]) -> None:
    update = indicator.update
    for a, b in zip(first, second, strict=True):
        update(a, b)


def _feed3(indicator: Any, high: list[float], low: list[float], close: list[float]) -> None:
    update = indicator.update
    for a, b, c in zip(high, low, close, strict=True):
        update(a, b, c)


def _best_ns(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        run()
        best = min(best, time.perf_counter_ns() - start)
    return best


def _load_series() -> tuple[Series, str]:
    override = os.environ.get("ORCHESTRADE_SHARED_DATA")
    root = Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared"
    folder = (root if override else root / "data") / "krx"
    files = sorted(folder.glob("*.csv.gz")) if folder.is_dir() else []
    if files:
        frames = {path: pd.read_csv(path, dtype={"code": str}) for path in files}
        path, frame = max(frames.items(), key=lambda item: len(item[1]))
        columns = ("high", "low", "close", "volume")
        series = {c: frame[c].to_numpy(dtype=np.float64) for c in columns}
        return series, f"KRX {path.name}"
    rng = np.random.default_rng(42)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, 8_000)))
    synthetic = {
        "close": close,
        "high": close * (1.0 + rng.uniform(0.0, 0.02, close.size)),
        "low": close * (1.0 - rng.uniform(0.0, 0.02, close.size)),
        "volume": rng.integers(1_000, 1_000_000, close.size).astype(np.float64),
    }
    return synthetic, f"synthetic random walk (no KRX files under {folder})"


if __name__ == "__main__":
    main()
