"""The paper broker keeps its books in its own file and resumes exactly after a restart."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from fakes import FakeClock, buy, daily_bar, sell
from orchestrade.brokers.paper import (
    MarketPhase,
    PaperAccountMismatchError,
    PaperBroker,
    PaperSettings,
    PaperStoreError,
    SymbolRules,
)
from orchestrade.brokers.paper.store import Changes, OrderRecord, PaperStore
from orchestrade.domain import Fill, FillId, Market, OrderId, OrderStatus, Symbol, TimeInForce

from .conftest import PaperFactory

pytestmark = pytest.mark.anyio

D = Decimal
SAMSUNG = Symbol("005930")
HYNIX = Symbol("000660")
SETTINGS = PaperSettings(
    commission=0.00015,
    slippage_bps=5,
    slippage_range=0.05,
    participation=0.01,
    default_rules=SymbolRules.for_market(Market.KRX),
)
# Closes climb so that the band (30% of the previous close) matters on day 4's gap.
BARS = [
    daily_bar(0, 10_000, 10_100, 9_900, 10_000, volume=1_000),
    daily_bar(1, 10_050, 10_300, 9_950, 10_200, volume=1_500),
    daily_bar(2, 10_250, 10_400, 9_700, 9_800, volume=800),
    daily_bar(3, 9_800, 12_000, 9_800, 11_900, volume=2_000),
    daily_bar(4, 15_400, 15_500, 14_000, 15_000, volume=3_000),
    daily_bar(5, 15_100, 15_600, 14_900, 15_500, volume=3_000),
    daily_bar(6, 15_500, 15_800, 15_000, 15_200, volume=5_000),
]
ORDERS = {
    0: [buy("b1", 25, tif=TimeInForce.GTC)],
    2: [buy("b2", 10, limit=9_750, tif=TimeInForce.GTC)],
    # b3 gaps above the band on day 4 (ceiling 11,900 x 1.3 = 15,470) and fills on day 5.
    3: [sell("s1", 12, stop=14_000, tif=TimeInForce.GTC), buy("b3", 5, tif=TimeInForce.GTC)],
}


async def run(broker_for_day: dict[int, PaperBroker] | None, make: PaperFactory) -> list[Fill]:
    """Trade BARS, submitting ORDERS after each bar; with `broker_for_day`, a new broker is
    opened on the same file after every bar (the old one abandoned as if killed), and the
    bars are fed again from the first one, as a restarted runtime would."""
    broker = make(SETTINGS)
    for day, _bar in enumerate(BARS):
        if broker_for_day is not None and day > 0:
            broker = make(SETTINGS)
            broker_for_day[day] = broker
            for earlier in BARS[:day]:
                await broker.begin_bar(earlier)
                await broker.trade_bar(earlier)
        await broker.begin_bar(BARS[day])
        await broker.trade_bar(BARS[day])
        for order in ORDERS.get(day, []):
            await broker.submit(order)
    return list(await broker.fills())


async def test_a_broker_reopened_after_every_bar_trades_exactly_like_an_uninterrupted_one(
    open_paper: PaperFactory, tmp_path: Path
) -> None:
    def elsewhere(settings: PaperSettings) -> PaperBroker:
        return open_paper(settings, path=tmp_path / "other.db")

    uninterrupted = await run(None, elsewhere)
    restarted = await run({}, open_paper)

    assert restarted == uninterrupted
    # b1 needs 3 bars under the 1% cap: 15 of 1,500, 8 of 800, the last 2 of 20 allowed,
    # at open + 5 bps + 5% of the range, rounded up to the 10-won grid:
    # 10,050 + 5.025 + 17.5 -> 10,080; 10,250 + 5.125 + 35 -> 10,300; 9,800 + 4.9 + 110
    # -> 9,920. s1's stop: 14,000 - (7 + 75) = 13,918 -> 13,910. b3 (refused on day 4 at
    # 15,490 > 15,470): 15,100 + 7.55 + 35 -> 15,150.
    assert [(f.fill_id, f.filled_at.day, f.quantity, f.price) for f in uninterrupted] == [
        ("b1-1", 3, D(15), D(10_080)),
        ("b1-2", 4, D(8), D(10_300)),
        ("b1-3", 5, D(2), D(9_920)),
        ("s1-1", 6, D(12), D(13_910)),
        ("b3-1", 7, D(5), D(15_150)),
    ]


async def test_a_reopened_broker_holds_the_same_orders_fills_account_and_market(
    open_paper: PaperFactory,
) -> None:
    first = open_paper(SETTINGS)
    for day, bar in enumerate(BARS[:4]):
        await first.trade_bar(bar)
        for order in ORDERS.get(day, []):
            await first.submit(order)
    await first.submit(buy("b1", 25))  # a duplicate: counted, not taken
    first.close()

    second = open_paper(SETTINGS)

    assert second.orders() == first.orders()
    assert await second.fills() == await first.fills()
    assert await second.account() == await first.account()
    assert second.submissions() == {"b1": 2, "b2": 1, "s1": 1, "b3": 1}
    assert second.market(SAMSUNG) == first.market(SAMSUNG)
    assert second.equity() == first.equity()


async def test_a_bar_that_changes_no_order_is_written_with_the_next_commit_or_flush(
    open_paper: PaperFactory, paper_path: Path
) -> None:
    broker = open_paper()
    await broker.trade_bar(daily_bar(0, 100))
    assert open_paper(path=paper_path).market(SAMSUNG) is None

    broker.flush()
    reopened = open_paper(path=paper_path).market(SAMSUNG)

    assert reopened is not None
    assert (reopened.bar, reopened.phase) == (daily_bar(0, 100), MarketPhase.TRADED)


async def test_a_submit_commits_the_market_state_with_the_order(
    open_paper: PaperFactory, paper_path: Path
) -> None:
    broker = open_paper()
    await broker.trade_bar(daily_bar(0, 100))
    await broker.trade_bar(daily_bar(1, 110))

    await broker.submit(buy("b", 1))
    reopened = open_paper(path=paper_path)

    market = reopened.market(SAMSUNG)
    assert market is not None
    assert (market.bar.close, market.previous_close) == (D(110), D(100))
    assert reopened.received(OrderId("b")) == 1


async def test_a_commit_writes_the_markets_of_its_own_symbols_only(
    open_paper: PaperFactory, paper_path: Path
) -> None:
    broker = open_paper()
    for day in (0, 1):
        await broker.trade_bars([daily_bar(day, 100 + day), daily_bar(day, 50, symbol=HYNIX)])

    await broker.submit(buy("b", 1))  # Samsung's order: Samsung's market goes with it
    reopened = open_paper(path=paper_path)

    samsung = reopened.market(SAMSUNG)
    assert samsung is not None
    assert samsung.bar.close == D(101)
    assert reopened.market(HYNIX) is None  # untouched: in memory until flush
    broker.flush()
    assert open_paper(path=paper_path).market(HYNIX) == broker.market(HYNIX)


async def test_symbols_without_orders_replay_their_lost_bars_exactly_after_a_kill(
    open_paper: PaperFactory, tmp_path: Path
) -> None:
    # Two symbols, orders on one only: after each day a new broker is opened on the file
    # (the old one abandoned as if killed) and every bar is fed again, as a restarted
    # runtime does. Hynix's market is written only by flush; Samsung's with its orders.
    days = [
        [bar, daily_bar(day, 20_000 + 300 * day, symbol=HYNIX, volume=4_000)]
        for day, bar in enumerate(BARS)
    ]

    async def trade(restart: bool, path: Path) -> PaperBroker:
        broker = open_paper(SETTINGS, path=path)
        for day, bars in enumerate(days):
            if restart and day > 0:
                broker = open_paper(SETTINGS, path=path)
                for earlier in days[:day]:
                    await broker.begin_bars(earlier)
                    await broker.trade_bars(earlier)
            await broker.begin_bars(bars)
            await broker.trade_bars(bars)
            for order in ORDERS.get(day, []):
                await broker.submit(order)
        return broker

    uninterrupted = await trade(False, tmp_path / "one.db")
    restarted = await trade(True, tmp_path / "other.db")

    assert await restarted.fills() == await uninterrupted.fills()
    assert restarted.orders() == uninterrupted.orders()
    for symbol in (SAMSUNG, HYNIX):
        assert restarted.market(symbol) == uninterrupted.market(symbol)
    restarted.close()
    reopened = open_paper(SETTINGS, path=tmp_path / "other.db")
    assert reopened.market(HYNIX) == uninterrupted.market(HYNIX)
    assert len(await reopened.fills()) == 5


def test_a_file_of_another_account_is_refused(open_paper: PaperFactory, paper_path: Path) -> None:
    open_paper(cash=D(1_000_000))

    with pytest.raises(PaperAccountMismatchError, match="holds 1000000 KRW, not 2000000 KRW"):
        PaperBroker.open(paper_path, PaperSettings(), cash=D(2_000_000), clock=FakeClock())


def test_the_state_file_is_separate_and_in_wal_mode(
    paper_path: Path, open_paper: PaperFactory
) -> None:
    open_paper()

    with sqlite3.connect(paper_path) as connection:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert mode == "wal"
    assert {"paper_account", "paper_orders", "paper_fills", "paper_markets"} <= tables


def test_a_write_that_fails_keeps_nothing_of_the_call_and_the_file_stays_usable(
    paper_path: Path,
) -> None:
    store = PaperStore.open(paper_path)
    try:
        accepted = (
            buy("b1", 10).with_status(OrderStatus.SUBMITTED).with_status(OrderStatus.ACCEPTED)
        )
        fill = Fill(
            fill_id=FillId("b1-1"),
            order_id=accepted.order_id,
            symbol=accepted.symbol,
            side=accepted.side,
            quantity=D(4),
            price=D(100),
            filled_at=accepted.created_at,
        )
        partly = accepted.with_fill(fill)
        store.write(Changes(orders={partly.order_id: OrderRecord(partly, 1, 1)}, fills=[fill]))
        cancelled = partly.with_status(OrderStatus.CANCELLED)

        # The same fill id again breaks the file's unique key: the order's change in the
        # same transaction must not be kept either.
        with pytest.raises(PaperStoreError, match="not written: UNIQUE constraint failed"):
            store.write(
                Changes(orders={partly.order_id: OrderRecord(cancelled, 1, 1)}, fills=[fill])
            )

        assert [record.order for record in store.load().orders] == [partly]
        store.write(Changes(orders={partly.order_id: OrderRecord(cancelled, 1, 1)}))
        assert [record.order for record in store.load().orders] == [cancelled]
    finally:
        store.close()
