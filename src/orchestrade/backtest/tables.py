"""The tables a backtest hands back: equity, positions, trades and fills, and their contracts.

* **equity**: one row per bar (index: strictly increasing ``datetime64[ns, UTC]`` bar
  times), one float64 column per symbol (that symbol's account in isolated mode) and the
  column ``total`` (the whole account). Every value finite and positive.
* **positions**: the same index, one column per symbol: quantity held at the bar's close.
* **trades**: one row per round trip, columns `TRADE_COLUMNS`. A position still open at the
  last bar is closed there at the last close with ``exit_reason`` "end". ``pnl`` is net of
  ``fees`` (commissions and taxes of both legs); ``return_pct`` is the pnl in percent of the
  entry value (``100 * pnl / (entry_price * qty)``); ``bars_held`` counts bars from entry to
  exit.
* **fills**: one row per execution, columns `FILL_COLUMNS`; ``side`` is "buy" or "sell",
  ``fee`` the commission and ``tax`` the transaction tax of that fill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestrade.backtest.errors import InputError

TOTAL_COLUMN = "total"
"""Name of the equity column that holds the whole account."""
TRADE_COLUMNS = (
    "symbol",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "qty",
    "pnl",
    "fees",
    "exit_reason",
    "return_pct",
    "bars_held",
)
FILL_COLUMNS = ("symbol", "time", "side", "qty", "price", "fee", "tax", "reason")
FILL_SIDES = ("buy", "sell")

_TRADE_TIMES = ("entry_time", "exit_time")
_TRADE_FLOATS = ("entry_price", "exit_price", "qty", "pnl", "fees", "return_pct")
_FILL_FLOATS = ("qty", "price", "fee", "tax")


def empty_trades() -> pd.DataFrame:
    """A trades table without rows, with the contract's columns and dtypes."""
    return check_trades(pd.DataFrame({name: [] for name in TRADE_COLUMNS}))


def empty_fills() -> pd.DataFrame:
    """A fills table without rows, with the contract's columns and dtypes."""
    return check_fills(pd.DataFrame({name: [] for name in FILL_COLUMNS}))


def check_equity(equity: pd.DataFrame) -> pd.DataFrame:
    """A float64 copy of `equity` after checking the contract (module docstring).

    Raises:
        InputError: naming the broken rule (index, missing total, bad values).
    """
    if not isinstance(equity, pd.DataFrame):
        raise InputError(f"equity must be a DataFrame, not {type(equity).__name__}")
    if TOTAL_COLUMN not in equity.columns:
        raise InputError(f"equity has no {TOTAL_COLUMN!r} column")
    if len(equity) == 0:
        raise InputError("equity has no rows")
    index = check_time_index(equity.index, "equity")
    values = equity.to_numpy(dtype=np.float64, copy=True)
    valid = np.isfinite(values) & (values > 0)
    if not valid.all():
        bad = equity.columns[~valid.all(axis=0)]
        raise InputError(
            f"equity must be finite and positive; column(s) {', '.join(map(str, bad))} are not"
        )
    return pd.DataFrame(values, index=index, columns=equity.columns)


def check_positions(positions: pd.DataFrame, equity: pd.DataFrame) -> pd.DataFrame:
    """A float64 copy of `positions`, checked against the (checked) `equity` table.

    Raises:
        InputError: another index than equity's, other symbols, non-finite values.
    """
    if not isinstance(positions, pd.DataFrame):
        raise InputError(f"positions must be a DataFrame, not {type(positions).__name__}")
    symbols = [column for column in equity.columns if column != TOTAL_COLUMN]
    if list(positions.columns) != symbols:
        raise InputError(
            f"positions columns {list(positions.columns)} must be the equity symbols {symbols}"
        )
    if not positions.index.equals(equity.index):
        raise InputError("positions must have the same index (bar times) as equity")
    values = positions.to_numpy(dtype=np.float64, copy=True)
    if not np.isfinite(values).all():
        raise InputError("positions must be finite quantities")
    return pd.DataFrame(values, index=equity.index, columns=positions.columns)


def check_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """A copy of `trades` in `TRADE_COLUMNS` order with normalised dtypes.

    Raises:
        InputError: missing or extra columns, naive or missing times, non-finite
            numbers, non-positive prices or quantities, negative bars held.
    """
    frame = _with_columns(trades, TRADE_COLUMNS, "trades")
    frame["symbol"] = _strings(frame["symbol"], "trades.symbol")
    frame["exit_reason"] = _strings(frame["exit_reason"], "trades.exit_reason")
    for name in _TRADE_TIMES:
        frame[name] = _utc_times(frame[name], f"trades.{name}")
    for name in _TRADE_FLOATS:
        frame[name] = _finite(frame[name], f"trades.{name}")
    for name in ("entry_price", "exit_price", "qty"):
        if (frame[name] <= 0).any():
            raise InputError(f"trades.{name} must be positive")
    if (frame["exit_time"] < frame["entry_time"]).any():
        raise InputError("trades.exit_time must not be before entry_time")
    bars = pd.to_numeric(frame["bars_held"], errors="coerce")
    if bars.isna().any() or (bars < 0).any() or (bars != np.floor(bars)).any():
        raise InputError("trades.bars_held must be non-negative whole numbers")
    frame["bars_held"] = bars.astype(np.int64)
    return frame.reset_index(drop=True)


def check_fills(fills: pd.DataFrame) -> pd.DataFrame:
    """A copy of `fills` in `FILL_COLUMNS` order with normalised dtypes.

    Raises:
        InputError: missing or extra columns, naive times, unknown sides,
            non-finite numbers, non-positive quantities or prices.
    """
    frame = _with_columns(fills, FILL_COLUMNS, "fills")
    for name in ("symbol", "side", "reason"):
        frame[name] = _strings(frame[name], f"fills.{name}")
    frame["time"] = _utc_times(frame["time"], "fills.time")
    for name in _FILL_FLOATS:
        frame[name] = _finite(frame[name], f"fills.{name}")
    unknown = sorted(set(frame["side"]) - set(FILL_SIDES))
    if unknown:
        raise InputError(f"fills.side must be 'buy' or 'sell', got {unknown}")
    for name in ("qty", "price"):
        if (frame[name] <= 0).any():
            raise InputError(f"fills.{name} must be positive")
    return frame.reset_index(drop=True)


def check_time_index(index: pd.Index, what: str) -> pd.DatetimeIndex:
    """`index` as a strictly increasing ``datetime64[ns, UTC]`` index.

    Raises:
        InputError: not aware UTC times, or not strictly increasing.
    """
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) != "UTC":
        raise InputError(f"{what} index must hold aware UTC timestamps")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise InputError(f"{what} index must be strictly increasing")
    return index.as_unit("ns")


def _with_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame, not {type(frame).__name__}")
    missing = [name for name in columns if name not in frame.columns]
    extra = [str(name) for name in frame.columns if name not in columns]
    if missing or extra:
        raise InputError(
            f"{what} columns must be exactly {', '.join(columns)}; "
            f"missing: {missing or 'none'}, unexpected: {extra or 'none'}"
        )
    return frame.loc[:, list(columns)].copy()


def _strings(column: pd.Series, what: str) -> pd.Series:
    if len(column) and (
        pd.api.types.infer_dtype(column, skipna=False) != "string" or column.eq("").any()
    ):
        raise InputError(f"{what} must hold non-empty strings")
    return column.astype(object)


def _utc_times(column: pd.Series, what: str) -> pd.Series:
    if len(column) == 0:
        return pd.Series(pd.DatetimeIndex([], tz="UTC"), index=column.index, dtype="M8[ns, UTC]")
    dtype = column.dtype
    if not isinstance(dtype, pd.DatetimeTZDtype) or str(dtype.tz) != "UTC":
        raise InputError(f"{what} must hold aware UTC timestamps, got dtype {dtype}")
    if column.isna().any():
        raise InputError(f"{what} must not be missing")
    converted: pd.Series = column.dt.as_unit("ns")
    return converted


def _finite(column: pd.Series, what: str) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce").astype(np.float64)
    if not np.isfinite(values.to_numpy()).all():
        raise InputError(f"{what} must hold finite numbers")
    return values
