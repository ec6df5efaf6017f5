"""vectorbt ``Portfolio.from_signals`` configured to reproduce the reference semantics.

Settings (checked against ``peers.reference`` trade by trade):

* averages: ``DataFrame.vbt.rolling_mean(n, minp=n)`` (vectorbt's engine-dispatched rolling
  mean); crosses computed with numpy exactly as the reference defines them (vectorbt's own
  ``crossed_above`` requires a strict ``<`` on the previous bar, the reference ``<=``);
* next-open fills: signals shifted one bar forward and ``price=open``; a shifted signal that
  lands on a missing bar (after a symbol's last bar) is dropped;
* all cash with fees accounted: ``size=np.inf, size_type="amount", fees=0.001,
  size_granularity=1``: vectorbt then buys ``floor(cash / (1 + fees) / open)`` shares, which
  is ``floor(cash / (open * 1.001))`` here;
* each column its own cash (``cash_sharing=False``, ``init_cash=10_000_000``), long only;
* ``engine="numba"`` or ``"rust"`` (``vectorbt-rust``, version-matched to vectorbt) for the
  rolling means and the simulation.

Arrays are handed over as (n_times, n_symbols) transposed views of the panel's C-ordered
(n_symbols, n_times) arrays, i.e. column-major: vectorbt's per-column loops read them
contiguously without a copy.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from peers.panel_files import Panel
from peers.reference import CASH, FAST, FEE, SLOW
from peers.results import TRADE_DTYPE, PeerRun, sort_trades

ENGINES = ("numba", "rust")


class EngineUnavailableError(RuntimeError):
    """The requested vectorbt engine cannot run here (e.g. vectorbt-rust not installed)."""


def rust_available() -> bool:
    """Whether vectorbt finds a version-matched ``vectorbt-rust``."""
    from vectorbt._engine import is_rust_available

    return bool(is_rust_available())


def run_vectorbt(
    panel: Panel,
    engine: str,
    *,
    fast: int = FAST,
    slow: int = SLOW,
    cash: float = CASH,
    fee: float = FEE,
) -> PeerRun:
    """Run sma_cross on every symbol of ``panel`` with vectorbt's ``engine``.

    Raises:
        EngineUnavailableError: ``engine`` is unknown or its package is missing.
    """
    import vectorbt as vbt

    if engine not in ENGINES:
        raise EngineUnavailableError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "rust" and not rust_available():
        raise EngineUnavailableError("vectorbt-rust is not installed (or its version mismatches)")
    index = pd.DatetimeIndex(panel.timestamps)
    columns = pd.Index(panel.symbols)
    started = time.perf_counter()
    close = pd.DataFrame(panel.close.T, index=index, columns=columns, copy=False)
    open_ = panel.open.T
    fast_ma = close.vbt.rolling_mean(fast, minp=fast, engine=engine).to_numpy()
    slow_ma = close.vbt.rolling_mean(slow, minp=slow, engine=engine).to_numpy()
    entries = np.zeros(fast_ma.shape, dtype=bool)
    exits = np.zeros(fast_ma.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        entries[2:] = (fast_ma[1:-1] > slow_ma[1:-1]) & (fast_ma[:-2] <= slow_ma[:-2])
        exits[2:] = (fast_ma[1:-1] < slow_ma[1:-1]) & (fast_ma[:-2] >= slow_ma[:-2])
    tradable = np.isfinite(open_)
    entries &= tradable
    exits &= tradable
    simulation_started = time.perf_counter()
    portfolio = vbt.Portfolio.from_signals(
        close,
        entries=entries,
        exits=exits,
        price=open_,
        size=np.inf,
        size_type="amount",
        size_granularity=1.0,
        fees=fee,
        init_cash=cash,
        cash_sharing=False,
        direction="longonly",
        engine=engine,
        freq="1D",
    )
    simulation_seconds = time.perf_counter() - simulation_started
    records = portfolio.trades.values
    final_equity = portfolio.final_value().to_numpy()
    seconds = time.perf_counter() - started
    trades = to_common_trades(records, panel)
    return PeerRun(
        f"vectorbt {vbt.__version__} ({engine})",
        trades,
        np.asarray(final_equity, dtype=np.float64),
        seconds,
        tuple(range(len(panel.symbols))),
        {"from_signals_seconds": simulation_seconds},
    )


def to_common_trades(records: np.ndarray, panel: Panel) -> np.ndarray:
    """vectorbt trade records as ``TRADE_DTYPE``; open trades end at the symbol's last bar."""
    trades = np.empty(records.size, dtype=TRADE_DTYPE)
    trades["symbol"] = records["col"]
    trades["entry_bar"] = records["entry_idx"]
    trades["entry_price"] = records["entry_price"]
    trades["exit_bar"] = records["exit_idx"]
    trades["exit_price"] = records["exit_price"]
    trades["quantity"] = records["size"]
    still_open = records["status"] == 0
    if still_open.any():
        last_bar = _last_bars(panel)
        symbols = trades["symbol"][still_open]
        trades["exit_bar"][still_open] = last_bar[symbols]
        trades["exit_price"][still_open] = panel.close[symbols, last_bar[symbols]]
    return sort_trades(trades)


def _last_bars(panel: Panel) -> np.ndarray:
    finite = np.isfinite(panel.close)
    last: np.ndarray = panel.close.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)
    return last
