"""A raw bar frame checked against the contract and turned into plain arrays for the checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from orchestrade.data.calendars import utc_nanos
from orchestrade.data.quality.report import Check, Example, Finding, Severity

BAR_COLUMNS = ("symbol", "timestamp", "open", "high", "low", "close", "volume")
NUMERIC_COLUMNS = ("open", "high", "low", "close", "volume")
NAT = np.iinfo(np.int64).min
"""How NaT looks in int64 nanoseconds."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class BarArrays:
    """The frame's columns as arrays, in input row order.

    `codes` numbers the symbols (index into `symbols`, -1 for a row without a symbol);
    `nanos` are UTC epoch nanoseconds with NaT as `NAT`.
    """

    codes: IntArray
    symbols: tuple[str, ...]
    nanos: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    daily: bool

    def time_text(self, nanos: int) -> str | None:
        """ISO text of a time: the date for daily data, else minutes (seconds if any) + Z."""
        if nanos == NAT:
            return None
        stamp = pd.Timestamp(nanos, unit="ns", tz="UTC")
        if self.daily and stamp == stamp.normalize():
            return stamp.strftime("%Y-%m-%d")
        text = stamp.strftime(
            "%Y-%m-%dT%H:%M:%S" if stamp.second or stamp.nanosecond else "%Y-%m-%dT%H:%M"
        )
        return f"{text}Z"

    def ohlc_text(self, row: int) -> str:
        """`open=.. high=.. low=.. close=..` of an input row."""
        return " ".join(
            f"{name}={_number(getattr(self, name)[row])}"
            for name in ("open", "high", "low", "close")
        )


@dataclass(frozen=True, slots=True)
class Flagged:
    """The items one check flagged across all symbols, before they become findings.

    Items are rows (`rows` >= 0) or spans such as gaps (`rows` == -1). `weights` says how many
    bars each item stands for (a gap of 150 minutes weighs 150); `priority` orders examples
    (highest first, then input order); `describe(i)` builds the example of item `i`.
    """

    check: Check
    codes: IntArray
    rows: IntArray
    describe: Callable[[int], Example]
    weights: IntArray | None = None
    priority: FloatArray | None = None

    @staticmethod
    def of_rows(
        check: Check, arrays: BarArrays, rows: IntArray, describe: Callable[[int], str]
    ) -> Flagged:
        """Flag input rows; `describe(row)` gives the example's detail text."""
        rows = np.asarray(rows, dtype=np.int64)

        def example(item: int) -> Example:
            row = int(rows[item])
            return Example(arrays.time_text(int(arrays.nanos[row])), describe(row), row)

        return Flagged(check, arrays.codes[rows], rows, example)


def prepare(frame: pd.DataFrame, *, daily: bool) -> tuple[BarArrays, list[Finding]]:
    """Check the frame's columns and dtypes against the contract and extract arrays.

    Never raises on bad content: missing numeric columns become NaN (so every row is flagged
    as missing), text is parsed where possible, and each deviation becomes a schema finding.
    The caller handles a missing `symbol` column (nothing can be checked per symbol).
    """
    findings: list[Finding] = []
    columns = [str(column) for column in frame.columns]
    missing = [column for column in BAR_COLUMNS if column not in columns]
    extra = [column for column in columns if column not in BAR_COLUMNS]
    if missing:
        findings.append(_schema(Severity.ERROR, f"missing columns: {', '.join(missing)}"))
    if extra:
        findings.append(_schema(Severity.INFO, f"extra columns ignored: {', '.join(extra)}"))
    if not missing and not extra and columns != list(BAR_COLUMNS):
        findings.append(_schema(Severity.INFO, f"columns not in contract order {BAR_COLUMNS}"))

    rows = len(frame)
    symbols_column = frame["symbol"] if "symbol" in frame.columns else pd.Series([None] * rows)
    codes, symbols = _symbol_codes(symbols_column, findings)
    nanos = _timestamps(frame, findings)
    numbers = {
        column: _numeric(frame, column, findings)
        if column in frame.columns
        else np.full(rows, np.nan)
        for column in NUMERIC_COLUMNS
    }
    arrays = BarArrays(codes, symbols, nanos, daily=daily, **numbers)
    return arrays, findings


def _schema(severity: Severity, message: str) -> Finding:
    return Finding(Check.SCHEMA, severity, count=1, spans=1, message=message)


def _symbol_codes(
    column: pd.Series[Any], findings: list[Finding]
) -> tuple[IntArray, tuple[str, ...]]:
    present = column.notna().to_numpy()
    values = column.to_numpy(dtype=object)
    is_text = np.fromiter(
        (isinstance(value, str) for value in values), dtype=np.bool_, count=len(values)
    )
    if (present & ~is_text).any():
        findings.append(_schema(Severity.WARNING, "symbol holds non-text values, compared as text"))
    text = column.astype(str).to_numpy(dtype=object)
    codes = np.full(len(values), -1, dtype=np.int64)
    if present.any():
        found_codes, uniques = pd.factorize(text[present], sort=True)
        codes[present] = found_codes
        return codes, tuple(str(symbol) for symbol in uniques)
    return codes, ()


def _timestamps(frame: pd.DataFrame, findings: list[Finding]) -> IntArray:
    if "timestamp" not in frame.columns:
        return np.full(len(frame), NAT, dtype=np.int64)
    column = frame["timestamp"]
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        if str(dtype.tz) != "UTC":
            findings.append(
                _schema(Severity.INFO, f"timestamps in {dtype.tz} read as UTC instants")
            )
        elif dtype.unit != "ns":
            findings.append(_schema(Severity.INFO, f"timestamp dtype {dtype}, expected ns unit"))
        return utc_nanos(column)
    if pd.api.types.is_datetime64_dtype(dtype):
        findings.append(_schema(Severity.ERROR, f"timestamp dtype {dtype} is naive; read as UTC"))
        return utc_nanos(pd.DatetimeIndex(column).tz_localize("UTC"))
    findings.append(
        _schema(Severity.ERROR, f"timestamp dtype {dtype}, expected datetime64[ns, UTC]; parsed")
    )
    if pd.api.types.is_numeric_dtype(dtype):
        return np.full(len(frame), NAT, dtype=np.int64)
    parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
    return utc_nanos(parsed)


def _numeric(frame: pd.DataFrame, column: str, findings: list[Finding]) -> FloatArray:
    values = frame[column]
    if values.dtype == np.float64:
        return values.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        findings.append(_schema(Severity.INFO, f"{column} dtype {values.dtype}, expected float64"))
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    findings.append(
        _schema(
            Severity.ERROR, f"{column} dtype {values.dtype}, expected float64; parsed as numbers"
        )
    )
    parsed = pd.to_numeric(values, errors="coerce")
    return np.asarray(parsed, dtype=np.float64)


def _number(value: float) -> str:
    return "NaN" if np.isnan(value) else f"{value:.10g}"
