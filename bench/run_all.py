"""Run every benchmark in this folder, one after the other (`make bench`)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

BENCHMARKS = (
    "bench_store",
    "bench_indicators",
    "bench_bus",
    "bench_risk",
    "bench_oms",
    "bench_replay",
    "bench_backtest",
    "bench_api",
)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(name).main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
