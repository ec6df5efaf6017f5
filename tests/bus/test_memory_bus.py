"""The in-process bus: what happens when a subscription's queue is full, and queue details."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bus.support import T0, Recorder, beat, fixed_clock
from orchestrade.bus import (
    BusNotRunningError,
    InMemoryBus,
    Overflow,
    QueueFullError,
    SubscriptionError,
    memory,
)
from orchestrade.bus.memory import PriorityQueue, Quiescence
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


async def test_publish_returns_before_any_handler_runs() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    recorder = Recorder()
    await bus.subscribe(AgentHeartbeat, recorder)
    await bus.start()

    await bus.publish(beat(0))

    assert recorder.sequences == []
    await bus.wait_idle()
    assert recorder.sequences == [0]
    await bus.stop()


async def test_what_handlers_publish_waits_behind_what_was_already_queued() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    seen: list[str] = []

    def handler(name: str, forward: bool = False) -> Callable[[Envelope], Awaitable[None]]:
        async def handle(envelope: Envelope) -> None:
            payload = envelope.payload
            assert isinstance(payload, AgentHeartbeat)
            seen.append(f"{name}:{payload.sequence}")
            if forward and payload.sequence < 10:
                await bus.publish(beat(payload.sequence + 10), topic="forwarded")

        return handle

    await bus.subscribe(AgentHeartbeat, handler("a", forward=True))
    await bus.subscribe(AgentHeartbeat, handler("b"))
    await bus.subscribe("forwarded", handler("c"))
    await bus.start()
    await bus.publish(beat(0))
    await bus.publish(beat(1))
    await bus.wait_idle()
    await bus.stop()

    # Breadth first: both originals reach a and b before any forwarded message is handled;
    # a forwarded message goes to its type's subscribers and to the topic's.
    assert seen[:4] == ["a:0", "b:0", "a:1", "b:1"]
    assert sorted(seen[4:]) == ["a:10", "a:11", "b:10", "b:11", "c:10", "c:11"]
    assert seen.index("c:10") < seen.index("c:11")


async def test_a_handler_that_waits_does_not_hold_up_the_other_subscribers() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    gate = Gate()
    other = Recorder()
    await bus.subscribe(AgentHeartbeat, gate)
    await bus.subscribe(AgentHeartbeat, other)
    await bus.start()
    for n in range(3):
        await bus.publish(beat(n))
    await other.wait_for(3)

    assert gate.recorder.sequences == []  # still waiting in the first message
    gate.open.set()
    await bus.wait_idle()
    await bus.stop()
    assert gate.recorder.sequences == [0, 1, 2]
    assert bus.stats.delivered == 6


async def test_a_handler_that_fails_after_waiting_is_retried_then_counted() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    attempts: list[int] = []

    async def flaky(envelope: Envelope) -> None:
        attempts.append(len(attempts))
        await asyncio.sleep(0)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    await bus.subscribe(AgentHeartbeat, flaky)
    await bus.start()
    await bus.publish(Envelope.wrap(beat(0), sender="t", timestamp=T0, retries=1))
    await bus.wait_idle()
    assert len(attempts) == 2
    assert (bus.stats.failed, bus.stats.delivered) == (1, 0)

    await bus.publish(Envelope.wrap(beat(1), sender="t", timestamp=T0, retries=1))
    await bus.wait_idle()
    await bus.stop()
    assert len(attempts) == 3
    assert (bus.stats.failed, bus.stats.delivered) == (1, 1)


async def test_a_handler_that_fails_at_once_is_retried_as_the_envelope_allows() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    attempts: list[int] = []

    async def failing(envelope: Envelope) -> None:
        attempts.append(envelope.retries)
        raise RuntimeError("always")

    await bus.subscribe(AgentHeartbeat, failing)
    await bus.start()
    await bus.publish(Envelope.wrap(beat(0), sender="t", timestamp=T0, retries=2))
    await bus.publish(beat(1))
    await bus.wait_idle()
    await bus.stop()
    assert attempts == [2, 2, 2, 0]
    assert (bus.stats.failed, bus.stats.delivered) == (2, 0)


async def test_stopping_cancels_a_waiting_handler_inside_its_wait() -> None:
    bus = InMemoryBus(clock=fixed_clock)
    cancelled = asyncio.Event()

    async def stuck(envelope: Envelope) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await bus.subscribe(AgentHeartbeat, stuck)
    await bus.start()
    await bus.publish(beat(0))
    for _ in range(3):
        await asyncio.sleep(0)
    await bus.stop(timeout_s=0.05)
    assert cancelled.is_set()


async def test_a_long_burst_lets_the_loop_run_other_callbacks_in_between(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "PUMP_TURN_S", 0.0)  # every delivery uses up the turn
    bus = InMemoryBus(clock=fixed_clock)
    seen: list[str] = []

    async def handle(envelope: Envelope) -> None:
        seen.append(f"message {envelope.payload.sequence}")  # type: ignore[union-attr]

    await bus.subscribe(AgentHeartbeat, handle)
    await bus.start()
    for n in range(5):
        await bus.publish(beat(n))
    asyncio.get_running_loop().call_soon(seen.append, "other callback")
    await bus.wait_idle()
    await bus.stop()

    assert seen == ["message 0", "other callback", *(f"message {n}" for n in range(1, 5))]


async def test_queues_sharing_a_quiescence_are_idle_only_together() -> None:
    shared = Quiescence()
    first = PriorityQueue(2, Overflow.DROP_OLDEST, quiescence=shared)
    second = PriorityQueue(5, Overflow.BLOCK, quiescence=shared)
    envelopes = [Envelope.wrap(beat(n), sender="s", timestamp=T0) for n in range(4)]
    for envelope in envelopes[:3]:
        await first.put(envelope)  # the third evicts the first: two are left
    await second.put(envelopes[3])
    assert shared.unfinished == 3
    idle = asyncio.ensure_future(shared.wait())

    await first.get()
    first.task_done()
    await second.get()
    second.task_done()
    await asyncio.sleep(0)
    assert shared.unfinished == 1
    assert not idle.done()

    assert first.clear() == 1
    await asyncio.sleep(0)
    assert shared.unfinished == 0
    assert idle.done()
    await shared.wait()  # idle already: returns at once
