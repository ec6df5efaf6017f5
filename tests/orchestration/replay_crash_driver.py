"""The process the crash test kills: replays two strategies on real KRX bars, resumably.

`run(data_dir, work, ready)` replays `sma_cross` and then `nyse_value` (whose stop losses
rest at the broker as protective stop orders) on a few KRX stocks, each as its own bot with
its own application database and paper-broker file in `work`. Started again on the same
folder after being killed, it does what a restarted trading node does: the replays run from
the first bar with the same bot ids and files, reconciliation settles what the kill left in
doubt, and the regenerated decisions are re-asked under the same client order ids.

`die_at` ("submit:N", "commit:N" or "cancel:N") makes the process SIGKILL itself at the N-th
instant of one kind, the narrow windows a kill at a random instant rarely hits: just before
the N-th order reaches the broker (the journal has it as sent, the broker never got it),
right after the broker committed its N-th batch of fills (nobody has heard of them), or just
before the N-th cancel reaches the broker (the journal has the cancel requested).

When both replays finish it writes `result.json` in `work` (atomically): per strategy, the
trades (symbol, entry/exit time and price, quantity) and the final equity per column. It
touches `ready` once the data is loaded, just before the first replay starts, so the test
can time its kills from there.

Run by hand: `python tests/orchestration/replay_crash_driver.py DATA_DIR WORK_DIR`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.inputs import load_bar_data
from orchestrade.brokers.paper import PaperBroker
from orchestrade.brokers.paper.store import Changes
from orchestrade.domain import Order, OrderId
from orchestrade.orchestration.runtime import replay

STRATEGIES = ("sma_cross", "nyse_value")
SYMBOLS = ("000660", "005380", "005930", "035420")
START = "2016-01-01"
CASH = 10_000_000.0
FEES = 0.001
TRADE_KEYS = ("symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty")
RESULT_NAME = "result.json"
PRELOAD = (
    "orchestrade.backtest.engine",
    "orchestrade.backtest.inputs",
    "orchestrade.orchestration.runtime",
)
"""The modules a fork server should import once for all the driver processes it starts
(importable from anywhere: the fork server does not get the test's `sys.path`)."""


def bot_id(strategy: str) -> str:
    """The fixed bot id a strategy runs as (the same in every restart)."""
    return f"crash-{strategy}"


def database_url(work: Path, strategy: str) -> str:
    """The strategy's application database (orders, fills, audit)."""
    return f"sqlite:///{work / f'{strategy}.db'}"


def broker_path(work: Path, strategy: str) -> Path:
    """The strategy's paper-broker state file."""
    return work / f"{strategy}-broker.db"


def backtests(data_dir: Path) -> dict[str, Backtest]:
    """Each strategy on `SYMBOLS` from `START` on, with the parity test's costs."""
    files = [data_dir / "krx" / f"{symbol}.csv.gz" for symbol in SYMBOLS]
    prepared = load_bar_data(files)
    panel = prepared.panel.select(start=np.datetime64(START))
    markets = dict(zip(prepared.panel.symbols, prepared.markets, strict=True))
    kinds = dict(zip(prepared.panel.symbols, prepared.kinds, strict=True))
    return {
        strategy: Backtest(
            panel,
            strategy,
            cash=CASH,
            fees=FEES,
            mode="isolated",
            markets=markets,
            kinds=kinds,
        )
        for strategy in STRATEGIES
    }


def run(data_dir: Path, work: Path, ready: Path | None = None, die_at: str | None = None) -> None:
    """Replay every strategy in `work` (resuming what is there), then write the result."""
    if die_at is not None:
        _arm(die_at)
    logging.basicConfig(
        filename=work / "driver.log",
        level=logging.WARNING,
        format=f"%(asctime)s {os.getpid()} %(name)s %(levelname)s %(message)s",
    )
    runs = backtests(data_dir)
    if ready is not None:
        ready.touch()
    results: dict[str, Any] = {}
    for strategy, backtest in runs.items():
        outcome = replay(
            backtest,
            database_url=database_url(work, strategy),
            broker_path=broker_path(work, strategy),
            bot_id=bot_id(strategy),
        )
        result = outcome.require_result()
        trades = result.trades
        final = result.equity.iloc[-1]
        results[strategy] = {
            "trades": [
                [str(row[key]) if key.endswith("_time") else row[key] for key in TRADE_KEYS]
                for row in trades.loc[:, list(TRADE_KEYS)].to_dict("records")
            ],
            "equity": {str(column): float(value) for column, value in final.items()},
            "counters": outcome.counters,
        }
    partial = work / f"{RESULT_NAME}.partial"
    partial.write_text(json.dumps(results, default=_plain, indent=1))
    partial.replace(work / RESULT_NAME)


def _arm(die_at: str) -> None:
    """Make this process SIGKILL itself at the instant `die_at` names (see the module doc)."""
    kind, _, nth = die_at.partition(":")
    due = _countdown(int(nth))
    if kind == "submit":
        submit = PaperBroker.submit

        async def dying_submit(self: PaperBroker, order: Order) -> Order:
            due()
            return await submit(self, order)

        PaperBroker.submit = dying_submit  # type: ignore[method-assign]
    elif kind == "commit":
        commit = PaperBroker._commit

        def dying_commit(self: PaperBroker, changes: Changes) -> None:
            filled = bool(changes.fills)
            commit(self, changes)
            if filled:
                due()

        PaperBroker._commit = dying_commit  # type: ignore[method-assign]
    elif kind == "cancel":
        cancel = PaperBroker.cancel

        async def dying_cancel(self: PaperBroker, order_id: OrderId) -> Order:
            due()
            return await cancel(self, order_id)

        PaperBroker.cancel = dying_cancel  # type: ignore[method-assign]
    else:
        raise ValueError(f"die_at must be submit:N, commit:N or cancel:N, not {die_at!r}")


def _countdown(nth: int) -> Callable[[], None]:
    """A call that SIGKILLs this process the `nth` time it is made."""
    calls = 0

    def call() -> None:
        nonlocal calls
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    return call


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (json cannot write them)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def main(arguments: list[str]) -> None:
    """`run` from a command line (or a multiprocessing target):
    DATA_DIR WORK [READY [DIE_AT]]."""
    data_dir, work = Path(arguments[0]), Path(arguments[1])
    ready = Path(arguments[2]) if len(arguments) > 2 else None
    die_at = arguments[3] if len(arguments) > 3 else None
    run(data_dir, work, ready, die_at)


if __name__ == "__main__":
    main(sys.argv[1:])
