"""The standard scorecard of a backtest, for the whole run and for each symbol.

Return statistics come from `orchestrade.backtest.performance` (equal to empyrical's on the
returns of the equity curve). The rest is defined here:

* **trades statistics** over every row of the trades table, including a position closed at
  the last bar (exit reason "end"): win rate = trades with pnl > 0 / trades; average win
  (loss) = mean pnl of the trades with pnl > 0 (< 0), in money, and the same in percent
  (``return_pct``); profit factor = gross profit / gross loss (+inf without a losing trade,
  NaN without any trade with a non-zero pnl);
* **exposure**: share of bars at whose close a position is held (any symbol, for the run);
* **turnover**: traded value (the sum of |quantity| x price over all fills, both sides) over
  the average equity, per year: ``traded / mean(equity) / years`` with
  ``years = (bars - 1) / periods_per_year`` (the span of the returns, as in CAGR). A
  strategy that buys and sells its whole equity once a year has turnover 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from orchestrade.backtest import performance
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.tables import TOTAL_COLUMN, check_time_index

JsonNumber = float | int | None


@dataclass(frozen=True, slots=True)
class Metrics:
    """Performance of one account (the whole run, or one symbol's account).

    Fractions are plain fractions (0.1 = 10%) except the ``*_pct`` fields, which are in
    percent. NaN means "not defined" (e.g. a Sharpe ratio from one return) and +/-inf is
    kept where empyrical gives it; `to_dict` turns both into None for JSON.
    """

    start_equity: float
    final_equity: float
    total_return: float
    cagr: float
    annual_volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown: float
    max_drawdown_pct: float
    max_drawdown_duration_bars: int
    max_drawdown_duration_days: float
    trades: int
    win_rate: float
    average_win: float
    average_loss: float
    average_win_pct: float
    average_loss_pct: float
    profit_factor: float
    fees: float
    exposure: float
    turnover: float
    bars: int
    periods_per_year: float

    def to_dict(self) -> dict[str, JsonNumber]:
        """Field name to value, with NaN and +/-inf as None so the dict is valid JSON."""
        return {name: _json_number(value) for name, value in asdict(self).items()}


def compute_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    positions: pd.Series | np.ndarray,
    traded_value: float,
    periods_per_year: float,
) -> Metrics:
    """The scorecard of one equity curve.

    Args:
        equity: account value at each bar's close, indexed by strictly increasing aware UTC
            times; finite and positive.
        trades: the round trips of this account; only ``pnl``, ``fees`` and
            ``return_pct`` are read (see `orchestrade.backtest.tables`).
        positions: quantity held at each bar's close, aligned with `equity` (any non-zero
            value counts as exposed).
        traded_value: sum of |quantity| x price over this account's fills.
        periods_per_year: bars a year (`orchestrade.backtest.periods.periods_per_year`).

    Raises:
        InputError: when an input breaks the rules above.
    """
    values, times_ns = _equity_values(equity)
    held = _positions_values(positions, len(values))
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise InputError(f"periods_per_year must be positive, got {periods_per_year}")
    if not (math.isfinite(traded_value) and traded_value >= 0):
        raise InputError(f"traded_value must be finite and >= 0, got {traded_value}")
    pnl, returns_pct, fees = _trade_columns(trades)
    return _scorecards(
        values[:, np.newaxis],
        times_ns,
        held[:, np.newaxis],
        [_TradeArrays(pnl, returns_pct, fees)],
        np.array([traded_value]),
        periods_per_year,
        time_axis=0,
    )[0]


def traded_value(fills: pd.DataFrame) -> float:
    """Sum of |qty| x price over the rows of a fills table (both sides)."""
    if len(fills) == 0:
        return 0.0
    quantity = fills["qty"].to_numpy(dtype=np.float64)
    price = fills["price"].to_numpy(dtype=np.float64)
    return float(np.sum(np.abs(quantity) * price))


def run_metrics(
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    fills: pd.DataFrame,
    positions: pd.DataFrame,
    *,
    periods_per_year: float,
) -> Metrics:
    """Metrics of the whole account: the ``total`` equity column, every trade and fill.

    The run is exposed at a bar when any symbol holds a position at its close.
    """
    return compute_metrics(
        equity[TOTAL_COLUMN],
        trades,
        positions=(positions.to_numpy(dtype=np.float64) != 0).any(axis=1),
        traded_value=traded_value(fills),
        periods_per_year=periods_per_year,
    )


def per_symbol_metrics(
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    fills: pd.DataFrame,
    positions: pd.DataFrame,
    *,
    periods_per_year: float,
) -> dict[str, Metrics]:
    """Metrics of each symbol's account: its equity column, trades, fills and positions.

    In isolated mode a symbol's column is its own account. In portfolio mode the caller
    decides what the column means (e.g. the symbol's allocation plus its cumulative P&L);
    it must stay positive. The return statistics are computed on the whole (bars, symbols)
    array at once, so that hundreds of symbols over thousands of bars take a fraction of a
    second.
    """
    symbols = [str(column) for column in equity.columns if column != TOTAL_COLUMN]
    if [str(column) for column in positions.columns] != symbols:
        raise InputError(f"positions columns must be the equity symbols {symbols}")
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise InputError(f"periods_per_year must be positive, got {periods_per_year}")
    _equity_values(equity[TOTAL_COLUMN])  # checks the shared index once
    times_ns = _nanoseconds(pd.DatetimeIndex(equity.index))
    columns = np.flatnonzero(equity.columns != TOTAL_COLUMN)
    values = equity.to_numpy(dtype=np.float64)[:, columns]
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise InputError("equity must be finite and positive at every bar")
    held = positions.to_numpy(dtype=np.float64)
    if held.shape != values.shape or not np.isfinite(held).all():
        raise InputError("positions must be finite, one value per bar and symbol")
    pnl, returns_pct, fees = _trade_columns(trades)
    trade_codes = _symbol_codes(trades["symbol"], symbols, "trades")
    order = np.argsort(trade_codes, kind="stable")
    bounds = np.searchsorted(trade_codes[order], np.arange(len(symbols) + 1))
    fill_codes = _symbol_codes(fills["symbol"], symbols, "fills")
    fill_values = np.abs(fills["qty"].to_numpy(dtype=np.float64)) * fills["price"].to_numpy(
        dtype=np.float64
    )
    traded = np.bincount(fill_codes, weights=fill_values, minlength=len(symbols))
    symbol_trades = []
    for column in range(len(symbols)):
        rows = order[bounds[column] : bounds[column + 1]]
        symbol_trades.append(_TradeArrays(pnl[rows], returns_pct[rows], fees[rows]))
    scorecards = _scorecards(
        values, times_ns, held, symbol_trades, traded, periods_per_year, time_axis=0
    )
    return dict(zip(symbols, scorecards, strict=True))


def metrics_to_json(metrics: Mapping[str, Metrics]) -> dict[str, dict[str, JsonNumber]]:
    """`{name: metrics.to_dict()}` for a per-symbol mapping."""
    return {name: value.to_dict() for name, value in metrics.items()}


@dataclass(frozen=True, slots=True)
class _TradeArrays:
    pnl: np.ndarray
    returns_pct: np.ndarray
    fees: np.ndarray


def _scorecards(
    values: np.ndarray,
    times_ns: np.ndarray,
    held: np.ndarray,
    trades: list[_TradeArrays],
    traded: np.ndarray,
    periods_per_year: float,
    *,
    time_axis: int,
) -> list[Metrics]:
    """Metrics of each account in checked (bars, accounts) arrays (``time_axis=0``)."""
    stats = performance.curve_statistics(values, times_ns, periods_per_year, time_axis=time_axis)
    exposure = np.count_nonzero(held, axis=time_axis) / held.shape[time_axis]
    bars = values.shape[time_axis]
    years = (bars - 1) / periods_per_year
    turnover = np.full(len(trades), np.nan)
    if years > 0:
        turnover = traded / values.mean(axis=time_axis) / years
    starts, finals = np.take(values, 0, axis=time_axis), np.take(values, -1, axis=time_axis)
    result = []
    for row, own in enumerate(trades):
        pnl = own.pnl
        wins, losses = pnl > 0, pnl < 0
        gross_profit, gross_loss = float(pnl[wins].sum()), float(-pnl[losses].sum())
        deepest = float(stats.max_drawdown[row])
        result.append(
            Metrics(
                start_equity=float(starts[row]),
                final_equity=float(finals[row]),
                total_return=float(stats.total_return[row]),
                cagr=float(stats.cagr[row]),
                annual_volatility=float(stats.annual_volatility[row]),
                sharpe_ratio=float(stats.sharpe_ratio[row]),
                sortino_ratio=float(stats.sortino_ratio[row]),
                calmar_ratio=float(stats.calmar_ratio[row]),
                max_drawdown=deepest,
                max_drawdown_pct=deepest * 100.0,
                max_drawdown_duration_bars=int(stats.underwater_bars[row]),
                max_drawdown_duration_days=float(stats.underwater_days[row]),
                trades=len(pnl),
                win_rate=float(wins.sum()) / len(pnl) if len(pnl) else math.nan,
                average_win=_mean(pnl[wins]),
                average_loss=_mean(pnl[losses]),
                average_win_pct=_mean(own.returns_pct[wins]),
                average_loss_pct=_mean(own.returns_pct[losses]),
                profit_factor=_profit_factor(gross_profit, gross_loss),
                fees=float(own.fees.sum()),
                exposure=float(exposure[row]),
                turnover=float(turnover[row]),
                bars=bars,
                periods_per_year=float(periods_per_year),
            )
        )
    return result


def _symbol_codes(column: pd.Series, symbols: list[str], what: str) -> np.ndarray:
    """Position of each row's symbol in `symbols`."""
    codes = pd.Index(symbols).get_indexer(pd.Index(column.astype(str)))
    if (codes < 0).any():
        unknown = sorted(set(column.astype(str)) - set(symbols))
        raise InputError(f"{what} name symbols not in equity: {unknown}")
    return np.asarray(codes, dtype=np.int64)


def _nanoseconds(index: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(index.as_unit("ns").to_numpy(dtype="datetime64[ns]").view(np.int64))


def _equity_values(equity: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(equity, pd.Series):
        raise InputError(f"equity must be a Series, not {type(equity).__name__}")
    if len(equity) == 0:
        raise InputError("equity has no bars")
    index = check_time_index(equity.index, "equity")
    values = pd.to_numeric(equity, errors="coerce").to_numpy(dtype=np.float64)
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise InputError(f"equity {equity.name!r} must be finite and positive at every bar")
    return values, _nanoseconds(index)


def _positions_values(positions: pd.Series | np.ndarray, bars: int) -> np.ndarray:
    held = np.asarray(positions, dtype=np.float64)
    if held.shape != (bars,):
        raise InputError(f"positions must have one value per bar ({bars}), got {held.shape}")
    if not np.isfinite(held).all():
        raise InputError("positions must be finite")
    return held


def _trade_columns(trades: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [name for name in ("pnl", "return_pct", "fees") if name not in trades.columns]
    if missing:
        raise InputError(f"trades lack column(s) {', '.join(missing)}")
    pnl, returns_pct, fees = (
        trades[name].to_numpy(dtype=np.float64) for name in ("pnl", "return_pct", "fees")
    )
    if not (np.isfinite(pnl).all() and np.isfinite(returns_pct).all() and np.isfinite(fees).all()):
        raise InputError("trades pnl, return_pct and fees must be finite")
    return pnl, returns_pct, fees


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _profit_factor(gross_profit: float, gross_loss: float) -> float:
    if gross_loss > 0:
        return gross_profit / gross_loss
    return math.inf if gross_profit > 0 else math.nan


def _json_number(value: float | int) -> JsonNumber:
    if isinstance(value, bool | int | np.integer):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None
