"""The paper market moved a whole slice at a time (`begin_bars`, `trade_bars`) does what
moving it bar by bar does: same updates in the same order, same orders, fills and cash,
and the same state on disk (reopened)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fakes import buy
from orchestrade.brokers.paper import PaperBroker
from orchestrade.brokers.paper.errors import PaperStoreError
from orchestrade.brokers.paper.store import Changes, PaperStore
from orchestrade.domain import Bar, Order, OrderId, OrderStatus, Symbol
from orchestrade.execution import BrokerRejectedError
from orchestrade.execution.ports import BrokerUpdate, OrderUpdate

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


async def run(
    broker: PaperBroker, seed: int, *, batched: bool, orders_together: bool = False
) -> list[object]:
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
        if orders_together:
            answers = await broker.submit_many(sent)
            assert all(isinstance(answer, Order) for answer in answers)
        else:
            for order in sent:
                await broker.submit(order)
        if batched:
            traded = await broker.trade_bars(day_slice)
        else:
            traded = [u for bar in day_slice for u in await broker.trade_bar(bar)]
        seen.append(("returned", tuple(opened), tuple(traded)))
    return seen


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("orders_together", [False, True])
async def test_a_slice_at_a_time_equals_bar_by_bar(
    open_paper: PaperFactory, tmp_path: Path, seed: int, orders_together: bool
) -> None:
    one = open_paper(krx_settings(), cash=CASH, path=tmp_path / "one.db")
    other = open_paper(krx_settings(), cash=CASH, path=tmp_path / "other.db")

    bar_by_bar = await run(one, seed, batched=False)
    sliced = await run(other, seed, batched=True, orders_together=orders_together)

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


async def opened(open_paper: PaperFactory) -> tuple[PaperBroker, Bar]:
    """A KRX paper broker whose market opened the first slice of `session(7)`, and the
    first bar of that slice."""
    broker = open_paper(krx_settings(), cash=CASH)
    slices, _ = session(7)
    await broker.begin_bars(slices[0])
    return broker, slices[0][0]


async def test_orders_sent_together_are_one_commit_and_each_gets_its_answer(
    open_paper: PaperFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, bar = await opened(open_paper)
    first, second = buy("t1", 10, symbol=bar.symbol), buy("t2", 5, symbol=bar.symbol)
    past_new = buy("t3", 1, symbol=bar.symbol).with_status(OrderStatus.SUBMITTED)
    past_new = past_new.with_status(OrderStatus.ACCEPTED)
    seen: list[BrokerUpdate] = []
    writes: list[Changes] = []

    async def listen(update: BrokerUpdate) -> None:
        seen.append(update)

    broker.subscribe(listen)
    write = PaperStore.write

    def counted(store: PaperStore, changes: Changes) -> None:
        writes.append(changes)
        write(store, changes)

    monkeypatch.setattr(PaperStore, "write", counted)

    answers = await broker.submit_many([first, past_new, second, first])

    assert len(writes) == 1
    assert isinstance(answers[1], BrokerRejectedError)
    assert [a.order_id for a in answers if isinstance(a, Order)] == ["t1", "t2", "t1"]
    assert [a.status for a in answers if isinstance(a, Order)] == [OrderStatus.FILLED] * 3
    # accepted, filled, accepted, filled: in the orders' order; the repeat only counted.
    kinds = [
        (type(u).__name__, u.order.order_id if isinstance(u, OrderUpdate) else u.fill.order_id)
        for u in seen
    ]
    assert kinds == [
        ("OrderUpdate", "t1"),
        ("FillUpdate", "t1"),
        ("OrderUpdate", "t2"),
        ("FillUpdate", "t2"),
    ]
    assert broker.received(OrderId("t1")) == 2
    assert broker.received(OrderId("t3")) == 0


async def test_orders_sent_together_are_all_or_none_when_the_state_cannot_be_written(
    open_paper: PaperFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, bar = await opened(open_paper)
    symbol = bar.symbol
    before = await broker.account()

    def fail(store: PaperStore, changes: object) -> None:
        raise PaperStoreError("disk full")

    monkeypatch.setattr(PaperStore, "write", fail)
    with pytest.raises(PaperStoreError):
        await broker.submit_many([buy("t1", 10, symbol=symbol), buy("t2", 5, symbol=symbol)])
    monkeypatch.undo()

    assert broker.orders() == []
    assert await broker.account() == before
    # Taken when sent again (the broker forgot the unwritten open too: it rests until the
    # symbol's next bar, as after a restart).
    (again,) = await broker.submit_many([buy("t1", 10, symbol=symbol)])
    assert isinstance(again, Order)
    assert [order.order_id for order in broker.orders()] == ["t1"]
    assert broker.received(OrderId("t1")) == 1
