"""BarPanel: bars of many symbols aligned on one time axis, as 2-D numpy arrays.

Computation (indicators, backtests) wants dense arrays indexed [symbol, time]; storage and
people want the long frame. The panel converts between the two without a Python loop over
rows: symbols and timestamps become integer positions (factorize / np.unique) and one fancy
assignment fills each array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestrade.data.errors import FrameError
from orchestrade.data.files import BAR_COLUMNS

PRICE_FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, eq=False)
class BarPanel:
    """Aligned OHLCV arrays shaped (n_symbols, n_times); NaN where a symbol has no bar.

    Attributes:
        symbols: sorted symbols, one per row of the arrays.
        timestamps: sorted distinct bar start times, datetime64[ns] holding UTC.
        open, high, low, close, volume: float64 arrays shaped (len(symbols), len(timestamps)).
    """

    symbols: tuple[str, ...]
    timestamps: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        if self.timestamps.dtype != np.dtype("datetime64[ns]") or self.timestamps.ndim != 1:
            raise FrameError(f"timestamps must be 1-D datetime64[ns], got {self.timestamps.dtype}")
        shape = (len(self.symbols), self.timestamps.size)
        for name in PRICE_FIELDS:
            array = getattr(self, name)
            if array.shape != shape or array.dtype != np.float64:
                raise FrameError(
                    f"{name} must be float64 shaped {shape}, got {array.dtype} {array.shape}"
                )

    def select(
        self,
        symbols: Sequence[str] | None = None,
        start: np.datetime64 | None = None,
        end: np.datetime64 | None = None,
    ) -> BarPanel:
        """The panel restricted to `symbols` (in the given order) and start <= time <= end.

        Raises:
            FrameError: a symbol is not in the panel (the message lists the unknown ones).
        """
        rows = np.arange(len(self.symbols))
        chosen = self.symbols
        if symbols is not None:
            index = {symbol: row for row, symbol in enumerate(self.symbols)}
            unknown = [symbol for symbol in symbols if symbol not in index]
            if unknown:
                raise FrameError(f"symbol(s) not in the data: {', '.join(unknown[:10])}")
            rows = np.array([index[symbol] for symbol in symbols], dtype=np.intp)
            chosen = tuple(symbols)
        first = 0 if start is None else int(np.searchsorted(self.timestamps, start, "left"))
        last = (
            self.timestamps.size
            if end is None
            else int(np.searchsorted(self.timestamps, end, "right"))
        )
        window = slice(first, max(first, last))
        return BarPanel(
            chosen,
            self.timestamps[window].copy(),
            *(np.ascontiguousarray(getattr(self, name)[rows, window]) for name in PRICE_FIELDS),
        )

    @classmethod
    def empty(cls) -> BarPanel:
        """A panel with no symbols and no times."""
        nothing = np.empty((0, 0), dtype="float64")
        stamps = np.empty(0, dtype="datetime64[ns]")
        return cls((), stamps, nothing, nothing, nothing, nothing, nothing)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> BarPanel:
        """Build the panel from a clean long bar frame (columns `BAR_COLUMNS`).

        Raises:
            FrameError: a column is missing, a timestamp or symbol is missing, or a
                (symbol, timestamp) pair occurs twice.
        """
        missing = [name for name in BAR_COLUMNS if name not in frame.columns]
        if missing:
            raise FrameError(f"frame lacks column(s) {', '.join(missing)}")
        if frame["symbol"].isna().any() or frame["timestamp"].isna().any():
            raise FrameError("a bar frame for a panel must not have missing symbols or times")
        codes, labels = pd.factorize(frame["symbol"], sort=True)
        stamps = frame["timestamp"]
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = stamps.to_numpy(dtype="datetime64[ns]").view("int64")
        values = [frame[name].to_numpy(dtype="float64") for name in PRICE_FIELDS]
        return cls.from_arrays(codes, [str(s) for s in labels], ns, *values)

    @classmethod
    def from_arrays(
        cls,
        symbol_codes: np.ndarray,
        symbols: Sequence[str],
        timestamps_ns: np.ndarray,
        open: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
    ) -> BarPanel:
        """Build the panel from long columns where symbols are given as codes.

        Args:
            symbol_codes: int array, row i belongs to `symbols[symbol_codes[i]]`.
            symbols: the labels of the codes; they need not be sorted (the panel sorts).
                Every label gets a row, all NaN when no row carries its code.
            timestamps_ns: int64 epoch nanoseconds (UTC) per row.
            open, high, low, close, volume: float64 values per row.

        Raises:
            FrameError: lengths differ, a code is out of range, a symbol repeats, or a
                (symbol, timestamp) pair occurs twice.
        """
        codes = np.asarray(symbol_codes, dtype="int64")
        ns = np.asarray(timestamps_ns, dtype="int64")
        columns = [np.asarray(v, dtype="float64") for v in (open, high, low, close, volume)]
        if any(c.shape != codes.shape for c in (ns, *columns)):
            raise FrameError("all columns of a panel must have the same length")
        if len(set(symbols)) != len(symbols):
            raise FrameError("symbol labels must be distinct")
        if codes.size and (codes.min() < 0 or codes.max() >= len(symbols)):
            raise FrameError("a symbol code is outside the symbol labels")
        order = np.argsort(np.asarray(symbols, dtype=object), kind="stable")
        row_of = np.empty(len(symbols), dtype="int64")
        row_of[order] = np.arange(len(symbols))
        rows = row_of[codes]
        times, cols = np.unique(ns, return_inverse=True)
        shape = (len(symbols), times.size)
        flat = rows * times.size + cols
        if flat.size and np.bincount(flat).max() > 1:
            raise FrameError("a (symbol, timestamp) pair occurs more than once")
        arrays = []
        for values in columns:
            array = np.full(shape, np.nan, dtype="float64")
            array[rows, cols] = values
            arrays.append(array)
        labels = tuple(str(symbols[i]) for i in order)
        return cls(labels, times.view("datetime64[ns]"), *arrays)

    @property
    def shape(self) -> tuple[int, int]:
        """(number of symbols, number of timestamps)."""
        return len(self.symbols), self.timestamps.size

    def to_frame(self) -> pd.DataFrame:
        """The long bar frame (`BAR_COLUMNS`): one row per cell with a close, sorted by
        symbol then timestamp."""
        rows, cols = np.nonzero(~np.isnan(self.close))
        symbols = np.asarray(self.symbols, dtype=object)[rows]
        stamps = pd.DatetimeIndex(self.timestamps[cols]).tz_localize("UTC")
        data: dict[str, object] = {"symbol": symbols, "timestamp": stamps}
        for name in PRICE_FIELDS:
            data[name] = getattr(self, name)[rows, cols]
        return pd.DataFrame(data, columns=list(BAR_COLUMNS))
