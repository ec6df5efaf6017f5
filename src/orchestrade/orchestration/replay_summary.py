"""A replay's results in the backtest's shape: the same tables, metrics and JSON document.

The portfolio agent records, per account, the equity after each close it saw, the fills and
the round trips. This module lays them out like `orchestrade.backtest.tables` (equity on
every bar time of the panel, carried forward where a symbol has no bar; positions still
open at the end valued at their last close as "end" trades) and hands them to
`BacktestResult.from_frames`, so a replay and a backtest are measured by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from orchestrade.agents.portfolio import PortfolioAgent, Trade
from orchestrade.backtest.results import BacktestResult
from orchestrade.backtest.tables import FILL_COLUMNS, TOTAL_COLUMN, TRADE_COLUMNS
from orchestrade.data import BarPanel
from orchestrade.domain import Side


def replay_result(
    portfolio: PortfolioAgent,
    panel: BarPanel,
    *,
    bot_id: str,
    cash: float,
    periods_per_year: float,
    timing: Mapping[str, float | int],
    parameters: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> BacktestResult:
    """The `BacktestResult` of bot `bot_id`'s replay (isolated accounts, one per symbol)."""
    ledger = portfolio.ledger
    index = pd.DatetimeIndex(panel.timestamps, tz="UTC")
    columns: dict[str, np.ndarray] = {}
    positions: dict[str, np.ndarray] = {}
    rows = _BarRows(index)
    changes = _position_changes(portfolio)
    for symbol in panel.symbols:
        account_id = ledger.account_id(bot_id, symbol)
        curve = portfolio.curves.get(account_id)
        values = np.full(index.size, np.nan)
        if curve is not None and curve.times:
            values[rows.of(curve.times)] = [float(value) for value in curve.values]
        columns[symbol] = _carried(values, cash)
        positions[symbol] = _positions(changes.get((account_id, symbol), ([], [])), index)
    equity = pd.DataFrame(columns, index=index)
    equity[TOTAL_COLUMN] = equity.sum(axis=1)
    trades = _trades(portfolio, panel, bot_id)
    fills = _fills(portfolio, bot_id)
    closes = pd.DataFrame(panel.close.T, index=index, columns=list(panel.symbols))
    return BacktestResult.from_frames(
        equity=equity,
        positions=pd.DataFrame(positions, index=index),
        trades=trades,
        fills=fills,
        periods_per_year=periods_per_year,
        timing=timing,
        parameters=parameters,
        settings=settings,
        closes=closes,
    )


def _carried(values: np.ndarray, start: float) -> np.ndarray:
    """Forward-fill NaN cells; leading ones take the starting cash."""
    filled = pd.Series(values).ffill().fillna(start)
    return filled.to_numpy(dtype=np.float64)


class _BarRows:
    """The row of each bar time in the panel's index (times the replay took from it)."""

    def __init__(self, index: pd.DatetimeIndex) -> None:
        self._index = index
        self._rows: dict[Any, int] | None = None

    def of(self, times: list[Any]) -> np.ndarray:
        if self._rows is None:
            self._rows = {time: row for row, time in enumerate(self._index.to_pydatetime())}
        rows = self._rows
        try:
            return np.fromiter((rows[time] for time in times), dtype=np.intp, count=len(times))
        except KeyError:
            # A time off the panel's grid (not from this replay's bars): -1, as pandas says.
            converted = pd.DatetimeIndex(times).tz_convert("UTC")
            return np.asarray(self._index.get_indexer(converted), dtype=np.intp)


def _position_changes(
    portfolio: PortfolioAgent,
) -> dict[tuple[str, str], tuple[list[Any], list[float]]]:
    """The time and signed quantity of each fill, by (account, symbol), in fill order."""
    changes: dict[tuple[str, str], tuple[list[Any], list[float]]] = {}
    for owner, fill in portfolio.fills:
        times, quantities = changes.setdefault((owner, fill.symbol), ([], []))
        times.append(fill.filled_at)
        quantities.append(float(fill.signed_quantity))
    return changes


def _positions(changes: tuple[list[Any], list[float]], index: pd.DatetimeIndex) -> np.ndarray:
    """Quantity held at each bar's close, from the account's fills in the symbol."""
    times, quantities = changes
    held = np.zeros(index.size)
    if not times:
        return held
    at = index.searchsorted(pd.DatetimeIndex(times).tz_convert("UTC"), side="right") - 1
    np.add.at(held, np.clip(at, 0, index.size - 1), quantities)
    return np.cumsum(held)


def _trades(portfolio: PortfolioAgent, panel: BarPanel, bot_id: str) -> pd.DataFrame:
    index = pd.DatetimeIndex(panel.timestamps, tz="UTC")
    ledger = portfolio.ledger

    def mine(account_id: str, symbol: str) -> bool:
        return account_id == ledger.account_id(bot_id, symbol)

    records = [
        _trade_row(trade, index, trade.exit_reason)
        for trade in portfolio.trades
        if mine(trade.account_id, trade.symbol)
    ]
    last_bar = {}
    for row, symbol in enumerate(panel.symbols):
        present = np.flatnonzero(~np.isnan(panel.close[row]))
        if present.size:
            last_bar[symbol] = (index[present[-1]], float(panel.close[row, present[-1]]))
    for (account_id, _), open_trade in portfolio.open_trades().items():
        if not mine(account_id, open_trade.symbol):
            continue
        when, close = last_bar[open_trade.symbol]
        held = open_trade.quantity - open_trade.exit_quantity
        exit_value = open_trade.exit_value + held * Decimal(repr(close))
        exit_quantity = open_trade.exit_quantity + held
        trade = Trade(
            account_id=account_id,
            symbol=open_trade.symbol,
            entry_time=open_trade.entry_time,
            entry_price=open_trade.entry_price,
            exit_time=when.to_pydatetime(),
            exit_price=exit_value / exit_quantity,
            quantity=open_trade.quantity,
            pnl=exit_value - open_trade.entry_value - open_trade.costs,
            fees=open_trade.costs,
        )
        records.append(_trade_row(trade, index, "end"))
    frame = pd.DataFrame(records, columns=list(TRADE_COLUMNS))
    for name in ("entry_time", "exit_time"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return frame


def _trade_row(trade: Trade, index: pd.DatetimeIndex, reason: str) -> dict[str, Any]:
    entry_bar = int(index.searchsorted(pd.Timestamp(trade.entry_time)))
    exit_bar = int(index.searchsorted(pd.Timestamp(trade.exit_time)))
    entry_value = float(trade.entry_price * trade.quantity)
    return {
        "symbol": trade.symbol,
        "entry_time": trade.entry_time,
        "entry_price": float(trade.entry_price),
        "exit_time": trade.exit_time,
        "exit_price": float(trade.exit_price),
        "qty": float(trade.quantity),
        "pnl": float(trade.pnl),
        "fees": float(trade.fees),
        "exit_reason": reason,
        "return_pct": 100.0 * float(trade.pnl) / entry_value,
        "bars_held": exit_bar - entry_bar,
    }


def _fills(portfolio: PortfolioAgent, bot_id: str) -> pd.DataFrame:
    """The fills booked into `bot_id`'s accounts."""
    ledger = portfolio.ledger
    rows: Sequence[dict[str, Any]] = [
        {
            "symbol": fill.symbol,
            "time": fill.filled_at,
            "side": "buy" if fill.side is Side.BUY else "sell",
            "qty": float(fill.quantity),
            "price": float(fill.price),
            "fee": float(fill.fee),
            "tax": float(fill.tax),
            "reason": "replay",
        }
        for account_id, fill in portfolio.fills
        if account_id == ledger.account_id(bot_id, fill.symbol)
    ]
    frame = pd.DataFrame(rows, columns=list(FILL_COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame
