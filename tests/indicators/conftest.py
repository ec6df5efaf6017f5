"""Synthetic bar frames for the indicator tests (real data comes from `shared_data`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def random_bars(length: int, seed: int) -> pd.DataFrame:
    """A positive random-walk OHLCV frame with consistent high/low, on a UTC daily index."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, length)))
    open_ = close * np.exp(rng.normal(0.0, 0.005, length))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.02, length))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.02, length))
    volume = rng.integers(1_000, 1_000_000, length).astype(np.float64)
    index = pd.date_range("2024-01-01", periods=length, freq="D", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=index,
    )


@pytest.fixture(scope="session")
def bars() -> pd.DataFrame:
    """300 bars of a random walk (seeded)."""
    return random_bars(300, seed=7)


@pytest.fixture(scope="session")
def make_bars() -> object:
    """The `random_bars(length, seed)` builder, for tests that need other sizes."""
    return random_bars
