"""Benchmark the per-order persistence path: OMS journal + persistent paper broker on files.

Every order of a replay costs an OMS round trip: the journal records it (SUBMITTED) before
it is sent, the paper broker commits its acceptance and fill to its own SQLite file before
it answers, the journal records the acceptance and then the fill (with the order FILLED)
before the OMS applies it. This benchmark drives N market orders through `OrderManager` +
`SqlOrderJournal` (SQLite file, WAL) + `PaperBroker` (its own file), one bar per order over
32 symbols, the way the execution agent does (`oms.order` first, then `oms.submit`), and
prints microseconds per order; then each journal call on its own.

Round trips report the median, mean and p99 wall time and the mean CPU time: on a shared
machine the median is the steady cost, the mean adds WAL checkpoints (the only fsyncs with
synchronous=NORMAL) and preemption.

Run: `python bench/bench_oms.py [--orders N] [--calls N] [--db URL]` (`--db` adds runs with
the journal on that database, which must be empty, e.g. a fresh PostgreSQL one; the SQLite
file runs always happen).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

from orchestrade.brokers.paper import PaperBroker, PaperSettings
from orchestrade.domain import (
    Bar,
    BotId,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
)
from orchestrade.execution import OrderManager
from orchestrade.storage import SqlOrderJournal, open_store

SYMBOLS = [Symbol(f"{code:06d}") for code in range(5930, 5930 + 32)]
DAY0 = datetime(2024, 1, 2, tzinfo=UTC)
BOT = BotId("bench")


class Clock:
    """Simulated time, set by the loop."""

    def __init__(self) -> None:
        self.now = DAY0

    def __call__(self) -> datetime:
        return self.now


def bar(symbol: Symbol, day: int) -> Bar:
    price = Decimal(10_000 + 10 * (day % 50))
    return Bar(
        symbol=symbol,
        timeframe="1d",
        start=DAY0 + timedelta(days=day),
        open=price,
        high=price + 100,
        low=price - 100,
        close=price + 10,
        volume=Decimal(1_000_000),
    )


def market_order(
    number: int, symbol: Symbol, side: Side, at: datetime, *, prefix: str = "bench"
) -> Order:
    return Order(
        order_id=OrderId(f"{prefix}-{number}"),
        symbol=symbol,
        side=side,
        order_type=OrderType.MARKET,
        quantity=Decimal(10),
        created_at=at,
        bot_id=BOT,
    )


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """Microseconds per order round trip (wall: median, mean, p99; CPU: mean) and per bar
    that changes no order (mean wall)."""

    median: float
    mean: float
    p99: float
    cpu: float
    bar: float


async def round_trips(url: str, paper: Path, orders: int) -> RoundTrips:
    """Time `orders` round trips, one per bar, over the 32 symbols.

    A round trip is `oms.order` (the execution agent's replay check) then `oms.submit` of a
    market order while its bar is open: it returns with the order FILLED and journaled.
    """
    clock = Clock()
    with open_store(url) as store:
        journal = SqlOrderJournal(store)
        broker = PaperBroker.open(paper, PaperSettings(), cash=Decimal(10) ** 12, clock=clock)
        oms = OrderManager(broker, journal, clock=clock)
        await oms.start()
        walls: list[float] = []
        cpu_s = 0.0
        for number in range(orders):
            symbol = SYMBOLS[number % len(SYMBOLS)]
            day = number // len(SYMBOLS)
            today = bar(symbol, day)
            clock.now = today.start
            await broker.begin_bar(today)
            order = market_order(number, symbol, Side.BUY if day % 2 == 0 else Side.SELL, clock())
            cpu, wall = time.process_time(), time.perf_counter()
            if oms.order(order.order_id) is None:
                done = await oms.submit(order)
            walls.append(time.perf_counter() - wall)
            cpu_s += time.process_time() - cpu
            await broker.trade_bar(today)
            if done.status is not OrderStatus.FILLED:
                raise SystemExit(f"{order.order_id} ended {done.status.value}, not filled")
        # The same number of bars again, later, with no order: the broker's bar cost alone.
        bars_started = time.perf_counter()
        for number in range(orders):
            symbol = SYMBOLS[number % len(SYMBOLS)]
            today = bar(symbol, orders + number // len(SYMBOLS))
            clock.now = today.start
            await broker.begin_bar(today)
            await broker.trade_bar(today)
        bars_s = time.perf_counter() - bars_started
        recorded = len(journal.fills())
        broker.close()
    if recorded != orders:
        raise SystemExit(f"{recorded} fills journaled for {orders} orders")
    walls.sort()
    return RoundTrips(
        median=statistics.median(walls) * 1e6,
        mean=statistics.fmean(walls) * 1e6,
        p99=walls[int(len(walls) * 0.99)] * 1e6,
        cpu=cpu_s / orders * 1e6,
        bar=bars_s / orders * 1e6,
    )


def journal_calls(url: str, calls: int) -> dict[str, float]:
    """Median microseconds of each journal call on a fresh database."""
    at = DAY0
    timings: dict[str, list[float]] = {}

    def timed(name: str, action: Callable[..., object], *arguments: object) -> None:
        before = time.perf_counter()
        action(*arguments)
        timings.setdefault(name, []).append((time.perf_counter() - before) * 1e6)

    with open_store(url) as store:
        journal = SqlOrderJournal(store)
        for number in range(calls):
            order = market_order(number, SYMBOLS[number % 32], Side.BUY, at, prefix="calls")
            sent = order.with_status(OrderStatus.SUBMITTED)
            accepted = sent.with_status(OrderStatus.ACCEPTED)
            fill = Fill(
                fill_id=FillId(f"{order.order_id}-1"),
                order_id=order.order_id,
                symbol=order.symbol,
                side=order.side,
                quantity=order.quantity,
                price=Decimal("10000.5"),
                filled_at=at,
                fee=Decimal("15.01"),
            )
            filled = accepted.with_fill(fill)
            timed("get_order (unknown id)", journal.get_order, order.order_id)
            timed("record_order (new)", partial(journal.record_order, at=at), sent)
            timed("record_order (update)", partial(journal.record_order, at=at), accepted)
            timed("record_fill", partial(journal.record_fill, at=at), fill, filled)
            timed("get_order (known id)", journal.get_order, order.order_id)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    """Print microseconds per order round trip and per journal call."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3_000)
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--db", action="append", default=[], help="another database URL")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        targets = [(f"sqlite:///{Path(folder) / 'journal.db'}", "SQLite file")]
        targets += [(url, url.split("@")[-1]) for url in arguments.db]
        # Warm up (numba compiles the price rounding on first use) on scratch files.
        warm = Path(folder) / "warm"
        asyncio.run(round_trips(f"sqlite:///{warm / 'journal.db'}", warm / "paper.db", 64))
        for index, (url, label) in enumerate(targets):
            paper = Path(folder) / f"paper-{index}.db"
            trips = asyncio.run(round_trips(url, paper, arguments.orders))
            print(f"journal on {label}, paper broker on a SQLite file, {arguments.orders} orders")
            print(
                f"  order round trip (submit -> FILLED journaled), us/order: "
                f"median {trips.median:.1f}  mean {trips.mean:.1f}  p99 {trips.p99:.1f}  "
                f"CPU {trips.cpu:.1f}"
            )
            print(f"  bar that changes no order (begin + trade), us/bar: {trips.bar:.1f}")
        for url, label in targets:
            calls_url = url.replace("journal.db", "calls.db")
            print(f"journal calls on {label} (median of {arguments.calls})")
            for name, micros in journal_calls(calls_url, arguments.calls).items():
                print(f"  {name:<30} {micros:9.1f} us")


if __name__ == "__main__":
    main()
