"""Make the benchmark's `peers` package importable and build tiny universes for its tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from orchestrade.data import BarPanel  # noqa: E402


def random_panel(seed: int = 7, n_times: int = 300) -> BarPanel:
    """Three symbols of integer-priced random walks: one starts late, one ends early."""
    rng = np.random.default_rng(seed)
    shape = (3, n_times)
    close = 1_000.0 + np.cumsum(rng.integers(-20, 21, shape), axis=1).astype(np.float64)
    open_ = close - rng.integers(-10, 11, shape)
    high = np.maximum(open_, close) + rng.integers(0, 5, shape)
    low = np.minimum(open_, close) - rng.integers(0, 5, shape)
    volume = rng.integers(1_000, 5_000, shape).astype(np.float64)
    arrays = [open_, high, low, close, volume]
    for array in arrays:
        array[1, n_times - 20 :] = np.nan
        array[2, :50] = np.nan
    stamps = np.datetime64("2020-01-01", "ns") + np.arange(n_times) * np.timedelta64(1, "D")
    return BarPanel(("AAA", "BBB", "CCC"), stamps, *arrays)


@pytest.fixture
def tiny_panel() -> BarPanel:
    """`random_panel()`: 3 symbols x 300 days with leading and trailing gaps."""
    return random_panel()
