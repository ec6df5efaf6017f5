"""FaultyBroker: planned timeouts, rate limits and garbled answers, before or after the call."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fakes import FakeClock, InMemoryOrderJournal, buy, daily_bar
from orchestrade.brokers.paper import FaultyBroker, PaperSettings
from orchestrade.domain import OrderId, OrderStatus
from orchestrade.execution import (
    BrokerDataError,
    BrokerRateLimitedError,
    BrokerTimeoutError,
    ErrorClass,
    OrderManager,
)

from .conftest import PaperFactory

pytestmark = pytest.mark.anyio


async def test_a_fault_before_the_call_means_the_broker_never_got_the_order(
    open_paper: PaperFactory,
) -> None:
    paper = open_paper()
    broker = FaultyBroker(paper)
    broker.fail("submit", BrokerTimeoutError("no answer in 3 s"))

    with pytest.raises(BrokerTimeoutError) as raised:
        await broker.submit(buy("o1"))

    assert raised.value.error_class is ErrorClass.NETWORK
    assert paper.received(OrderId("o1")) == 0
    assert (await broker.submit(buy("o1"))).status is OrderStatus.ACCEPTED
    assert broker.calls["submit"] == 2


async def test_a_fault_after_the_call_loses_only_the_answer(open_paper: PaperFactory) -> None:
    paper = open_paper()
    broker = FaultyBroker(paper)
    broker.fail("submit", BrokerRateLimitedError("429"), after_call=True)

    with pytest.raises(BrokerRateLimitedError):
        await broker.submit(buy("o1"))

    assert paper.received(OrderId("o1")) == 1
    assert broker.pending("submit") == 0


async def test_faults_can_wait_for_some_calls_and_repeat(open_paper: PaperFactory) -> None:
    broker = FaultyBroker(open_paper())
    broker.fail("open_orders", BrokerDataError("missing field ord_no"), times=2, skip=1)

    assert await broker.open_orders() == []
    with pytest.raises(BrokerDataError):
        await broker.open_orders()
    with pytest.raises(BrokerDataError):
        await broker.open_orders()
    assert await broker.open_orders() == []


async def test_the_oms_survives_a_lost_answer_and_reconciles_to_the_broker(
    open_paper: PaperFactory,
) -> None:
    paper = open_paper(PaperSettings())
    await paper.begin_bar(daily_bar(1, 100))
    broker = FaultyBroker(paper)
    journal = InMemoryOrderJournal()
    oms = OrderManager(broker, journal, clock=FakeClock())
    await oms.start()
    broker.fail("submit", BrokerTimeoutError("answer lost"), after_call=True)

    with pytest.raises(BrokerTimeoutError):
        await oms.submit(buy("o1", 10))
    report = await oms.reconcile()

    # The fill reached the OMS by the update stream before the answer was lost.
    assert report.is_clean
    order = oms.order(OrderId("o1"))
    assert order is not None
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, Decimal(10))
    assert paper.received(OrderId("o1")) == 1
