"""Benchmark the market data store: import the S&P 500 file, load it back into a panel.

For scale, the same run times pandas.read_csv of the gzip file and pandas.read_parquet of
the same data written to a temporary Parquet file. Run: `python bench/bench_store.py`.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from orchestrade.data.importing import import_paths
from orchestrade.storage import open_store

REPO = Path(__file__).resolve().parents[1]
SP500 = "us_daily/sp500_5yr.csv.gz"
REPEATS = 5


def main() -> None:
    """Print a table of timings (seconds) and ratios to the pandas readers."""
    source = _shared_data() / SP500
    if not source.is_file():
        raise SystemExit(f"benchmark data not found: {source}")
    with tempfile.TemporaryDirectory() as folder:
        with open_store(f"sqlite:///{Path(folder) / 'bench.db'}") as store:
            started = time.perf_counter()
            report = import_paths([source], store)
            import_s = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(f"import failed: {report.failed[0].error}")
            reimport_s = _best(lambda: import_paths([source], store), 1)
            panel_s = _best(lambda: store.bars.load_bars(timeframe="1d"), REPEATS)
            frame_s = _best(lambda: store.load_bars(timeframe="1d"), REPEATS)
            loaded = store.load_bars(timeframe="1d")
            panel, frame = loaded.panel, loaded.frame
        csv_s = _best(lambda: pd.read_csv(source, dtype={"symbol": str}), REPEATS)
        parquet = Path(folder) / "sp500.parquet"
        frame.to_parquet(parquet)
        parquet_s = _best(lambda: pd.read_parquet(parquet), REPEATS)
    bars = len(frame)
    rows = [
        ("import sp500 into fresh SQLite (read+clean+upsert)", import_s),
        ("re-import same file (0 inserted)", reimport_s),
        (f"store.bars.load_bars -> BarPanel (best of {REPEATS})", panel_s),
        (f"load_bars -> LoadedBars (panel + frame) (best of {REPEATS})", frame_s),
        (f"pandas.read_csv gz (best of {REPEATS})", csv_s),
        (f"pandas.read_parquet (best of {REPEATS})", parquet_s),
    ]
    print(
        f"S&P 500 daily: {bars:,} bars, {len(panel.symbols)} symbols, "
        f"{report.files[0].rejected_total} rejected rows"
    )
    print(f"{'step':<55} {'seconds':>8} {'bars/s':>12} {'vs load':>8}")
    for name, seconds in rows:
        print(f"{name:<55} {seconds:>8.3f} {bars / seconds:>12,.0f} {seconds / panel_s:>7.2f}x")
    print(
        f"load_bars / read_csv = {panel_s / csv_s:.2f}; "
        f"load_bars / read_parquet = {panel_s / parquet_s:.2f}"
    )


def _best(action: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def _shared_data() -> Path:
    override = os.environ.get("ORCHESTRADE_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


if __name__ == "__main__":
    main()
