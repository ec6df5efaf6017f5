"""The in-process bus: what happens when a subscription's queue is full, and queue details."""

from __future__ import annotations

import asyncio

import pytest

from bus.support import T0, Recorder, beat, fixed_clock
from orchestrade.bus import (
    BusNotRunningError,
    InMemoryBus,
    Overflow,
    QueueFullError,
    SubscriptionError,
)
from orchestrade.bus.memory import PriorityQueue
from orchestrade.domain import AgentHeartbeat, Envelope

pytestmark = pytest.mark.anyio


class Gate:
    """A handler that records, then holds every message until the test opens the gate."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def __call__(self, envelope: Envelope) -> None:
        self.entered.set()
        await self.open.wait()
        await self.recorder(envelope)


async def test_block_makes_the_publisher_wait_for_room() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    gate = Gate()
    await bus.subscribe(AgentHeartbeat, gate, maxsize=2, overflow=Overflow.BLOCK)
    await bus.start()
    await bus.publish(beat(0))
    await gate.entered.wait()  # message 0 is in the handler, the queue is empty
    await bus.publish(beat(1))
    await bus.publish(beat(2))

    blocked = asyncio.ensure_future(bus.publish(beat(3)))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not blocked.done()

    gate.open.set()
    await blocked
    await bus.stop()
    assert gate.recorder.sequences == [0, 1, 2, 3]
    assert bus.stats.dropped == bus.stats.rejected == 0


async def test_drop_oldest_keeps_the_newest_messages() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    recorder = Recorder()
    subscription = await bus.subscribe(
        AgentHeartbeat, recorder, maxsize=2, overflow=Overflow.DROP_OLDEST
    )

    for sequence in range(5):
        await bus.publish(beat(sequence))
    await bus.start()
    await bus.stop()

    assert recorder.sequences == [3, 4]
    assert subscription.stats.dropped == 3
    assert bus.stats.dropped == 3


async def test_drop_oldest_discards_the_least_urgent_message_first() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    recorder = Recorder()
    await bus.subscribe(AgentHeartbeat, recorder, maxsize=2, overflow=Overflow.DROP_OLDEST)

    await bus.publish(beat(1), priority=5)
    await bus.publish(beat(2))
    await bus.publish(beat(3))  # evicts 2: same priority, older
    await bus.publish(beat(4), priority=-1)  # the least urgent itself: discarded
    await bus.start()
    await bus.stop()

    assert recorder.sequences == [1, 3]
    assert bus.stats.dropped == 2


async def test_reject_raises_queue_full_but_other_subscribers_still_get_the_message() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    strict, relaxed = Recorder(), Recorder()
    subscription = await bus.subscribe(AgentHeartbeat, strict, maxsize=2, overflow=Overflow.REJECT)
    await bus.subscribe(AgentHeartbeat, relaxed)
    await bus.publish(beat(0))
    await bus.publish(beat(1))

    with pytest.raises(QueueFullError, match="AgentHeartbeat was rejected"):
        await bus.publish(beat(2))
    await bus.start()
    await bus.stop()

    assert strict.sequences == [0, 1]
    assert relaxed.sequences == [0, 1, 2]
    assert subscription.stats.rejected == 1


async def test_a_queue_holds_at_most_maxsize_messages_however_many_are_published() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    await bus.subscribe(AgentHeartbeat, Recorder(), maxsize=100, overflow=Overflow.DROP_OLDEST)

    for sequence in range(10_000):
        await bus.publish(beat(sequence))

    queue = next(iter(bus._groups["type:AgentHeartbeat"].values())).queue
    assert len(queue) == 100
    assert bus.stats.dropped == 9_900
    await bus.stop()


async def test_one_group_cannot_be_subscribed_with_two_queue_policies() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    await bus.subscribe(AgentHeartbeat, Recorder(), group="g", maxsize=10)

    with pytest.raises(SubscriptionError, match="already uses maxsize=10"):
        await bus.subscribe(AgentHeartbeat, Recorder(), group="g", maxsize=20)


@pytest.mark.parametrize("maxsize", [0, -1, True, 2.5])
async def test_maxsize_must_be_a_positive_int(maxsize: object) -> None:
    bus = InMemoryBus(clock=fixed_clock)

    with pytest.raises(SubscriptionError, match="maxsize"):
        await bus.subscribe(AgentHeartbeat, Recorder(), maxsize=maxsize)  # type: ignore[arg-type]


async def test_a_closed_subscription_gets_nothing_more() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    recorder = Recorder()
    subscription = await bus.subscribe(AgentHeartbeat, recorder)
    await bus.start()
    await bus.publish(beat(1))
    await recorder.wait_for(1)

    await subscription.close()
    await bus.publish(beat(2))
    await bus.stop()

    assert recorder.sequences == [1]
    assert bus.stats.delivered == 1


async def test_a_stop_with_a_timeout_counts_what_it_leaves_undelivered() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    gate = Gate()
    await bus.subscribe(AgentHeartbeat, gate)
    await bus.start()
    for sequence in range(3):
        await bus.publish(beat(sequence))
    await gate.entered.wait()

    await bus.stop(timeout_s=0.01)

    assert gate.recorder.sequences == []
    assert bus.stats.dropped == 2  # 1 and 2 were still queued; 0 was cancelled in its handler


async def test_a_stopped_bus_cannot_be_restarted_or_subscribed() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    await bus.start()
    await bus.stop()

    with pytest.raises(BusNotRunningError):
        await bus.start()
    with pytest.raises(BusNotRunningError):
        await bus.subscribe(AgentHeartbeat, Recorder())


async def test_wrapped_messages_carry_the_bus_name_and_clock() -> None:
    bus = InMemoryBus(name="node-1", clock=fixed_clock)

    envelope = await bus.publish(beat(1), priority=3)
    other = await bus.publish(beat(2), sender="data-agent")

    assert (envelope.sender, envelope.timestamp, envelope.priority) == ("node-1", T0, 3)
    assert other.sender == "data-agent"


async def test_the_priority_queue_is_fifo_among_equal_priorities() -> None:
    queue = PriorityQueue(10, Overflow.BLOCK)
    envelopes = [
        Envelope.wrap(beat(n), sender="s", timestamp=T0, priority=p)
        for n, p in [(0, 1), (1, 1), (2, 2), (3, 1)]
    ]
    for envelope in envelopes:
        await queue.put(envelope)

    order = [(await queue.get()).payload for _ in envelopes]

    assert [m.sequence for m in order] == [2, 0, 1, 3]  # type: ignore[union-attr]
