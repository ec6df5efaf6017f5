"""The benchmark hands the universe to its workers as .npy files, read back with numpy only,
so that a worker holds nothing its engine did not load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from orchestrade.data import BarPanel
from peers.panel_files import FIELDS, load_panel, save_panel

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_a_saved_panel_reads_back_identical(tiny_panel: BarPanel, tmp_path: Path) -> None:
    save_panel(tiny_panel, tmp_path / "x1")

    panel = load_panel(tmp_path / "x1")

    assert panel.symbols == tiny_panel.symbols
    for name in FIELDS:
        mine, theirs = getattr(panel, name), getattr(tiny_panel, name)
        assert mine.dtype == theirs.dtype
        assert mine.tobytes() == theirs.tobytes(), name


def test_our_engine_runs_on_the_read_back_panel(tiny_panel: BarPanel, tmp_path: Path) -> None:
    from peers.orchestrade_engine import run_orchestrade

    save_panel(tiny_panel, tmp_path / "x1")

    trades, equity, _ = run_orchestrade(load_panel(tmp_path / "x1"), fast=5, slow=12)

    expected_trades, expected_equity, _ = run_orchestrade(tiny_panel, fast=5, slow=12)
    assert trades.tobytes() == expected_trades.tobytes()
    assert np.array_equal(equity, expected_equity)
    assert trades.size > 3


def test_a_worker_starts_with_numpy_only(tiny_panel: BarPanel, tmp_path: Path) -> None:
    save_panel(tiny_panel, tmp_path / "x1")
    script = (
        "import sys\n"
        "import bench_backtest\n"
        "from peers.panel_files import load_panel\n"
        f"load_panel(__import__('pathlib').Path({str(tmp_path / 'x1')!r}))\n"
        "heavy = {'pandas', 'numba', 'orchestrade', 'vectorbt', 'pyarrow'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=BENCH, capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "[]"
