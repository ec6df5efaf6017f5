"""Fixtures for the strategy tests: small hand-made panels and the real KRX universe."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from orchestrade.data import BarPanel, clean_bars, read_market_file


def make_panel(
    close: npt.ArrayLike,
    *,
    volume: npt.ArrayLike | None = None,
    symbols: Sequence[str] | None = None,
    spread: float = 0.0,
) -> BarPanel:
    """A panel from closes shaped (symbols, times): open = close, high/low = close +/-
    `spread`, NaN closes are bars the symbol does not have; daily UTC timestamps."""
    closes = np.asarray(close, dtype=np.float64)
    if closes.ndim == 1:
        closes = closes[np.newaxis, :]
    n_symbols, n_times = closes.shape
    volumes = (
        np.where(np.isnan(closes), np.nan, 1000.0)
        if volume is None
        else np.asarray(volume, dtype=np.float64).reshape(closes.shape)
    )
    names = tuple(symbols) if symbols is not None else tuple(f"S{i}" for i in range(n_symbols))
    stamps = pd.date_range("2024-01-01", periods=n_times, freq="D").to_numpy("datetime64[ns]")
    return BarPanel(
        names, stamps, closes.copy(), closes + spread, closes - spread, closes.copy(), volumes
    )


@cache
def _krx_panel(folder: Path) -> BarPanel:
    frames = [read_market_file(path).frame for path in sorted(folder.glob("*.csv.gz"))]
    clean, _ = clean_bars(pd.concat(frames, ignore_index=True))
    return BarPanel.from_frame(clean)


@pytest.fixture(scope="session")
def krx_panel(shared_data: Path) -> BarPanel:
    """Every KRX daily series of the shared data, cleaned, as one aligned panel."""
    return _krx_panel(shared_data / "krx")


def subpanel(panel: BarPanel, symbols: Sequence[str]) -> BarPanel:
    """The rows of `symbols`, on the timestamps where at least one of them has a bar."""
    rows = [panel.symbols.index(symbol) for symbol in symbols]
    keep = ~np.isnan(panel.close[rows]).all(axis=0)
    arrays = [
        getattr(panel, name)[rows][:, keep] for name in ("open", "high", "low", "close", "volume")
    ]
    return BarPanel(tuple(symbols), panel.timestamps[keep], *arrays)
