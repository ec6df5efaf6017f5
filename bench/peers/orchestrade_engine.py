"""Our side of the benchmark: the built-in ``sma_cross`` spec compiled to signal arrays and
simulated by ``orchestrade.backtest.kernel.simulate`` with the reference settings.

The signals are compiled with ``compile_trading_signals`` (what ``Backtest.run`` uses: the
entries, exits and entry confidences the kernel reads, without reasons or exit confidence)
and the kernel records the equity only (``record="equity"``): the workload asks for final
equities and trade lists.

Reference settings: isolated accounts, next-open fills, commission 0.001 with no minimum,
no sell tax, no slippage, cash 10,000,000 per symbol, all-cash sizing in whole shares, no
tick rounding or price limit (the x16 copies are deliberately off the KRX tick grid),
min_confidence 0 and every risk limit off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np

from peers.panel_files import Panel
from peers.reference import CASH, FAST, FEE, SLOW
from peers.results import TRADE_DTYPE, PeerRun, sort_trades

REQUIRED_MODULES = (
    "orchestrade.strategies.builtin",
    "orchestrade.strategies.compiler",
    "orchestrade.backtest.kernel",
    "orchestrade.backtest.config",
    "orchestrade.backtest.sizing",
)


class EngineNotReadyError(RuntimeError):
    """A module our engine needs does not exist (yet) or fails to import."""


def run_orchestrade(
    universe: Panel,
    *,
    fast: int = FAST,
    slow: int = SLOW,
    cash: float = CASH,
    fee: float = FEE,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Run sma_cross(fast, slow) over ``universe``.

    Returns:
        (trades as ``peers.results.TRADE_DTYPE``, final equity per symbol, seconds from the
        loaded arrays to the trades and final equities).

    Raises:
        EngineNotReadyError: the strategies compiler or the kernel cannot be imported.
    """
    trades, final_equity, seconds, _parts = _timed_run(universe, fast, slow, cash, fee)
    return trades, final_equity, seconds


def orchestrade_run(
    universe: Panel,
    *,
    fast: int = FAST,
    slow: int = SLOW,
    cash: float = CASH,
    fee: float = FEE,
) -> PeerRun:
    """``run_orchestrade`` as a ``PeerRun`` whose ``extra`` splits the time into
    ``signals_seconds`` (indicators + signals) and ``simulate_seconds`` (kernel + results)."""
    trades, final_equity, seconds, parts = _timed_run(universe, fast, slow, cash, fee)
    return PeerRun(
        "orchestrade", trades, final_equity, seconds, tuple(range(len(universe.symbols))), parts
    )


def import_engine() -> None:
    """Import every module the engine needs (so a caller can time imports apart).

    Raises:
        EngineNotReadyError: a module cannot be imported.
    """
    missing = missing_modules()
    if missing:
        raise EngineNotReadyError("cannot import " + "; ".join(missing))


def prepare_engine() -> None:
    """`import_engine`, then load the ``sma_cross`` spec and build the reference
    configuration, as the first run would (so a caller can time that set-up apart too).

    Raises:
        EngineNotReadyError: a module cannot be imported.
    """
    _pipeline(CASH, FEE)


def run_orchestrade_sweep(
    universe: Panel,
    combinations: Sequence[tuple[int, int]],
    *,
    cash: float = CASH,
    fee: float = FEE,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Every (fast, slow) combination over ``universe``, one after the other.

    Loops over the compiled-signals + kernel pipeline (indicators are recomputed for each
    combination), in this process.

    Returns:
        (final equity (n_combinations, n_symbols), trade count per combination, seconds).
    """
    step = _pipeline(cash, fee)
    equities = np.empty((len(combinations), len(universe.symbols)))
    counts = np.empty(len(combinations), dtype=np.int64)
    started = time.perf_counter()
    for index, (fast, slow) in enumerate(combinations):
        trades, equities[index], _parts = step(universe, fast, slow)
        counts[index] = trades.size
    return equities, counts, time.perf_counter() - started


def missing_modules() -> list[str]:
    """The required modules that cannot be imported, each with the import error."""
    import importlib

    missing = []
    for name in REQUIRED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as error:
            missing.append(f"{name} ({error})")
    return missing


def to_common_trades(kernel_trades: np.ndarray) -> np.ndarray:
    """The kernel's trade records (exit reason END = valued at the last close) as
    ``TRADE_DTYPE``."""
    trades = np.empty(kernel_trades.size, dtype=TRADE_DTYPE)
    for name in TRADE_DTYPE.names or ():
        trades[name] = kernel_trades[name]
    return sort_trades(trades)


def final_equities(equity: np.ndarray) -> np.ndarray:
    """The last finite value of each row of an (n_symbols, n_times) equity array."""
    finite = np.isfinite(equity)
    last = equity.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)
    values = equity[np.arange(equity.shape[0]), last]
    return np.where(finite.any(axis=1), values, np.nan)


Step = Callable[[Panel, int, int], tuple[np.ndarray, np.ndarray, dict[str, float]]]


def _timed_run(
    universe: Panel, fast: int, slow: int, cash: float, fee: float
) -> tuple[np.ndarray, np.ndarray, float, dict[str, float]]:
    step = _pipeline(cash, fee)
    started = time.perf_counter()
    kernel_trades, final_equity, parts = step(universe, fast, slow)
    seconds = time.perf_counter() - started
    return to_common_trades(kernel_trades), final_equity, seconds, parts


@cache
def _pipeline(cash: float, fee: float) -> Step:
    import_engine()
    from orchestrade.backtest.config import SimulationConfig
    from orchestrade.backtest.kernel import simulate
    from orchestrade.backtest.sizing import Sizing
    from orchestrade.strategies.builtin import builtin_spec
    from orchestrade.strategies.compiler import compile_trading_signals

    spec = builtin_spec("sma_cross")
    config = SimulationConfig(
        mode="isolated",
        fill="next_open",
        cash=cash,
        commission=fee,
        commission_min=0.0,
        sell_tax=0.0,
        slippage_bps=0.0,
        slippage_range=0.0,
        tick_kind="none",
        lot_size=1.0,
        price_limit=0.0,
        sizing=Sizing(method="all_cash"),
        min_confidence=0.0,
    )

    def step(
        universe: Panel, fast: int, slow: int
    ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        started = time.perf_counter()
        signals = compile_trading_signals(spec, universe, {"fast": fast, "slow": slow})
        compiled = time.perf_counter()
        simulation = simulate(universe, signals, config, record="equity")  # trades + equities only
        equity = final_equities(simulation.equity)
        parts = {
            "signals_seconds": compiled - started,
            "simulate_seconds": time.perf_counter() - compiled,
        }
        return simulation.trades, equity, parts

    return step
