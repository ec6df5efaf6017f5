"""Time the backtest kernel on the reference workload (sma_cross 10/30 on the KRX universe).

Run: ``python bench/bench_kernel.py [--repeats N]``. x1 is the 32 KRX series of the shared
data folder, x16 the same universe replicated 16 times (copy k multiplies
open/high/low/close by 1 + k * 2**-14, which keeps prices exactly representable). Signals
are computed with TA-Lib directly, so the figures are the kernel's own.

Every scenario runs in a fresh worker process (this file with ``--worker``) sharing one
temporary ``NUMBA_CACHE_DIR``:

* cold: x16 with the cache still empty (the first call compiles the kernel);
* then, with the cache filled, x1 and x16 with ``record="full"`` (equity, cash and
  position at every bar) and ``record="equity"`` (equity only): the first call, the best
  of ``--repeats`` warm calls, and the worker's peak RSS (before = peak before the first
  call: data and imports).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import talib

PRICES = ["open", "high", "low", "close"]
SCENARIOS = (  # label, scale, record
    ("cold x16", 16, "full"),
    ("x1 full", 1, "full"),
    ("x1 equity", 1, "equity"),
    ("x16 full", 16, "full"),
    ("x16 equity", 16, "equity"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario in a fresh process and print one line per scenario."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm calls per scenario")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--record", default="full", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.scale, args.record, args.repeats)))
        return 0
    header = (
        f"{'scenario':<12}{'import':>8}{'signals':>9}{'1st call':>10}{'warm':>8}"
        f"{'trades':>8}{'RSS MB':>8}{'before':>8}"
    )
    print(header + "\n" + "-" * len(header))
    with tempfile.TemporaryDirectory(prefix="bench_kernel_") as cache:
        for label, scale, record in SCENARIOS:
            repeats = 0 if label.startswith("cold") else args.repeats
            row = _spawn(cache, scale, record, repeats)
            warm = "-" if row["warm_s"] is None else f"{row['warm_s']:.3f}"
            print(
                f"{label:<12}{row['import_s']:>8.3f}{row['signals_s']:>9.3f}"
                f"{row['first_call_s']:>10.3f}{warm:>8}{row['trades']:>8}"
                f"{row['peak_rss_mb']:>8.0f}{row['rss_before_mb']:>8.0f}",
                flush=True,
            )
    print(
        "seconds; import = importing the kernel; 1st call = first simulate() in the process\n"
        "(compiles on the cold row, loads the on-disk cache on the others); warm = best warm\n"
        "simulate(); RSS = the worker's peak resident set (data and imports included)"
    )
    return 0


def _spawn(cache: str, scale: int, record: str, repeats: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    command += ["--scale", str(scale), "--record", record, "--repeats", str(repeats)]
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _worker(scale: int, record: str, repeats: int) -> dict[str, Any]:
    panel = _panel(scale)
    started = time.perf_counter()
    from orchestrade.backtest.config import SimulationConfig
    from orchestrade.backtest.kernel import simulate
    from orchestrade.strategies.arrays import SignalArrays

    import_s = time.perf_counter() - started
    before = _peak_rss_mb()
    signals_s, (entries, exits) = _timed(lambda: _signals(panel.close))
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
    config = SimulationConfig(cash=10_000_000.0, commission=0.001)
    first_s, result = _timed(lambda: simulate(panel, signals, config, record=record))  # type: ignore[arg-type]
    trades = len(result.trades)
    del result
    warm = [
        _timed(lambda: simulate(panel, signals, config, record=record))[0]  # type: ignore[arg-type]
        for _ in range(repeats)
    ]
    return {
        "import_s": import_s,
        "signals_s": signals_s,
        "first_call_s": first_s,
        "warm_s": min(warm) if warm else None,
        "trades": trades,
        "rss_before_mb": before,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _panel(scale: int) -> Any:
    from orchestrade.data import BarPanel

    return BarPanel.from_frame(_replicate(_load(_data_folder() / "krx"), scale))


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


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB: ``VmHWM`` on Linux (``ru_maxrss`` of a
    child process also counts its parent's resident set at the fork), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


if __name__ == "__main__":
    sys.exit(main())
