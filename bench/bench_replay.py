"""Replay through the whole agent stack: throughput, scaling with symbols, and latency.

Run: ``python bench/bench_replay.py [--quick] [--pairs N]``. Workload: the reference ``sma_cross``
(fast 10, slow 30; min confidence 0, risk off, fee 0.1%, no tax) over ``../shared/data/krx``
through data -> strategy -> orchestrator (rules) -> risk -> execution (OMS journal + paper
broker) -> portfolio on the in-process bus. Printed:

* bars/s over the 32 symbols with the journal and the broker state in SQLite files (what
  `orchestrade replay` does) and with an in-memory journal (the stack without disk);
* bars/s for 8, 16 and 32 symbols (scaling with symbols), and for 2 and 4 bots (sma_cross
  with other parameters) over the 32 symbols in one node (scaling with bots);
* market-data-to-order latency: from the `BarsOpened` publish of a slice to the paper
  broker's `submit_many` call that carries each order decided for that open (the orders of
  one open are journaled together, then sent together), p50 and p99, and the same for the
  first order of each open only;
* for scale, the backtest kernel's time on the same workload (same trades), and
  backtrader's event-driven run of the same strategy on the same bars in the same run (the
  `bench` extra), with our bars/s as a multiple of its own: backtrader and the replay run
  back to back `--pairs` times (1 with `--quick`, else 3), and the median ratio is printed;
  the latencies are pooled over the pairs' replays. The issue quotes backtrader at
  about 8,000 bars/s on its reference machine next to the 50,000 bars/s target: the target
  is 6.25x backtrader, a ratio that holds on a slower or busier machine where the absolute
  figures do not.

The timings cover `run_replay` (building the node, reconciliation, all bars, shutdown),
not the reading of the CSV files.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orchestrade.agents.data import ReplayDataAgent
from orchestrade.backtest.engine import Backtest
from orchestrade.brokers.paper import PaperBroker
from orchestrade.domain import BarsOpened, Order
from orchestrade.orchestration.runtime import BotPlan, ReplayOutcome, replay

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "krx"
REFERENCE = {"cash": 10_000_000.0, "fees": 0.001, "tax": 0.0, "min_confidence": 0.0, "risk": "none"}
PARAMS = {"fast": 10, "slow": 30}
TARGET_VS_BACKTRADER = 6.25
"""50,000 bars/s over the issue's ~8,000 for backtrader on its reference machine."""
BOT_PARAMS = [PARAMS, {"fast": 5, "slow": 20}, {"fast": 20, "slow": 60}, {"fast": 3, "slow": 15}]
"""The parameters of the bots of the scaling runs (bot 0 is the reference)."""


def main() -> None:
    if not DATA.is_dir():
        print(f"skipped: no real data at {DATA}")
        return
    quick = "--quick" in sys.argv
    files = sorted(DATA.glob("*.csv.gz"))
    backtest = Backtest(files, "sma_cross", **REFERENCE)
    started = time.perf_counter()
    expected = backtest.run(**PARAMS)
    kernel_s = time.perf_counter() - started
    print(f"backtest kernel (same workload, for scale): {kernel_s:.3f} s")
    rounds = _option("--pairs", 1 if quick else 3)
    ratios: list[float] = []
    latencies: list[float] = []
    firsts: list[float] = []
    for _ in range(rounds):
        # backtrader and our replay back to back, `--pairs` times: on a shared machine whose
        # speed drifts by tens of percent over minutes, the ratio of a pair holds where the
        # absolute figures of separate runs do not.
        peer_rate = _backtrader_rate(backtest)
        outcome, opened, first = _timed_replay(backtest, in_memory=False)
        latencies += opened
        firsts += first
        same = _trades(outcome) == _trades_of(expected)
        print(
            f"replay, 32 symbols, SQLite files: {outcome.bars:,} bars in {outcome.seconds:.2f} s"
            f" = {outcome.bars_per_second:,.0f} bars/s; trades identical to the backtest: "
            f"{same}; {outcome.counters.get('execution', {})}"
        )
        if peer_rate is not None:
            ratios.append(outcome.bars_per_second / peer_rate)
            print(
                f"  = {ratios[-1]:.2f}x backtrader's {peer_rate:,.0f} bars/s "
                f"(target: 50,000 bars/s, {TARGET_VS_BACKTRADER}x backtrader)"
            )
    if len(ratios) > 1:
        print(
            f"over {len(ratios)} pairs: median {statistics.median(ratios):.2f}x backtrader "
            f"(pairs: {', '.join(f'{ratio:.2f}x' for ratio in ratios)})"
        )
    _print_latency(latencies)
    _print_latency(firsts, "bar open -> first order of that open at the broker")
    memory, _, _ = _timed_replay(backtest, in_memory=True)
    print(
        f"replay, 32 symbols, in-memory journal: {memory.bars:,} bars in "
        f"{memory.seconds:.2f} s = {memory.bars_per_second:,.0f} bars/s"
    )
    if quick:
        return
    for count in (8, 16):
        subset = Backtest(files[:count], "sma_cross", **REFERENCE)
        scaled, _, _ = _timed_replay(subset, in_memory=False)
        print(
            f"replay, {count} symbols: {scaled.bars:,} bars in {scaled.seconds:.2f} s = "
            f"{scaled.bars_per_second:,.0f} bars/s"
        )
    for bots in (2, 4):
        more = [BotPlan(f"bot-{k}", backtest, BOT_PARAMS[k]) for k in range(1, bots)]
        several, _, _ = _timed_replay(backtest, in_memory=False, more_bots=more)
        decided = sum(len(result.trades) for result in several.results.values())
        pairs = several.bars * bots / several.seconds
        print(
            f"replay, {bots} bots x 32 symbols: {several.bars:,} bars in {several.seconds:.2f} s"
            f" = {several.bars_per_second:,.0f} bars/s ({pairs:,.0f} bar-bot pairs/s, "
            f"{decided:,} trades)"
        )


def _option(name: str, default: int) -> int:
    """The integer after `name` on the command line, or `default`."""
    if name not in sys.argv[:-1]:
        return default
    value = sys.argv[sys.argv.index(name) + 1]
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name} takes a whole number >= 1, got {value!r}")
    return int(value)


def _backtrader_rate(backtest: Backtest) -> float | None:
    """backtrader's bars/s on the same bars and strategy (None when it is not installed)."""
    if importlib.util.find_spec("backtrader") is None:
        print("backtrader is not installed (pip install -e '.[bench]'): no peer figure")
        return None
    from peers.backtrader_peer import run_backtrader

    panel = backtest.bars.panel
    run = run_backtrader(panel)
    bars = int((~np.isnan(panel.close)).sum())
    print(
        f"backtrader, same bars and strategy: {bars:,} bars in {run.seconds:.2f} s = "
        f"{bars / run.seconds:,.0f} bars/s"
    )
    return bars / run.seconds


def _timed_replay(
    backtest: Backtest, *, in_memory: bool, more_bots: list[BotPlan] | None = None
) -> tuple[ReplayOutcome, list[float], list[float]]:
    """One replay; returns it, the latencies (seconds) from an open to each of its orders,
    and to the first order of each open (no other order of the slice ahead of it)."""
    opened: dict[Any, float] = {}
    latencies: list[float] = []
    first: dict[Any, float] = {}
    publish = ReplayDataAgent.publish
    submit_many = PaperBroker.submit_many

    async def timed_publish(self: ReplayDataAgent, message: Any, **kwargs: Any) -> Any:
        if isinstance(message, BarsOpened):
            opened[message.start] = time.perf_counter()
        return await publish(self, message, **kwargs)

    async def timed_submit_many(self: PaperBroker, orders: Sequence[Order]) -> Any:
        reached = time.perf_counter()
        for order in orders:
            at = opened.get(order.created_at)
            if at is not None and order.order_type.value == "market":
                latencies.append(reached - at)
                first.setdefault(order.created_at, latencies[-1])
        return await submit_many(self, orders)

    ReplayDataAgent.publish = timed_publish  # type: ignore[method-assign]
    PaperBroker.submit_many = timed_submit_many  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = "sqlite://" if in_memory else f"sqlite:///{Path(folder) / 'app.db'}"
            outcome = replay(
                backtest,
                params=PARAMS,
                database_url=url,
                broker_path=Path(folder) / "broker.db",
                bot_id="bench",
                more_bots=more_bots or [],
            )
    finally:
        ReplayDataAgent.publish = publish  # type: ignore[method-assign]
        PaperBroker.submit_many = submit_many  # type: ignore[method-assign]
    return outcome, latencies, list(first.values())


def _print_latency(latencies: list[float], label: str = "bar open -> order at the broker") -> None:
    if not latencies:
        print("latency: no orders")
        return
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(
        f"{label}: p50 {statistics.median(ordered) * 1e6:,.0f} us, "
        f"p99 {p99 * 1e6:,.0f} us, max {ordered[-1] * 1e6:,.0f} us over {len(ordered):,} "
        "orders (target p99 < 1,000 us)"
    )


def _trades(outcome: ReplayOutcome) -> list[tuple[Any, ...]]:
    return _trades_of(outcome.require_result())


def _trades_of(result: Any) -> list[tuple[Any, ...]]:
    columns = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]
    frame = result.trades.loc[:, columns].sort_values(["symbol", "entry_time"])
    return [tuple(row) for row in frame.itertuples(index=False)]


if __name__ == "__main__":
    main()
