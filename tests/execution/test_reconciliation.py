"""Reconciliation: each kind of disagreement between journal and broker, and its resolution."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fakes import T0, FakeClock, InMemoryOrderJournal, ScriptedBroker, buy, sell
from orchestrade.domain import FillId, Order, OrderId, OrderStatus, Symbol
from orchestrade.execution import (
    NEVER_SENT_REASON,
    BrokerTimeoutError,
    DifferenceKind,
    OrderManager,
    reconcile,
)

pytestmark = pytest.mark.anyio

D = Decimal
S = OrderStatus
K = DifferenceKind
SAMSUNG = Symbol("005930")


def accepted(order: Order) -> Order:
    return order.with_status(S.SUBMITTED).with_status(S.ACCEPTED)


async def test_agreeing_journal_and_broker_give_a_clean_report() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    oms = OrderManager(broker, journal, clock=FakeClock())
    await oms.start()
    await oms.submit(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(10), D(100))

    report = await reconcile(journal, broker, at=T0)

    assert report.is_clean
    assert report.fills_checked == 1
    assert report.describe().startswith("reconciliation with scripted at 2024-01-02T00:00:00")


async def test_an_order_the_journal_lost_is_adopted_with_its_fills() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker()
    broker.orders[OrderId("lost")] = accepted(buy("lost", 10))
    await broker.fill(OrderId("lost"), D(4), D(100), emit=False)

    report = await reconcile(journal, broker, at=T0)

    assert [d.kind for d in report.differences] == [K.ORDER_ADOPTED, K.FILL_RECORDED]
    order = journal.get_order(OrderId("lost"))
    assert order is not None
    assert order.status is S.PARTIALLY_FILLED
    assert order.filled_quantity == D(4)
    assert journal.statuses(OrderId("lost")) == [S.ACCEPTED, S.PARTIALLY_FILLED]
    assert broker.submitted == []


async def test_a_submitted_order_the_broker_never_received_is_rejected_not_resent() -> None:
    journal = InMemoryOrderJournal()
    journal.record_order(buy("o1").with_status(S.SUBMITTED), at=T0, reason="sent")
    broker = ScriptedBroker()

    report = await reconcile(journal, broker, at=T0)

    (difference,) = report.differences
    assert difference.kind is K.ORDER_NEVER_SENT
    assert difference.resolution == "marked rejected"
    assert journal.get_order(OrderId("o1")).status is S.REJECTED  # type: ignore[union-attr]
    assert journal.events[-1].reason == NEVER_SENT_REASON
    assert broker.submitted == []


async def test_an_accepted_order_the_broker_does_not_know_expires() -> None:
    journal = InMemoryOrderJournal()
    journal.record_order(accepted(buy("o1")), at=T0, reason="accepted")

    report = await reconcile(journal, ScriptedBroker(), at=T0)

    assert [d.kind for d in report.differences] == [K.ORDER_UNKNOWN_TO_BROKER]
    assert journal.get_order(OrderId("o1")).status is S.EXPIRED  # type: ignore[union-attr]


async def test_a_status_the_broker_changed_is_adopted() -> None:
    journal = InMemoryOrderJournal()
    journal.record_order(accepted(buy("o1")), at=T0)
    broker = ScriptedBroker()
    broker.orders[OrderId("o1")] = accepted(buy("o1")).with_status(S.CANCELLED)

    report = await reconcile(journal, broker, at=T0)

    (difference,) = report.differences
    assert (difference.kind, difference.journal, difference.broker) == (
        K.STATUS_ADOPTED,
        "accepted",
        "cancelled",
    )
    assert journal.get_order(OrderId("o1")).status is S.CANCELLED  # type: ignore[union-attr]


async def test_a_status_the_state_machine_cannot_reach_is_reported_and_kept() -> None:
    journal = InMemoryOrderJournal()
    order = accepted(buy("o1", 10)).with_status(S.CANCEL_REQUESTED)
    journal.record_order(order, at=T0)
    broker = ScriptedBroker()
    # The broker says SUBMITTED (it never confirmed), which CANCEL_REQUESTED cannot go back to.
    broker.orders[OrderId("o1")] = buy("o1", 10).with_status(S.SUBMITTED)

    report = await reconcile(journal, broker, at=T0)

    assert [d.kind for d in report.differences] == [K.STATUS_CONFLICT]
    assert journal.get_order(OrderId("o1")).status is S.CANCEL_REQUESTED  # type: ignore[union-attr]


async def test_fills_the_journal_missed_are_recorded_in_broker_order() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    oms = OrderManager(broker, journal, clock=FakeClock())
    await oms.start()
    await oms.submit(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(6), D(100), emit=False)
    await broker.fill(OrderId("o1"), D(4), D(105), emit=False)

    report = await reconcile(journal, broker, at=T0)

    assert [(d.kind, d.subject) for d in report.differences] == [
        (K.FILL_RECORDED, "o1-1"),
        (K.FILL_RECORDED, "o1-2"),
    ]
    assert [f.fill_id for f in journal.fills()] == [FillId("o1-1"), FillId("o1-2")]
    order = journal.get_order(OrderId("o1"))
    assert order is not None
    assert order.status is S.FILLED
    assert order.average_fill_price == D(102)  # (6 x 100 + 4 x 105) / 10


async def test_a_fill_of_an_order_the_journal_thinks_cancelled_is_recorded_anyway() -> None:
    journal = InMemoryOrderJournal()
    journal.record_order(accepted(buy("o1", 10)).with_status(S.CANCELLED), at=T0)
    broker = ScriptedBroker()
    broker.orders[OrderId("o1")] = accepted(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(4), D(100), emit=False)
    broker.orders[OrderId("o1")] = broker.orders[OrderId("o1")].with_status(S.CANCELLED)

    report = await reconcile(journal, broker, at=T0)

    assert [d.kind for d in report.differences] == [K.FILL_CONFLICT]
    assert "recorded against the state machine" in report.differences[0].resolution
    order = journal.get_order(OrderId("o1"))
    assert order is not None
    assert (order.status, order.filled_quantity) == (S.CANCELLED, D(4))
    assert report.of_kind(K.POSITION_MISMATCH) == ()


async def test_positions_no_fill_explains_are_reported_and_left_alone() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker()
    broker.held[SAMSUNG] = D(7)

    report = await reconcile(journal, broker, at=T0)

    (difference,) = report.differences
    assert (difference.kind, difference.subject, difference.journal, difference.broker) == (
        K.POSITION_MISMATCH,
        "005930",
        "0",
        "7",
    )
    assert journal.fills() == []


async def test_an_order_lost_in_a_timeout_before_the_broker_is_rejected_at_restart() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    broker.submit_error = BrokerTimeoutError("connection reset")
    oms = OrderManager(broker, journal, clock=FakeClock())
    await oms.start()
    with pytest.raises(BrokerTimeoutError):
        await oms.submit(buy("o1", 10))

    restarted = OrderManager(broker, journal, clock=FakeClock())
    report = await restarted.start()

    assert report is not None
    assert [d.kind for d in report.differences] == [K.ORDER_NEVER_SENT]
    assert restarted.order(OrderId("o1")).status is S.REJECTED  # type: ignore[union-attr]
    assert restarted.open_orders() == []


async def test_an_order_whose_answer_was_lost_is_adopted_with_its_fill_at_restart() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    broker.fill_on_submit = D(100)
    broker.submit_error = BrokerTimeoutError("answer lost")
    broker.submit_error_after_call = True
    oms = OrderManager(broker, journal, clock=FakeClock())
    await oms.start()
    with pytest.raises(BrokerTimeoutError):
        await oms.submit(buy("o1", 10))
    # The updates reached the OMS before the answer was lost: journal already has the fill.
    assert journal.get_order(OrderId("o1")).status is S.FILLED  # type: ignore[union-attr]

    restarted = OrderManager(broker, journal, clock=FakeClock())
    report = await restarted.start()

    assert report is not None
    assert report.is_clean
    assert restarted.position(SAMSUNG).quantity == D(10)
    assert len(broker.submitted) == 1


async def test_a_crash_between_journal_and_broker_never_sends_an_order_twice() -> None:
    journal = InMemoryOrderJournal()
    broker = ScriptedBroker(journal)
    oms = OrderManager(broker, journal, clock=FakeClock())
    await oms.start()
    await oms.submit(buy("o1", 10))
    await broker.fill(OrderId("o1"), D(10), D(100), emit=False)  # the OMS died here

    restarted = OrderManager(broker, journal, clock=FakeClock())
    report = await restarted.start()
    again = await restarted.submit(buy("o1", 10))
    await restarted.submit(sell("o2", 10))

    assert report is not None
    assert [d.kind for d in report.differences] == [K.FILL_RECORDED]
    assert again.status is S.FILLED
    assert [o.order_id for o in broker.submitted] == ["o1", "o2"]
    assert restarted.position(SAMSUNG).quantity == D(10)
