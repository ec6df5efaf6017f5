"""The benchmark universe: the KRX daily files as one aligned panel, optionally replicated.

The issue's workload is the 32 KRX series (x1) and the same universe replicated 16 times
(x16). Copy k multiplies open/high/low/close by ``1 + k * 2**-14``: KRX prices are integers,
so every scaled price, and every sum of up to a few thousand of them, is exactly
representable. That keeps the copies' moving averages exact and therefore every engine's
crosses identical, whatever summation order it uses.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from orchestrade.data import BarPanel

PRICE_COLUMNS = ("open", "high", "low", "close")
COPY_STEP = 2.0**-14


class UniverseError(ValueError):
    """The KRX folder is missing, empty, or a file lacks the expected columns."""


def default_krx_folder() -> Path:
    """`$ORCHESTRADE_SHARED_DATA/krx`, else `../shared/data/krx` beside the repository."""
    override = os.environ.get("ORCHESTRADE_SHARED_DATA")
    root = Path(override) if override else Path(__file__).resolve().parents[3] / "shared" / "data"
    return root / "krx"


def load_krx(folder: Path | None = None) -> BarPanel:
    """Read every ``*.csv.gz`` of the KRX folder into one panel (symbols in file-name order).

    Rows with a missing or non-positive open/high/low/close are dropped first (the
    reference semantics); the remaining rows are placed on the union of all dates, NaN
    where a symbol has no bar. The symbol is the file's ``code`` column.

    Raises:
        UniverseError: the folder has no files or a file lacks a needed column.
    """
    folder = folder or default_krx_folder()
    paths = sorted(folder.glob("*.csv.gz")) if folder.is_dir() else []
    if not paths:
        raise UniverseError(f"no KRX *.csv.gz files in {folder}")
    frames: list[tuple[str, pd.DataFrame]] = []
    needed = {"date", "code", *PRICE_COLUMNS, "volume"}
    for path in paths:
        frame = pd.read_csv(path, dtype={"code": str, "ticker": str})
        missing = needed - set(frame.columns)
        if missing:
            raise UniverseError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
        prices = frame[list(PRICE_COLUMNS)].to_numpy(dtype=np.float64)
        keep = np.all(np.isfinite(prices) & (prices > 0.0), axis=1)
        kept = frame.iloc[np.flatnonzero(keep)]
        if kept["date"].duplicated().any():
            raise UniverseError(f"{path.name}: a date occurs twice")
        symbol = str(kept["code"].iloc[0]) if len(kept) else path.name.split(".")[0]
        frames.append((symbol, kept))
    return _align(frames)


def replicate(panel: BarPanel, copies: int) -> BarPanel:
    """The panel followed by ``copies - 1`` scaled copies (copy k: prices * (1 + k * 2**-14)).

    Copy k's symbols are ``f"{symbol}.c{k}"``; volumes are not scaled.

    Raises:
        UniverseError: ``copies`` is below 1.
    """
    if copies < 1:
        raise UniverseError(f"copies must be at least 1, got {copies}")
    factors = 1.0 + np.arange(copies, dtype=np.float64) * COPY_STEP
    symbols = tuple(
        symbol if k == 0 else f"{symbol}.c{k}" for k in range(copies) for symbol in panel.symbols
    )

    def scaled(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(
            (factors[:, None, None] * values[None]).reshape(-1, values.shape[1])
        )

    return BarPanel(
        symbols,
        panel.timestamps.copy(),
        scaled(panel.open),
        scaled(panel.high),
        scaled(panel.low),
        scaled(panel.close),
        np.ascontiguousarray(np.tile(panel.volume, (copies, 1))),
    )


def load_universe(scale: int, folder: Path | None = None) -> BarPanel:
    """The x``scale`` universe: the KRX panel replicated ``scale`` times."""
    return replicate(load_krx(folder), scale)


def bar_count(panel: BarPanel) -> int:
    """Bars that exist (a finite close) over all symbols."""
    return int(np.count_nonzero(np.isfinite(panel.close)))


def _align(frames: list[tuple[str, pd.DataFrame]]) -> BarPanel:
    dates = np.unique(np.concatenate([f["date"].to_numpy(dtype=np.int64) for _, f in frames]))
    shape = (len(frames), dates.size)
    arrays = {name: np.full(shape, np.nan) for name in (*PRICE_COLUMNS, "volume")}
    for row, (_symbol, frame) in enumerate(frames):
        columns = np.searchsorted(dates, frame["date"].to_numpy(dtype=np.int64))
        for name, array in arrays.items():
            array[row, columns] = frame[name].to_numpy(dtype=np.float64)
    stamps = pd.to_datetime(dates.astype(str), format="%Y%m%d").to_numpy(dtype="datetime64[ns]")
    symbols = tuple(symbol for symbol, _ in frames)
    return BarPanel(symbols, stamps, *(arrays[name] for name in (*PRICE_COLUMNS, "volume")))
