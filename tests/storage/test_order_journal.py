"""SqlOrderJournal: the OMS's write-ahead store, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from orchestrade.domain import (
    BrokerOrderId,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    ValidationError,
)
from orchestrade.execution.ports import OrderJournal
from orchestrade.storage import (
    AuditLog,
    OrderEvent,
    OrderIdConflictError,
    SqlOrderJournal,
    Store,
    open_store,
)
from orchestrade.storage.audit import fill_entry, order_entry
from orchestrade.storage.orders import FILLS, ORDERS

from .trading import T0, accepted, at, fill_of, limit_buy


@pytest.fixture
def journal(store: Store) -> SqlOrderJournal:
    return SqlOrderJournal(store)


def test_it_satisfies_the_oms_port(store: Store) -> None:
    port: OrderJournal = SqlOrderJournal(store)

    assert port.open_orders() == []


def test_a_recorded_order_reads_back_with_every_field(journal: SqlOrderJournal) -> None:
    order = limit_buy(
        order_type=OrderType.STOP_LIMIT,
        stop_price=Decimal("70500"),
        time_in_force=TimeInForce.GTC,
        broker_order_id=BrokerOrderId("KIS-0001"),
        status=OrderStatus.SUBMITTED,
    )

    journal.record_order(order, at=at(1), reason="sent to kis")

    assert journal.get_order(order.order_id) == order
    assert journal.get_order(OrderId("never-recorded")) is None


def test_each_record_updates_the_order_and_appends_an_event(journal: SqlOrderJournal) -> None:
    new = limit_buy()
    submitted = new.with_status(OrderStatus.SUBMITTED)
    cancelled = submitted.with_status(OrderStatus.CANCELLED)

    journal.record_order(new, at=at(0))
    journal.record_order(submitted, at=at(1), reason="routed")
    journal.record_order(cancelled, at=at(2), reason="user cancelled")

    assert journal.get_order(new.order_id) == cancelled
    assert journal.order_events(new.order_id) == [
        OrderEvent(new.order_id, at(0), OrderStatus.NEW, "", Decimal(0), None),
        OrderEvent(new.order_id, at(1), OrderStatus.SUBMITTED, "routed", Decimal(0), None),
        OrderEvent(new.order_id, at(2), OrderStatus.CANCELLED, "user cancelled", Decimal(0), None),
    ]


def test_fills_update_the_order_and_average_price(journal: SqlOrderJournal) -> None:
    order = accepted(limit_buy())
    journal.record_order(order, at=at(0))
    first = fill_of(order, "f-1", "4", "71000.5", seconds=1)
    partly = order.with_fill(first)
    second = fill_of(order, "f-2", "6", "70999.25", seconds=2)
    filled = partly.with_fill(second)

    assert journal.record_fill(first, partly, at=at(1)) is True
    assert journal.record_fill(second, filled, at=at(2)) is True

    stored = journal.get_order(order.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.FILLED
    assert stored.filled_quantity == Decimal(10)
    # (4 x 71000.5 + 6 x 70999.25) / 10 = (284002 + 425995.5) / 10 = 70999.75
    assert stored.average_fill_price == Decimal("70999.75")
    assert journal.fills() == [first, second]
    assert journal.fills(order.order_id) == [first, second]
    assert journal.fills(OrderId("other")) == []
    assert [event.reason for event in journal.order_events(order.order_id)] == [
        "",
        "fill f-1",
        "fill f-2",
    ]


def test_a_fill_reported_twice_is_recorded_once_and_changes_nothing(
    journal: SqlOrderJournal, store: Store
) -> None:
    order = accepted(limit_buy())
    journal.record_order(order, at=at(0))
    fill = fill_of(order, "f-1", "4", "71000.5")
    after = order.with_fill(fill)
    journal.record_fill(fill, after, at=at(1))

    again = journal.record_fill(fill, after.with_status(OrderStatus.CANCEL_REQUESTED), at=at(5))

    assert again is False
    assert journal.fills() == [fill]
    assert journal.get_order(order.order_id) == after
    assert len(journal.order_events(order.order_id)) == 2
    assert [r.entry.kind for r in AuditLog(store).query().records] == ["order.accepted", "fill"]


def test_open_orders_exclude_every_terminal_status(journal: SqlOrderJournal) -> None:
    partial = accepted(limit_buy("o-partial"))
    partial = partial.with_fill(fill_of(partial, "f-p", "3", "71000"))
    filled = accepted(limit_buy("o-filled"))
    filled = filled.with_fill(fill_of(filled, "f-f", "10", "71000"))
    orders = [
        limit_buy("o-new"),
        limit_buy("o-submitted").with_status(OrderStatus.SUBMITTED),
        accepted(limit_buy("o-accepted")),
        partial,
        accepted(limit_buy("o-cancel-requested")).with_status(OrderStatus.CANCEL_REQUESTED),
        filled,
        accepted(limit_buy("o-cancelled")).with_status(OrderStatus.CANCELLED),
        limit_buy("o-rejected").with_status(OrderStatus.REJECTED),
        accepted(limit_buy("o-expired")).with_status(OrderStatus.EXPIRED),
    ]
    for order in orders:
        journal.record_order(order, at=at(0))

    open_orders = journal.open_orders()

    assert [order.order_id for order in open_orders] == [
        "o-accepted",
        "o-cancel-requested",
        "o-new",
        "o-partial",
        "o-submitted",
    ]
    assert all(not order.is_terminal for order in open_orders)


def test_order_ids_hold_every_recorded_order_of_every_bot(store: Store) -> None:
    journal = SqlOrderJournal(store, bot_ids=["bot-a"])
    journal.record_order(limit_buy("o-a", bot_id="bot-a"), at=at(0))
    done = accepted(limit_buy("o-b", bot_id="bot-b")).with_status(OrderStatus.CANCELLED)
    journal.record_order(done, at=at(1))

    # Unscoped, like get_order: the OMS must never take another bot's id for a new one.
    assert journal.order_ids() == {"o-a", "o-b"}


def test_decimals_round_trip_digit_for_digit(journal: SqlOrderJournal) -> None:
    order = limit_buy(
        symbol=Symbol("BTCUSDT"),
        quantity=Decimal("0.00012345"),
        limit_price=Decimal("12345678901234567890.123456789"),
    )
    order = accepted(order)
    journal.record_order(order, at=at(0))
    first = fill_of(order, "f-1", "0.00000001", "0.1")
    after_first = order.with_fill(first)
    second = fill_of(order, "f-2", "0.00000002", "0.2")
    after_second = after_first.with_fill(second)

    journal.record_fill(first, after_first, at=at(1))
    journal.record_fill(second, after_second, at=at(2))

    stored = journal.get_order(order.order_id)
    assert stored is not None
    # (0.00000001 x 0.1 + 0.00000002 x 0.2) / 0.00000003 = 0.5 / 3, 28 significant digits
    assert after_second.average_fill_price == Decimal("0.1666666666666666666666666667")
    assert str(stored.average_fill_price) == str(after_second.average_fill_price)
    assert str(stored.limit_price) == "12345678901234567890.123456789"
    assert str(stored.quantity) == "0.00012345"
    assert [str(fill.quantity) for fill in journal.fills()] == ["1E-8", "2E-8"]
    assert [str(fill.fee) for fill in journal.fills()] == ["10.65", "10.65"]


def test_a_fill_of_an_order_not_yet_recorded_records_the_order_too(
    journal: SqlOrderJournal,
) -> None:
    adopted = accepted(limit_buy("o-adopted"))
    fill = fill_of(adopted, "f-1", "10", "71000")

    assert journal.record_fill(fill, adopted.with_fill(fill), at=at(1)) is True

    assert journal.get_order(OrderId("o-adopted")) == adopted.with_fill(fill)
    assert journal.fills() == [fill]


def test_a_fill_of_another_order_is_refused_before_anything_is_written(
    journal: SqlOrderJournal,
) -> None:
    order = accepted(limit_buy("o-1"))
    other = accepted(limit_buy("o-2"))
    fill = fill_of(other, "f-1", "1", "71000")

    with pytest.raises(ValidationError, match="fill f-1 is for order o-2, not o-1"):
        journal.record_fill(fill, order, at=at(1))

    assert journal.fills() == []
    assert journal.get_order(OrderId("o-1")) is None


def test_reusing_an_order_id_for_another_symbol_is_refused(journal: SqlOrderJournal) -> None:
    original = limit_buy("o-1")
    journal.record_order(original, at=at(0))
    clash = limit_buy("o-1", symbol=Symbol("000660"))

    with pytest.raises(OrderIdConflictError, match="o-1 is already recorded"):
        journal.record_order(clash, at=at(1))

    assert journal.get_order(OrderId("o-1")) == original
    assert len(journal.order_events(OrderId("o-1"))) == 1


def test_writes_are_durable_across_a_reopen(database_url: str) -> None:
    order = accepted(limit_buy())
    fill = fill_of(order, "f-1", "4", "71000.5")
    with open_store(database_url) as store:
        journal = SqlOrderJournal(store)
        journal.record_order(order, at=at(0))
        journal.record_fill(fill, order.with_fill(fill), at=at(1))

    with open_store(database_url) as reopened:
        journal = SqlOrderJournal(reopened)
        assert journal.get_order(order.order_id) == order.with_fill(fill)
        assert journal.fills() == [fill]
        assert journal.open_orders() == [order.with_fill(fill)]


def test_the_same_fill_from_two_sessions_at_once_is_stored_once(database_url: str) -> None:
    order = accepted(limit_buy(quantity=Decimal(100)))
    fills = [fill_of(order, f"f-{i}", "1", "71000") for i in range(12)]
    with open_store(database_url) as first, open_store(database_url) as second:
        SqlOrderJournal(first).record_order(order, at=at(0))
        journals = [SqlOrderJournal(first), SqlOrderJournal(second)]
        barrier = threading.Barrier(2)

        def report_all(journal: SqlOrderJournal) -> list[bool]:
            results = []
            for fill in fills:
                barrier.wait(timeout=30)
                results.append(journal.record_fill(fill, order.with_fill(fill), at=at(1)))
            return results

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(report_all, journals))

        with first.engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(FILLS)).scalar_one()
            orders = connection.execute(select(func.count()).select_from(ORDERS)).scalar_one()

    assert [a + b for a, b in zip(*outcomes, strict=True)] == [1] * len(fills)
    assert (rows, orders) == (len(fills), 1)


def test_times_come_back_as_aware_utc(journal: SqlOrderJournal) -> None:
    order = limit_buy()
    journal.record_order(order, at=at(0))

    stored = journal.get_order(order.order_id)

    assert stored is not None
    assert stored.created_at == T0
    assert stored.created_at.utcoffset() is not None
    assert journal.order_events(order.order_id)[0].at == T0
    assert stored.side is Side.BUY


def test_its_audit_lines_are_exactly_the_audit_module_entries(
    journal: SqlOrderJournal, store: Store
) -> None:
    # The journal builds its audit rows itself (the hot path); they must read back as the
    # entries `order_entry` and `fill_entry` describe, payload included.
    new = limit_buy(stop_price=None)
    live = accepted(new)
    fill = fill_of(live, "f-1", "4", "71000.25")
    partly = live.with_fill(fill)
    market = limit_buy("o-market", order_type=OrderType.MARKET, limit_price=None, bot_id=None)
    market_fill = fill_of(accepted(market), "f-2", "10", "70500")
    market_filled = accepted(market).with_fill(market_fill)
    journal.record_order(new, at=at(0), reason="sized from signal")
    journal.record_order(live, at=at(1))
    journal.record_fill(fill, partly, at=at(2))
    journal.record_order(market, at=at(3), reason="market")
    journal.record_fill(market_fill, market_filled, at=at(4))

    entries = [record.entry for record in AuditLog(store).query().records]

    assert entries == [
        order_entry(new, at=at(0), reason="sized from signal"),
        order_entry(live, at=at(1)),
        fill_entry(fill, partly, at=at(2)),
        order_entry(market, at=at(3), reason="market"),
        fill_entry(market_fill, market_filled, at=at(4)),
    ]
    # A market order has no limit: its line's price is the average fill price, or none.
    assert (entries[3].price, entries[4].price) == (None, Decimal(70500))


# -- group commit --------------------------------------------------------------------------------


def test_a_batch_commits_its_writes_together_and_reads_see_them(journal: SqlOrderJournal) -> None:
    order = accepted(limit_buy())
    fill = fill_of(order, "f-1", "10", "71000")

    with journal.batch():
        journal.record_orders([limit_buy("o-2"), limit_buy("o-3")], at=at(0))
        journal.record_order(order, at=at(1), reason="accepted")
        assert journal.get_order(order.order_id) == order  # inside: the block's own write
        assert journal.record_fill(fill, order.with_fill(fill), at=at(2)) is True

    assert journal.fills() == [fill]
    assert [o.order_id for o in journal.open_orders()] == ["o-2", "o-3"]


def test_a_batch_that_fails_keeps_none_of_its_writes(journal: SqlOrderJournal) -> None:
    order = accepted(limit_buy())
    journal.record_order(order, at=at(0))
    fill = fill_of(order, "f-1", "10", "71000")

    def interrupted() -> None:
        with journal.batch():
            journal.record_fill(fill, order.with_fill(fill), at=at(1))
            journal.record_order(limit_buy("o-9"), at=at(1))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        interrupted()

    assert journal.fills() == []
    assert journal.get_order(OrderId("o-9")) is None
    assert journal.get_order(order.order_id) == order
