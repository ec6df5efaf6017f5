"""The paper market moved a whole slice at a time (`begin_bars`, `trade_bars`) does what
moving it bar by bar does: same updates in the same order, same orders, fills and cash,
and the same state on disk (reopened)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from orchestrade.brokers.paper import PaperBroker
from orchestrade.domain import Bar, Order, Symbol

from .conftest import PaperFactory
from .test_paper_invariants import CASH, SYMBOLS, krx_settings, random_bars, random_order

pytestmark = pytest.mark.anyio


def session(seed: int) -> tuple[list[list[Bar]], list[list[Order]]]:
    """Slices of bars (one per symbol) and the orders sent after each open."""
    rng = random.Random(seed)
    bars = random_bars(rng, 30)
    slices = [[bars[symbol][day] for symbol in SYMBOLS] for day in range(30)]
    orders: list[list[Order]] = []
    number = 0
    for day_slice in slices:
        sent = []
        for bar in day_slice:
            for _ in range(rng.randint(0, 2)):
                number += 1
                sent.append(random_order(rng, number, bar.symbol, bar))
        orders.append(sent)
    return slices, orders


async def run(broker: PaperBroker, seed: int, *, batched: bool) -> list[object]:
    seen: list[object] = []

    async def listen(update: object) -> None:
        seen.append(update)

    broker.subscribe(listen)
    slices, orders = session(seed)
    for day_slice, sent in zip(slices, orders, strict=True):
        if batched:
            opened = await broker.begin_bars(day_slice)
        else:
            opened = [u for bar in day_slice for u in await broker.begin_bar(bar)]
        for order in sent:
            await broker.submit(order)
        if batched:
            traded = await broker.trade_bars(day_slice)
        else:
            traded = [u for bar in day_slice for u in await broker.trade_bar(bar)]
        seen.append(("returned", tuple(opened), tuple(traded)))
    return seen


@pytest.mark.parametrize("seed", [4, 5, 6])
async def test_a_slice_at_a_time_equals_bar_by_bar(
    open_paper: PaperFactory, tmp_path: Path, seed: int
) -> None:
    one = open_paper(krx_settings(), cash=CASH, path=tmp_path / "one.db")
    other = open_paper(krx_settings(), cash=CASH, path=tmp_path / "other.db")

    bar_by_bar = await run(one, seed, batched=False)
    sliced = await run(other, seed, batched=True)

    assert sliced == bar_by_bar
    assert sum(1 for update in sliced if not isinstance(update, tuple)) > 40
    assert other.orders() == one.orders()
    assert await other.fills() == await one.fills()
    assert await other.account() == await one.account()
    assert other.equity() == one.equity()
    assert other.equity() != CASH  # it traded
    other.close()
    reopened = open_paper(krx_settings(), cash=CASH, path=tmp_path / "other.db")
    assert reopened.orders() == one.orders()
    for symbol in SYMBOLS:
        assert reopened.market(Symbol(symbol)) == one.market(Symbol(symbol))
