"""The OMS routing to the paper broker: the books agree, and a kill at any write is safe."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from fakes import (
    FakeClock,
    InMemoryOrderJournal,
    JournalCrashError,
    buy,
    daily_bar,
    sell,
)
from orchestrade.brokers.paper import FaultyBroker, PaperBroker, PaperSettings, SymbolRules
from orchestrade.domain import Market, Order, OrderId, OrderStatus, Symbol, TimeInForce
from orchestrade.execution import (
    BrokerTimeoutError,
    DifferenceKind,
    OrderManager,
    ReconciliationReport,
    journal_positions,
)

pytestmark = pytest.mark.anyio

D = Decimal
S = OrderStatus
SAMSUNG = Symbol("005930")
CASH = D(10_000_000)
SETTINGS = PaperSettings(
    commission=0.00015,
    slippage_bps=5,
    participation=0.02,
    default_rules=SymbolRules.for_market(Market.KRX),
)
BARS = [
    daily_bar(
        day, 70_000 + 300 * day, 70_500 + 300 * day, 69_000 + 300 * day, 70_200 + 300 * day, 1_000
    )
    for day in range(8)
]
PLAN: dict[int, list[Order]] = {
    0: [buy("b1", 30, tif=TimeInForce.GTC)],
    2: [sell("s1", 10, stop=69_800, tif=TimeInForce.GTC), buy("b2", 5)],
    4: [sell("s2", 15)],
    5: [buy("b3", 3, limit=71_000)],
}


class ProcessKilledError(Exception):
    """The simulated process died."""


async def session(
    path: Path, journal: InMemoryOrderJournal, *, die_before_submit: int | None = None
) -> tuple[PaperBroker, OrderManager, ReconciliationReport]:
    """One run of the trading process: open the broker file, start the OMS on the journal,
    feed every bar (a restarted process feeds them again from the first: the broker ignores
    those it has seen) and submit the PLAN after each bar (the OMS ignores known ids).

    With `die_before_submit=n` the process dies after journaling its n-th order (counting
    from 0) and before sending it."""
    broker = PaperBroker.open(path, SETTINGS, cash=CASH, clock=FakeClock())
    route = FaultyBroker(broker)
    if die_before_submit is not None:
        route.fail("submit", BrokerTimeoutError("process died"), skip=die_before_submit)
    oms = OrderManager(route, journal, clock=FakeClock())
    try:
        report = await oms.start()
        assert report is not None
        for day, bar in enumerate(BARS):
            await broker.begin_bar(bar)
            await broker.trade_bar(bar)
            if journal.dead:
                raise ProcessKilledError
            for order in PLAN.get(day, []):
                await oms.submit(order)
    except (JournalCrashError, BrokerTimeoutError, ProcessKilledError):
        broker._store.close()  # the dead process's file handle; nothing is flushed
        raise ProcessKilledError from None
    return broker, oms, report


async def check_books(
    broker: PaperBroker, oms: OrderManager, journal: InMemoryOrderJournal
) -> None:
    """No order reached the broker twice, no fill is missing, positions are the sums of
    fills, the cash is the starting cash plus the fills' cash flows."""
    assert set(broker.submissions().values()) <= {1}
    broker_fills = await broker.fills()
    assert [f.fill_id for f in journal.fills()] == [f.fill_id for f in broker_fills]
    assert journal_positions(journal.fills()) == dict(await broker.positions())
    assert oms.quantities() == dict(await broker.positions())
    account = await broker.account()
    assert account.cash == CASH + sum((f.net_cash_flow for f in broker_fills), D(0))
    for order in broker.orders():
        mine = journal.get_order(order.order_id)
        assert mine is not None
        assert (mine.status, mine.filled_quantity) == (order.status, order.filled_quantity)


async def test_the_oms_and_the_paper_broker_keep_the_same_books(tmp_path: Path) -> None:
    journal = InMemoryOrderJournal()

    broker, oms, report = await session(tmp_path / "paper.db", journal)

    await check_books(broker, oms, journal)
    assert report.is_clean
    assert journal.statuses(OrderId("b2"))[:3] == [S.SUBMITTED, S.ACCEPTED, S.FILLED]
    assert [f.fill_id for f in await broker.fills()] == ["b1-1", "b1-2", "b2-1", "s2-1", "b3-1"]
    broker.close()


async def test_a_kill_at_any_journal_write_never_sends_an_order_twice_nor_loses_a_fill(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reference = InMemoryOrderJournal()
    broker, _, _ = await session(tmp_path / "reference.db", reference)
    broker.close()
    caplog.set_level(logging.CRITICAL)
    resolved: set[DifferenceKind] = set()

    for kill_at in range(reference.writes):
        path = tmp_path / f"killed-{kill_at}.db"
        journal = InMemoryOrderJournal()
        journal.crash_after(kill_at)
        with pytest.raises(ProcessKilledError):
            await session(path, journal)
        journal.revive()

        broker, oms, report = await session(path, journal)

        await check_books(broker, oms, journal)
        resolved |= {difference.kind for difference in report.differences}
        broker.close()
    for order_number in range(sum(len(orders) for orders in PLAN.values())):
        path = tmp_path / f"died-before-{order_number}.db"
        journal = InMemoryOrderJournal()
        with pytest.raises(ProcessKilledError):
            await session(path, journal, die_before_submit=order_number)

        broker, oms, report = await session(path, journal)

        await check_books(broker, oms, journal)
        assert [d.kind for d in report.differences][:1] == [DifferenceKind.ORDER_NEVER_SENT]
        resolved |= {difference.kind for difference in report.differences}
        broker.close()
    # The kills hit every window: before an order reached the broker, after a fill the
    # journal missed, after an acceptance the journal missed.
    assert {
        DifferenceKind.ORDER_NEVER_SENT,
        DifferenceKind.FILL_RECORDED,
        DifferenceKind.STATUS_ADOPTED,
    } <= resolved
