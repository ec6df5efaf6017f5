"""ExecutionAgent: order commands through the OMS (journal first, then the broker), the OMS's
events on the bus, recorded fills republished for an order it already has, and the
simulated market's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from agents.support import Recorder
from fakes import (
    DAY0,
    FakeClock,
    InMemoryOrderJournal,
    ScriptedBroker,
    buy,
    daily_bar,
    sell,
)
from orchestrade.agents.execution import ExecutionAgent
from orchestrade.brokers.paper import PaperBroker, PaperSettings
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    BarsOpened,
    BarsTraded,
    CancelOrder,
    Fill,
    Message,
    OrderCancelled,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderSubmitted,
    PositionChanged,
    SubmitOrder,
    SubmitOrders,
    TimeInForce,
)
from orchestrade.execution import BrokerTimeoutError, OrderManager
from orchestrade.execution.reconciliation import NEVER_SENT_REASON

pytestmark = pytest.mark.anyio

D = Decimal


class Events:
    """The OMS events the agent published, in publishing order per type."""

    def __init__(self) -> None:
        kinds: tuple[type, ...] = (OrderSubmitted, OrderFilled, OrderCancelled, PositionChanged)
        self.recorders: dict[type, Recorder] = {kind: Recorder() for kind in kinds}

    def of(self, kind: type) -> list[Message]:
        return self.recorders[kind].payloads

    @property
    def fills(self) -> list[Fill]:
        return [event.fill for event in self.of(OrderFilled) if isinstance(event, OrderFilled)]

    @property
    def submitted(self) -> list[OrderId]:
        return [e.order.order_id for e in self.of(OrderSubmitted) if isinstance(e, OrderSubmitted)]


@pytest.fixture
async def events(bus: InMemoryBus) -> Events:
    box = Events()
    for kind, recorder in box.recorders.items():
        await bus.subscribe(kind, recorder)
    return box


@pytest.fixture
def journal() -> InMemoryOrderJournal:
    return InMemoryOrderJournal()


@pytest.fixture
def broker(journal: InMemoryOrderJournal) -> ScriptedBroker:
    return ScriptedBroker(journal)


async def start_execution(
    bus: InMemoryBus,
    oms: OrderManager,
    *,
    market: PaperBroker | None = None,
    never_sent: Callable[[OrderId], bool] = lambda _order_id: False,
) -> AsyncIterator[ExecutionAgent]:
    agent = ExecutionAgent(
        bus, oms, market=market, never_sent=never_sent, heartbeat_interval_s=3600
    )
    await oms.start()
    await agent.start()
    try:
        yield agent
    finally:
        await agent.stop()


@pytest.fixture
async def execution(
    bus: InMemoryBus, broker: ScriptedBroker, journal: InMemoryOrderJournal
) -> AsyncIterator[ExecutionAgent]:
    async for agent in start_execution(bus, OrderManager(broker, journal, clock=FakeClock())):
        yield agent


async def send(bus: InMemoryBus, *messages: Message) -> None:
    for message in messages:
        await bus.publish(message)
        await bus.wait_idle()


# -- submit ------------------------------------------------------------------------------------


async def test_a_submitted_order_is_journaled_before_it_reaches_the_broker(
    bus: InMemoryBus,
    execution: ExecutionAgent,
    broker: ScriptedBroker,
    journal: InMemoryOrderJournal,
    events: Events,
) -> None:
    order = buy("o1", 10)

    await send(bus, SubmitOrder(order))

    (sent,) = broker.submitted
    assert (sent.order_id, sent.status) == (order.order_id, OrderStatus.SUBMITTED)
    (journaled,) = broker.journal_at_submit
    assert journaled is not None
    assert journaled.status is OrderStatus.SUBMITTED
    assert events.submitted == ["o1"]
    assert journal.statuses(OrderId("o1")) == [OrderStatus.SUBMITTED, OrderStatus.ACCEPTED]
    assert execution.outcomes == {"submitted": 1}


async def test_fills_reported_by_the_broker_are_published_with_the_position(
    bus: InMemoryBus, execution: ExecutionAgent, broker: ScriptedBroker, events: Events
) -> None:
    broker.fill_on_submit = D(70_000)

    await send(bus, SubmitOrder(buy("o1", 10)))

    (filled,) = events.of(OrderFilled)
    assert isinstance(filled, OrderFilled)
    assert (filled.fill.fill_id, filled.fill.quantity, filled.fill.price) == (
        "o1-1",
        D(10),
        D(70_000),
    )
    assert filled.order.status is OrderStatus.FILLED
    (changed,) = events.of(PositionChanged)
    assert isinstance(changed, PositionChanged)
    assert (changed.position.quantity, changed.bot_id) == (D(10), "bot-1")


async def test_an_order_the_oms_already_has_is_not_sent_again_and_its_fills_are_republished(
    bus: InMemoryBus,
    execution: ExecutionAgent,
    broker: ScriptedBroker,
    events: Events,
) -> None:
    broker.fill_on_submit = D(70_000)
    await send(bus, SubmitOrder(buy("o1", 10)))
    (first,) = events.of(OrderFilled)

    await send(bus, SubmitOrder(buy("o1", 10)))

    assert len(broker.submitted) == 1
    assert events.of(OrderFilled) == [first, first]
    assert len(events.of(OrderSubmitted)) == 1
    assert execution.outcomes == {"submitted": 1, "replayed": 1, "fills_republished": 1}


async def test_an_order_without_fills_is_replayed_silently(
    bus: InMemoryBus, execution: ExecutionAgent, broker: ScriptedBroker, events: Events
) -> None:
    await send(bus, SubmitOrder(buy("o1", 10)), SubmitOrder(buy("o1", 10)))

    assert len(broker.submitted) == 1
    assert events.of(OrderFilled) == []
    assert execution.outcomes == {"submitted": 1, "replayed": 1}


async def test_the_orders_of_one_decision_are_journaled_together_before_any_is_sent(
    bus: InMemoryBus,
    execution: ExecutionAgent,
    broker: ScriptedBroker,
    events: Events,
) -> None:
    broker.fill_on_submit = D(70_000)
    await send(bus, SubmitOrder(buy("o1", 10)))

    await send(bus, SubmitOrders((buy("o1", 10), buy("o2", 5), buy("o3", 7))))

    assert [o.order_id for o in broker.submitted] == ["o1", "o2", "o3"]
    statuses = [o.status if o is not None else None for o in broker.journal_at_submit[1:]]
    assert statuses == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED]
    assert broker.journal_fills_at_fill == [0, 1, 1]  # o2's and o3's fills held to the end
    assert [f.order_id for f in events.fills] == ["o1", "o1", "o2", "o3"]
    assert execution.outcomes == {"submitted": 3, "replayed": 1, "fills_republished": 1}


async def test_a_broker_failure_is_counted_and_the_agent_goes_on(
    bus: InMemoryBus,
    execution: ExecutionAgent,
    broker: ScriptedBroker,
    journal: InMemoryOrderJournal,
) -> None:
    broker.submit_error = BrokerTimeoutError("no answer in 5 s")
    await send(bus, SubmitOrder(buy("o1", 10)))
    broker.submit_error = None

    await send(bus, SubmitOrder(buy("o2", 10)))

    assert execution.outcomes == {"failed": 1, "submitted": 1}
    assert journal.statuses(OrderId("o1")) == [OrderStatus.SUBMITTED]  # in doubt
    assert [order.order_id for order in broker.submitted] == ["o1", "o2"]


# -- cancel ------------------------------------------------------------------------------------


async def test_a_cancel_reaches_the_broker_and_the_cancellation_is_published(
    bus: InMemoryBus, execution: ExecutionAgent, broker: ScriptedBroker, events: Events
) -> None:
    await send(bus, SubmitOrder(sell("s1", 10, stop=60_000, tif=TimeInForce.GTC)))

    await send(bus, CancelOrder(OrderId("s1"), "position closed"))

    assert broker.cancel_calls == ["s1"]
    (cancelled,) = events.of(OrderCancelled)
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.order.status is OrderStatus.CANCELLED


async def test_a_cancel_of_an_order_the_oms_never_had_is_counted_not_sent(
    bus: InMemoryBus, execution: ExecutionAgent, broker: ScriptedBroker
) -> None:
    await send(bus, CancelOrder(OrderId("nope"), "stop level moved"))

    assert broker.cancel_calls == []
    assert execution.outcomes == {"cancel_unknown": 1}


async def test_a_cancel_of_a_filled_order_sends_nothing(
    bus: InMemoryBus, execution: ExecutionAgent, broker: ScriptedBroker, events: Events
) -> None:
    broker.fill_on_submit = D(70_000)
    await send(bus, SubmitOrder(buy("o1", 10)))

    await send(bus, CancelOrder(OrderId("o1"), "position closed"))

    assert broker.cancel_calls == []
    assert events.of(OrderCancelled) == []


# -- orders reconciliation found never sent ----------------------------------------------------


async def test_an_order_marked_never_sent_is_sent_once_under_a_derived_id(
    bus: InMemoryBus, broker: ScriptedBroker, journal: InMemoryOrderJournal
) -> None:
    # the process died after journaling o1 and before sending it
    journal.record_order(buy("o1", 10).with_status(OrderStatus.SUBMITTED), at=DAY0)
    oms = OrderManager(broker, journal, clock=FakeClock())

    def never_sent(order_id: OrderId) -> bool:
        return any(
            event.order_id == order_id and event.reason == NEVER_SENT_REASON
            for event in journal.events
        )

    async for agent in start_execution(bus, oms, never_sent=never_sent):
        assert journal.statuses(OrderId("o1"))[-1] is OrderStatus.REJECTED
        await send(bus, SubmitOrder(buy("o1", 10)), SubmitOrder(buy("o1", 10)))
        await send(bus, CancelOrder(OrderId("o1"), "stop level moved"))

        assert [order.order_id for order in broker.submitted] == ["o1-resent"]
        assert broker.cancel_calls == ["o1-resent"]
        assert agent.outcomes["resent"] == 2
        assert agent.outcomes["submitted"] == 1
        assert agent.outcomes["replayed"] == 1


# -- the simulated market's clock --------------------------------------------------------------


@pytest.fixture
def paper(tmp_path: Path) -> Iterator[PaperBroker]:
    broker = PaperBroker.open(
        tmp_path / "paper.db", PaperSettings(), cash=D(10_000_000), clock=FakeClock()
    )
    yield broker
    broker.close()


async def test_market_orders_sent_at_an_open_fill_at_it_and_stops_trade_the_range(
    bus: InMemoryBus, paper: PaperBroker, events: Events
) -> None:
    journal = InMemoryOrderJournal()
    day_1 = daily_bar(1, 70_000, 71_000, 66_000, 68_000)
    oms = OrderManager(paper, journal, clock=FakeClock())
    async for _ in start_execution(bus, oms, market=paper):
        await send(bus, BarsOpened(day_1.start, (day_1,)))
        await send(bus, SubmitOrder(buy("o1", 10)))
        assert [(f.order_id, f.price) for f in events.fills] == [("o1", D(70_000))]

        await send(bus, SubmitOrder(sell("s1", 10, stop=67_000, tif=TimeInForce.GTC)))
        assert len(events.of(OrderFilled)) == 1  # the stop rests until the range trades

        await send(bus, BarsTraded(day_1.start, (day_1,)))

    assert [(f.order_id, f.price) for f in events.fills] == [
        ("o1", D(70_000)),
        ("s1", D(67_000)),
    ]
    assert dict(await paper.positions()) == {}


async def test_without_a_market_the_agent_ignores_bars(
    bus: InMemoryBus, execution: ExecutionAgent
) -> None:
    day_1 = daily_bar(1, 70_000)

    await send(bus, BarsOpened(day_1.start, (day_1,)), BarsTraded(day_1.start, (day_1,)))

    assert execution.market is None
    assert execution.outcomes == {}
