"""EventHub: events numbered across buses, resumable, bounded, counted, never blocking."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    AgentHeartbeat,
    AgentId,
    AgentRestarted,
    BarsOpened,
    BotId,
    BotState,
    BotStateChanged,
    Envelope,
    Fill,
    FillId,
    Order,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    RiskRejected,
    Side,
    Symbol,
)
from orchestrade.orchestration.event_hub import (
    HUB_GROUP,
    STREAMED_TYPE_NAMES,
    EventHub,
    EventHubError,
)

pytestmark = pytest.mark.anyio
AT = datetime(2024, 5, 2, 1, 2, 3, tzinfo=UTC)


def heartbeat(sequence: int, agent: str = "risk") -> AgentHeartbeat:
    return AgentHeartbeat(AgentId(agent), AT, sequence)


def order(number: int, bot: str = "bot-a") -> Order:
    return Order(
        order_id=OrderId(f"{bot}-o{number}"),
        symbol=Symbol("005930"),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(10),
        created_at=AT,
        bot_id=BotId(bot),
    )


async def test_events_of_several_buses_are_numbered_in_one_sequence() -> None:
    hub = EventHub()
    first, second = InMemoryBus(name="a"), InMemoryBus(name="b")
    await hub.attach(first, BotId("bot-a"))
    await hub.attach(second, BotId("bot-b"))
    await first.start()
    await second.start()

    await first.publish(heartbeat(0))
    await first.wait_idle()
    await second.publish(heartbeat(0))
    await second.wait_idle()
    await first.publish(OrderSubmitted(order(1)))
    await first.wait_idle()
    await first.stop()
    await second.stop()

    events = hub.events_after(0)
    assert [(e.event_id, e.bot_id, e.type_name) for e in events] == [
        (1, "bot-a", "AgentHeartbeat"),
        (2, "bot-b", "AgentHeartbeat"),
        (3, "bot-a", "OrderSubmitted"),
    ]
    assert events[2].payload == OrderSubmitted(order(1))
    assert hub.last_id == 3


async def test_market_data_and_commands_are_not_streamed() -> None:
    hub = EventHub()
    bus = InMemoryBus()
    await hub.attach(bus, BotId("bot-a"))
    await bus.start()

    await bus.publish(BarsOpened(AT, ()))
    await bus.wait_idle()
    await bus.stop()

    assert hub.events_after(0) == []
    assert "BarsOpened" not in STREAMED_TYPE_NAMES
    assert {"OrderFilled", "BotStateChanged", "AgentHeartbeat"} <= STREAMED_TYPE_NAMES


async def test_a_reader_resumes_after_the_last_id_it_saw() -> None:
    hub = EventHub()
    for sequence in range(5):
        hub.record(heartbeat(sequence), bot_id=BotId("bot-a"), at=AT)

    after_two = hub.events_after(2)
    limited = hub.events_after(0, limit=2)

    assert [event.event_id for event in after_two] == [3, 4, 5]
    assert [event.event_id for event in limited] == [1, 2]
    assert hub.events_after(5) == []
    assert hub.events_after(99) == []


async def test_the_buffer_keeps_the_newest_events_and_readers_start_from_the_oldest_kept() -> None:
    hub = EventHub(capacity=3)
    for sequence in range(7):
        hub.record(heartbeat(sequence), bot_id=None, at=AT)

    assert [event.event_id for event in hub.events_after(0)] == [5, 6, 7]
    assert [event.event_id for event in hub.events_after(5)] == [6, 7]
    assert (hub.oldest_id, hub.last_id) == (5, 7)


@pytest.mark.parametrize(
    ("after", "limit", "expected"),
    [
        (0, 1000, [4, 5, 6, 7, 8, 9, 10]),  # gone: from the oldest kept
        (4, 2, [5, 6]),  # near the oldest: walked from the oldest end
        (5, 1000, [6, 7, 8, 9, 10]),
        (7, 1000, [8, 9, 10]),  # near the newest: walked from the newest end
        (7, 2, [8, 9]),
        (8, 1, [9]),
        (9, 1000, [10]),
        (10, 1000, []),
    ],
)
async def test_events_after_any_id_are_the_kept_ones_above_it_up_to_the_limit(
    after: int, limit: int, expected: list[int]
) -> None:
    hub = EventHub(capacity=7)
    for sequence in range(10):  # ids 1..10, 4..10 kept
        hub.record(heartbeat(sequence), bot_id=None, at=AT)

    events = hub.events_after(after, limit=limit)

    assert [event.event_id for event in events] == expected
    assert [event.payload for event in events] == [heartbeat(n - 1) for n in expected]


async def test_an_empty_hub_has_nothing_and_its_oldest_is_the_next_id() -> None:
    hub = EventHub()

    assert hub.events_after(0) == []
    assert (hub.oldest_id, hub.last_id) == (1, 0)


async def test_waiting_returns_true_when_an_event_arrives_and_false_on_timeout() -> None:
    hub = EventHub()

    async def later() -> None:
        await asyncio.sleep(0)
        hub.record(heartbeat(0), bot_id=None)

    task = asyncio.ensure_future(later())
    arrived = await hub.wait_for_event(0, timeout_s=30)
    await task
    nothing = await hub.wait_for_event(1, timeout_s=0.01)
    already = await hub.wait_for_event(0, timeout_s=0)

    assert (arrived, nothing, already) == (True, False, True)


async def test_orders_fills_rejections_and_restarts_are_counted_by_bot() -> None:
    hub = EventHub()
    bot_a, bot_b = BotId("bot-a"), BotId("bot-b")
    hub.record(OrderSubmitted(order(1)), bot_id=bot_a)
    hub.record(OrderSubmitted(order(2)), bot_id=bot_a)
    hub.record(OrderSubmitted(order(1, "bot-b")), bot_id=bot_b)
    hub.record(RiskRejected(order(3), "max_position_pct", "too big"), bot_id=bot_a)
    hub.record(RiskRejected(order(4), "max_position_pct", "too big"), bot_id=bot_a)
    hub.record(RiskRejected(order(5), "price_deviation", "fat finger"), bot_id=bot_a)
    hub.record(AgentRestarted(AgentId("risk"), AT, 1, 0.0, "crashed"), bot_id=bot_b)
    hub.record(BotStateChanged(bot_a, AT, BotState.RUNNING, BotState.PAUSED), bot_id=bot_a)

    counts = hub.counts

    assert counts.orders_submitted == {"bot-a": 2, "bot-b": 1}
    assert counts.rejections == {
        ("bot-a", "max_position_pct"): 2,
        ("bot-a", "price_deviation"): 1,
    }
    assert counts.agent_restarts == {("bot-b", "risk"): 1}
    assert counts.fills == {}
    assert counts.events["BotStateChanged"] == 1
    assert sum(counts.events.values()) == 8


async def test_a_lagging_hub_drops_its_oldest_messages_instead_of_blocking_the_publisher() -> None:
    """The hub's queues drop rather than block: publishing far more than they hold while the
    hub cannot run never waits, and the drops are counted."""
    hub = EventHub()
    bus = InMemoryBus()
    await hub.attach(bus, BotId("bot-a"))
    await bus.start()
    # A handler that never gets to run: publish without yielding to the loop.
    maxsize = 10_000
    for sequence in range(maxsize + 25):
        await bus.publish(heartbeat(sequence))

    await bus.wait_idle()
    await bus.stop()

    assert hub.dropped == 25
    assert hub.last_id == maxsize
    assert hub.events_after(hub.last_id - 1)[0].payload == heartbeat(maxsize + 24)
    hub.detach(BotId("bot-a"))
    assert hub.dropped == 25
    assert bus.queue_depths() == {HUB_GROUP: 0}


async def test_queue_depths_count_what_waits_for_each_consumer_group() -> None:
    bus = InMemoryBus()

    async def ignore(envelope: Envelope) -> None:
        return None

    await bus.subscribe(AgentHeartbeat, ignore, group="slow")
    await bus.subscribe(BotStateChanged, ignore, group="slow")
    await bus.subscribe(AgentHeartbeat, ignore, group="other")
    for sequence in range(2):  # not started: the messages wait in the queues
        await bus.publish(heartbeat(sequence))
    await bus.publish(BotStateChanged(BotId("bot-a"), AT, BotState.RUNNING, BotState.PAUSED))

    assert bus.queue_depths() == {"slow": 3, "other": 2}


async def test_a_bad_capacity_or_limit_is_refused_by_name() -> None:
    with pytest.raises(EventHubError, match="capacity"):
        EventHub(capacity=0)
    with pytest.raises(EventHubError, match="limit"):
        EventHub().events_after(0, limit=0)


async def test_a_fill_published_again_is_streamed_again_but_counted_once() -> None:
    hub = EventHub()
    submitted = order(1).with_status(OrderStatus.SUBMITTED)
    fill = Fill(
        fill_id=FillId("f-1"),
        order_id=submitted.order_id,
        symbol=submitted.symbol,
        side=Side.BUY,
        quantity=Decimal(10),
        price=Decimal(71500),
        filled_at=AT,
    )
    filled = OrderFilled(submitted.with_fill(fill), fill)

    hub.record(filled, bot_id=BotId("bot-a"))
    hub.record(filled, bot_id=BotId("bot-a"))

    assert [event.type_name for event in hub.events_after(0)] == ["OrderFilled", "OrderFilled"]
    assert hub.counts.fills == {"bot-a": 1}
    assert hub.counts.events["OrderFilled"] == 2
