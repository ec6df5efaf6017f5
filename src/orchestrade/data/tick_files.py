"""Trade-print files: one row per trade (time, symbol, price, size, optionally the taker's
side), as CSV, CSV.gz or Parquet, for replaying ticks through the agents.

Columns are found by name, ignoring case: the time in ``timestamp``, ``time``, ``datetime``,
``ts`` or ``date``; the symbol in ``symbol`` or ``ticker``; the price in ``price``; the size
in ``size``, ``quantity``, ``qty``, ``volume`` or ``amount``; the taker's side, when given, in
``side`` or ``aggressor`` (``buy``/``sell``, ``b``/``s``, empty for unknown). Times are read
as `files.parse_timestamps` reads bar times: aware ones are converted to UTC, naive ones are
UTC, epoch numbers get their unit from their magnitude. A file with one symbol may leave the
symbol column out and name it with `symbol`.

Rows keep their order within a time (the later print of two at the same instant sets a
bar's close); the result is sorted by time, then that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from orchestrade.data.errors import DataFileError
from orchestrade.data.files import _column_lookup, _read_table, parse_timestamps
from orchestrade.domain import Side, Symbol, Tick

TIME_NAMES = ("timestamp", "time", "datetime", "ts", "date")
SYMBOL_NAMES = ("symbol", "ticker")
PRICE_NAMES = ("price",)
SIZE_NAMES = ("size", "quantity", "qty", "volume", "amount")
SIDE_NAMES = ("side", "aggressor")
_SIDES = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell", "": None}


def read_tick_file(path: Path | str, *, symbol: str | None = None) -> pd.DataFrame:
    """The prints of `path` as a frame with columns timestamp (UTC), symbol, price, size and
    side ("buy", "sell" or None), sorted by time (see the module docstring).

    Raises:
        DataFileError: the file is missing or unreadable, a column is missing or ambiguous,
            or a row has an unreadable time, a non-positive price or size, or an unknown
            side; the message names the file, the column and the first bad row.
    """
    path = Path(path).expanduser()
    table = _read_table(path)
    if table.empty:
        raise DataFileError(path, "the file holds no trades")
    columns = _column_lookup(path, table)
    times = parse_timestamps(table[_column(path, columns, TIME_NAMES, "time")])
    _no_bad_rows(path, "time", ~times.isna().to_numpy(), "is not a readable time")
    symbols = _symbols(path, table, columns, symbol)
    prices = pd.to_numeric(table[_column(path, columns, PRICE_NAMES, "price")], errors="coerce")
    _no_bad_rows(path, "price", np.isfinite(prices) & (prices > 0), "is not a positive number")
    sizes = pd.to_numeric(table[_column(path, columns, SIZE_NAMES, "size")], errors="coerce")
    _no_bad_rows(path, "size", np.isfinite(sizes) & (sizes > 0), "is not a positive number")
    frame = pd.DataFrame(
        {
            "timestamp": times.to_numpy(),
            "symbol": symbols,
            "price": prices.astype("float64").to_numpy(),
            "size": sizes.astype("float64").to_numpy(),
            "side": _sides(path, table, columns),
        }
    )
    frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_convert("UTC")
    return frame.sort_values("timestamp", kind="stable", ignore_index=True)


def ticks_of(frame: pd.DataFrame) -> Iterator[Tick]:
    """The rows of a `read_tick_file` frame as domain ticks, in order (prices and sizes as
    the shortest decimals that round-trip their floats)."""
    for at, symbol, price, size, side in zip(
        frame["timestamp"],
        frame["symbol"],
        frame["price"],
        frame["size"],
        frame["side"],
        strict=True,
    ):
        yield Tick(
            Symbol(symbol),
            at.to_pydatetime(),
            Decimal(repr(float(price))),
            Decimal(repr(float(size))),
            None if side is None else Side(side),
        )


def _column(path: Path, columns: dict[str, str], names: tuple[str, ...], what: str) -> str:
    found = [columns[name] for name in names if name in columns]
    if not found:
        raise DataFileError(path, f"no {what} column (looked for {', '.join(names)})")
    if len(found) > 1:
        raise DataFileError(path, f"ambiguous {what} columns {found}: keep one")
    return found[0]


def _symbols(
    path: Path, table: pd.DataFrame, columns: dict[str, str], symbol: str | None
) -> np.ndarray:
    names = [columns[name] for name in SYMBOL_NAMES if name in columns]
    if not names:
        if symbol is None:
            raise DataFileError(
                path, f"no symbol column (looked for {', '.join(SYMBOL_NAMES)}); name the symbol"
            )
        return np.full(len(table), symbol, dtype=object)
    values = table[_column(path, columns, SYMBOL_NAMES, "symbol")].astype("string").str.strip()
    _no_bad_rows(path, "symbol", (values.notna() & (values != "")).to_numpy(), "is empty")
    return values.astype(str).to_numpy(dtype=object)


def _sides(path: Path, table: pd.DataFrame, columns: dict[str, str]) -> list[str | None]:
    names = [columns[name] for name in SIDE_NAMES if name in columns]
    if not names:
        return [None] * len(table)
    raw = table[_column(path, columns, SIDE_NAMES, "side")]
    text = raw.astype("string").fillna("").str.strip().str.lower()
    known = text.isin(list(_SIDES)).to_numpy()
    _no_bad_rows(path, "side", known, "is not buy, sell, b, s or empty")
    return [_SIDES[value] for value in text]


def _no_bad_rows(path: Path, column: str, good: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.asarray(good, dtype=bool))
    if bad.size:
        row = int(bad[0])
        raise DataFileError(
            path,
            f"{column} of data row {row + 1} {what} ({bad.size:,} bad row"
            f"{'s' if bad.size > 1 else ''} in all)",
        )
