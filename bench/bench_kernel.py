"""Time the backtest kernel on the reference workload (sma_cross 10/30 on the KRX universe).

Run: ``python bench/bench_kernel.py``. x1 is the 32 KRX series of the shared data folder,
x16 the same universe replicated 16 times (copy k multiplies open/high/low/close by
1 + k * 2**-14, which keeps prices exactly representable). Signals are computed with
TA-Lib directly; timings: `signals` (SMA + crosses per series), `simulate` cold (first call
in this process: loads or compiles the numba code), and warm (best of 5).
The cold figure depends on the on-disk numba cache: run once with
``NUMBA_CACHE_DIR=$(mktemp -d)`` for a cold cache.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import talib

REPEATS = 5
PRICES = ["open", "high", "low", "close"]


def main() -> None:
    """Print cold and warm times of signals and simulate on x1 and x16."""
    started = time.perf_counter()
    from orchestrade.backtest.config import SimulationConfig
    from orchestrade.backtest.kernel import simulate
    from orchestrade.data import BarPanel
    from orchestrade.strategies.arrays import SignalArrays

    print(f"import: {time.perf_counter() - started:.2f} s")
    frame = _load(_data_folder() / "krx")
    config = SimulationConfig(cash=10_000_000.0, commission=0.001)
    for copies in (1, 16):
        panel = BarPanel.from_frame(_replicate(frame, copies))
        bars = int(np.count_nonzero(~np.isnan(panel.close)))
        signal_time, (entries, exits) = _best(lambda panel=panel: _signals(panel.close))
        signals = SignalArrays(
            symbols=panel.symbols,
            timestamps=panel.timestamps,
            entries=entries,
            exits=exits,
            entry_confidence=np.where(entries, 1.0, np.nan),
            exit_confidence=np.where(exits, 1.0, np.nan),
            reasons=np.zeros(panel.shape, dtype=np.int64),
            reason_names=(),
        )
        first = time.perf_counter()
        result = simulate(panel, signals, config)
        cold = time.perf_counter() - first
        warm, result = _best(lambda panel=panel, signals=signals: simulate(panel, signals, config))
        print(
            f"x{copies}: {len(panel.symbols)} series, {bars} bars, {len(result.trades)} trades;"
            f" signals {signal_time:.3f} s, simulate first call {cold:.3f} s,"
            f" warm {warm:.3f} s, signals+simulate warm {signal_time + warm:.3f} s"
        )


def _data_folder() -> Path:
    override = os.environ.get("ORCHESTRADE_SHARED_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"


def _load(folder: Path) -> pd.DataFrame:
    frames = []
    for path in sorted(folder.glob("*.csv.gz")):
        raw = pd.read_csv(path, dtype={"code": str, "ticker": str, "date": str})
        raw = raw[(raw[PRICES] > 0).all(axis=1)]
        frames.append(
            pd.DataFrame(
                {
                    "symbol": raw["code"],
                    "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d", utc=True),
                    **{name: raw[name].astype("float64") for name in [*PRICES, "volume"]},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _replicate(frame: pd.DataFrame, copies: int) -> pd.DataFrame:
    parts = []
    for k in range(copies):
        part = frame.copy()
        part["symbol"] = part["symbol"] + (f"_{k}" if k else "")
        part[PRICES] = part[PRICES] * (1 + k * 2.0**-14)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    entries = np.zeros(close.shape, dtype=bool)
    exits = np.zeros(close.shape, dtype=bool)
    for row in range(close.shape[0]):
        cells = np.flatnonzero(~np.isnan(close[row]))
        values = close[row, cells]
        fast, slow = talib.SMA(values, 10), talib.SMA(values, 30)
        above = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])
        below = (fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])
        entries[row, cells[1:]] = above
        exits[row, cells[1:]] = below
    return entries, exits


def _best(run):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


if __name__ == "__main__":
    main()
