"""The Bus contract, run against every implementation (in-process and Redis Streams)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from bus.support import T0, Recorder, beat
from orchestrade.bus import (
    Bus,
    BusNotRunningError,
    RequestTimeoutError,
    SubscriptionError,
    UnknownMessageTypeError,
)
from orchestrade.domain import (
    AgentHeartbeat,
    Bar,
    BarClosed,
    Envelope,
    MessageId,
    Symbol,
)

pytestmark = pytest.mark.anyio


def bar_closed(symbol: str) -> BarClosed:
    price = Decimal("100")
    return BarClosed(Bar(Symbol(symbol), "1d", T0, price, price, price, price, Decimal(10)))


async def test_subscribers_receive_only_their_message_type(bus: Bus) -> None:
    bars, beats = Recorder(), Recorder()
    await bus.subscribe(BarClosed, bars)
    await bus.subscribe(AgentHeartbeat, beats)
    await bus.start()

    await bus.publish(bar_closed("005930"))
    await bus.publish(beat(1))
    await bus.stop()

    assert [type(e.payload) for e in bars.envelopes] == [BarClosed]
    assert beats.sequences == [1]


async def test_topic_subscribers_get_messages_published_on_their_topic(bus: Bus) -> None:
    krx, every_bar = Recorder(), Recorder()
    await bus.subscribe("bars.krx", krx)
    await bus.subscribe(BarClosed, every_bar)
    await bus.start()

    await bus.publish(bar_closed("005930"), topic="bars.krx")
    await bus.publish(bar_closed("AAPL"), topic="bars.us")
    await bus.publish(bar_closed("000660"))
    await bus.stop()

    assert [e.payload.bar.symbol for e in krx.envelopes] == ["005930"]  # type: ignore[union-attr]
    assert len(every_bar.envelopes) == 3


async def test_every_subscriber_gets_every_message(bus: Bus) -> None:
    recorders = [Recorder() for _ in range(3)]
    for recorder in recorders:
        await bus.subscribe(AgentHeartbeat, recorder)
    await bus.start()

    for sequence in range(5):
        await bus.publish(beat(sequence))
    await bus.stop()

    assert [r.sequences for r in recorders] == [[0, 1, 2, 3, 4]] * 3


async def test_subscribers_of_one_group_share_the_messages(bus: Bus) -> None:
    first, second, other_group = Recorder(), Recorder(), Recorder()
    await bus.subscribe(AgentHeartbeat, first, group="workers", consumer="w1")
    await bus.subscribe(AgentHeartbeat, second, group="workers", consumer="w2")
    await bus.subscribe(AgentHeartbeat, other_group, group="audit")
    await bus.start()

    for sequence in range(20):
        await bus.publish(beat(sequence))
    await bus.stop()

    assert sorted(first.sequences + second.sequences) == list(range(20))
    assert other_group.sequences == list(range(20))


async def test_each_subscription_sees_messages_in_publish_order(bus: Bus) -> None:
    recorder = Recorder()
    await bus.subscribe(AgentHeartbeat, recorder)
    await bus.start()

    for sequence in range(300):
        await bus.publish(beat(sequence))
    await bus.stop()

    assert recorder.sequences == list(range(300))


async def test_queued_messages_are_delivered_most_urgent_first(bus: Bus) -> None:
    recorder = Recorder()
    await bus.subscribe(AgentHeartbeat, recorder)
    for sequence, priority in [(1, 0), (2, 5), (3, 2), (4, 0), (5, 5)]:
        await bus.publish(beat(sequence), priority=priority)

    await bus.start()
    await bus.stop()

    assert recorder.sequences == [2, 5, 3, 1, 4]


async def test_messages_waiting_behind_a_busy_handler_are_ordered_by_priority(
    bus: Bus,
) -> None:
    gate, entered = asyncio.Event(), asyncio.Event()
    recorder = Recorder()

    async def slow(envelope: Envelope) -> None:
        entered.set()
        await gate.wait()
        await recorder(envelope)

    await bus.subscribe(AgentHeartbeat, slow)
    await bus.start()
    await bus.publish(beat(0))
    await entered.wait()

    await bus.publish(beat(1), priority=-1)
    await bus.publish(beat(2), priority=0)
    await bus.publish(beat(3), priority=9)
    gate.set()
    await bus.stop()

    assert recorder.sequences == [0, 3, 2, 1]


async def test_a_request_gets_the_reply_of_its_conversation(bus: Bus) -> None:
    async def answer(request: Envelope) -> None:
        assert isinstance(request.payload, AgentHeartbeat)
        reply = request.reply(
            beat(request.payload.sequence + 1, "risk"), sender="risk", timestamp=T0
        )
        await bus.publish(reply)

    await bus.subscribe(AgentHeartbeat, answer)
    await bus.start()

    reply = await bus.request(beat(41), timeout_s=5)

    assert reply.payload == beat(42, "risk")
    assert reply.sender == "risk"
    assert reply.receiver == bus.name
    assert reply.causation_id is not None
    assert str(reply.correlation_id) == str(
        reply.causation_id
    )  # the request started the conversation


async def test_concurrent_requests_each_get_their_own_reply(bus: Bus) -> None:
    async def echo(request: Envelope) -> None:
        assert isinstance(request.payload, AgentHeartbeat)
        await bus.publish(request.reply(request.payload, sender="echo", timestamp=T0))

    await bus.subscribe(AgentHeartbeat, echo)
    await bus.start()

    replies = await asyncio.gather(*(bus.request(beat(n), timeout_s=5) for n in range(10)))

    assert [r.payload.sequence for r in replies] == list(range(10))  # type: ignore[union-attr]


async def test_a_request_nobody_answers_times_out(bus: Bus) -> None:
    await bus.start()

    with pytest.raises(RequestTimeoutError, match="no reply to AgentHeartbeat") as raised:
        await bus.request(beat(1), timeout_s=0.05)

    assert isinstance(raised.value, TimeoutError)


async def test_a_reply_that_answers_no_request_is_counted(bus: Bus) -> None:
    recorder = Recorder()
    await bus.subscribe(AgentHeartbeat, recorder)
    await bus.start()
    stray = Envelope.wrap(
        beat(1),
        sender="risk",
        timestamp=T0,
        receiver=bus.name,
        causation_id=MessageId("no-such-request"),
    )

    await bus.publish(stray)
    await bus.stop()

    assert bus.stats.unmatched_replies == 1
    assert recorder.envelopes == []  # a direct message is not broadcast to the type


async def test_a_failing_handler_does_not_stop_the_others(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(envelope: Envelope) -> None:
        raise RuntimeError(f"boom on {envelope.message_id}")

    healthy = Recorder()
    failing = await bus.subscribe(AgentHeartbeat, broken)
    await bus.subscribe(AgentHeartbeat, healthy)
    await bus.start()

    with caplog.at_level(logging.ERROR, logger="orchestrade.bus"):
        for sequence in range(3):
            await bus.publish(beat(sequence))
        await bus.stop()

    assert healthy.sequences == [0, 1, 2]
    assert failing.stats.failed == 3
    assert failing.stats.delivered == 0
    assert bus.stats.failed == 3
    assert bus.stats.delivered == 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in errors)


async def test_a_failing_handler_is_retried_as_many_times_as_the_envelope_allows(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []

    async def flaky(envelope: Envelope) -> None:
        attempts.append(envelope.payload.sequence)  # type: ignore[union-attr]
        if len(attempts) < 3:
            raise ConnectionError("try again")

    subscription = await bus.subscribe(AgentHeartbeat, flaky)
    await bus.start()

    with caplog.at_level(logging.ERROR, logger="orchestrade.bus"):
        await bus.publish(Envelope.wrap(beat(7), sender="data", timestamp=T0, retries=2))
        await bus.stop()

    assert attempts == [7, 7, 7]
    assert (subscription.stats.delivered, subscription.stats.failed) == (1, 0)
    assert len(caplog.records) == 2


async def test_stop_drains_what_was_published_then_refuses_more(bus: Bus) -> None:
    recorder = Recorder()

    async def slow(envelope: Envelope) -> None:
        await asyncio.sleep(0)
        await recorder(envelope)

    await bus.subscribe(AgentHeartbeat, slow)
    await bus.start()
    for sequence in range(50):
        await bus.publish(beat(sequence))

    await bus.stop()

    assert recorder.sequences == list(range(50))
    with pytest.raises(BusNotRunningError):
        await bus.publish(beat(50))
    await bus.stop()  # idempotent


async def test_messages_handlers_publish_while_draining_are_delivered(bus: Bus) -> None:
    bars = Recorder()

    async def relay(envelope: Envelope) -> None:
        await bus.publish(bar_closed("005930"))

    await bus.subscribe(AgentHeartbeat, relay)
    await bus.subscribe(BarClosed, bars)
    await bus.start()
    await bus.publish(beat(1))

    await bus.stop()

    assert len(bars.envelopes) == 1


async def test_a_stop_with_a_timeout_cancels_a_stuck_handler(bus: Bus) -> None:
    entered = asyncio.Event()

    async def stuck(envelope: Envelope) -> None:
        entered.set()
        await asyncio.Event().wait()

    await bus.subscribe(AgentHeartbeat, stuck)
    await bus.start()
    await bus.publish(beat(1))
    await entered.wait()

    await bus.stop(timeout_s=0.05)

    with pytest.raises(BusNotRunningError):
        await bus.publish(beat(2))


async def test_a_pending_request_fails_when_the_bus_stops(bus: Bus) -> None:
    await bus.start()
    request = asyncio.ensure_future(bus.request(beat(1), timeout_s=30))
    await asyncio.sleep(0.01)

    await bus.stop()

    with pytest.raises(BusNotRunningError):
        await request


async def test_a_request_needs_a_running_bus(bus: Bus) -> None:
    with pytest.raises(BusNotRunningError):
        await bus.request(beat(1), timeout_s=1)


async def test_unregistered_message_types_are_refused(bus: Bus) -> None:
    class NotAnEvent:
        pass

    with pytest.raises(UnknownMessageTypeError, match="NotAnEvent"):
        await bus.subscribe(NotAnEvent, Recorder())  # type: ignore[arg-type]
    with pytest.raises(UnknownMessageTypeError, match="NotAnEvent"):
        await bus.publish(NotAnEvent())  # type: ignore[arg-type]
    with pytest.raises(UnknownMessageTypeError, match="Bar"):
        await bus.publish(bar_closed("X").bar)  # type: ignore[arg-type]


@pytest.mark.parametrize("topic", ["", "two words", "tab\there"])
async def test_a_topic_must_be_a_word(bus: Bus, topic: str) -> None:
    with pytest.raises(SubscriptionError, match="topic"):
        await bus.subscribe(topic, Recorder())
    with pytest.raises(SubscriptionError, match="topic"):
        await bus.publish(beat(1), topic=topic)
