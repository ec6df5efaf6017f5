"""Turn the kernel's arrays into the result tables (`orchestrade.backtest.tables`).

Equity columns per symbol: in isolated mode each symbol's own account. In portfolio mode a
symbol has no account of its own, so its column is the starting cash plus that symbol's
profit and loss (realised and marked to market): what the account would be worth had only
this symbol's trades happened. The ``total`` column is the real account in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestrade.backtest.kernel import Simulation
from orchestrade.backtest.records import ExitReason, FillReason
from orchestrade.backtest.tables import TOTAL_COLUMN
from orchestrade.data.panel import BarPanel


@dataclass(frozen=True, slots=True)
class SimulationTables:
    """The four tables of one simulation plus the closes used by the report."""

    equity: pd.DataFrame
    positions: pd.DataFrame
    trades: pd.DataFrame
    fills: pd.DataFrame
    closes: pd.DataFrame


def simulation_tables(simulation: Simulation, panel: BarPanel) -> SimulationTables:
    """Equity, positions, trades and fills of `simulation`, labelled with the panel's axes."""
    index = pd.DatetimeIndex(panel.timestamps.astype("datetime64[ns]")).tz_localize("UTC")
    symbols = list(simulation.symbols)
    closes = _forward_filled(panel.close)
    if simulation.mode == "isolated":
        per_symbol = np.asarray(simulation.equity, dtype=np.float64)
        total = per_symbol.sum(axis=0)
    else:
        per_symbol = simulation.initial_cash + _symbol_pnl(simulation, closes)
        total = np.asarray(simulation.equity, dtype=np.float64)
    equity = pd.DataFrame(per_symbol.T, index=index, columns=symbols)
    equity[TOTAL_COLUMN] = total
    positions = pd.DataFrame(simulation.position.T.astype(np.float64), index=index, columns=symbols)
    return SimulationTables(
        equity=equity,
        positions=positions,
        trades=_trades(simulation, index),
        fills=_fills(simulation, index),
        closes=pd.DataFrame(panel.close.T, index=index, columns=symbols),
    )


def _forward_filled(values: np.ndarray) -> np.ndarray:
    """Carry each row's last finite value forward (NaN before the first one)."""
    present = ~np.isnan(values)
    positions = np.where(present, np.arange(values.shape[1]), 0)
    np.maximum.accumulate(positions, axis=1, out=positions)
    filled = np.take_along_axis(values, positions, axis=1)
    seen = np.maximum.accumulate(present, axis=1)
    return np.asarray(np.where(seen, filled, np.nan), dtype=np.float64)


def _symbol_pnl(simulation: Simulation, closes: np.ndarray) -> np.ndarray:
    """Cumulative cash flows of each symbol's fills plus its position at the last close."""
    n_symbols, n_times = simulation.position.shape
    flows = np.zeros((n_symbols, n_times), dtype=np.float64)
    fills = simulation.fills
    cash_flow = -fills["side"] * fills["quantity"] * fills["price"] - fills["fee"] - fills["tax"]
    np.add.at(flows, (fills["symbol"], fills["bar"]), cash_flow)
    held = simulation.position * np.nan_to_num(closes, nan=0.0)
    return np.asarray(np.cumsum(flows, axis=1) + held, dtype=np.float64)


def _trades(simulation: Simulation, index: pd.DatetimeIndex) -> pd.DataFrame:
    trades = simulation.trades
    symbols = np.asarray(simulation.symbols, dtype=object)
    entry_value = trades["entry_price"] * trades["quantity"]
    return pd.DataFrame(
        {
            "symbol": symbols[trades["symbol"]],
            "entry_time": index[trades["entry_bar"]],
            "entry_price": trades["entry_price"],
            "exit_time": index[trades["exit_bar"]],
            "exit_price": trades["exit_price"],
            "qty": trades["quantity"],
            "pnl": trades["pnl"],
            "fees": trades["costs"],
            "exit_reason": [ExitReason(code).name.lower() for code in trades["exit_reason"]],
            "return_pct": np.divide(
                100.0 * trades["pnl"],
                entry_value,
                out=np.zeros(len(trades)),
                where=entry_value > 0,
            ),
            "bars_held": trades["exit_bar"] - trades["entry_bar"],
        }
    )


def _fills(simulation: Simulation, index: pd.DatetimeIndex) -> pd.DataFrame:
    fills = simulation.fills
    symbols = np.asarray(simulation.symbols, dtype=object)
    return pd.DataFrame(
        {
            "symbol": symbols[fills["symbol"]],
            "time": index[fills["bar"]],
            "side": np.where(fills["side"] > 0, "buy", "sell"),
            "qty": fills["quantity"],
            "price": fills["price"],
            "fee": fills["fee"],
            "tax": fills["tax"],
            "reason": [FillReason(code).name.lower() for code in fills["reason"]],
        }
    )
