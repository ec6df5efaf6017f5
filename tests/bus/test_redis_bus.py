"""The Redis Streams bus against the real server: wire format, dead letters, redelivery, caps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from bus.support import T0, Recorder, beat, fixed_clock
from orchestrade.bus import JsonCodec, MsgpackCodec, SubscriptionError
from orchestrade.bus.redis_streams import ENVELOPE_FIELD, RedisStreamsBus
from orchestrade.domain import (
    AgentHeartbeat,
    AnomalyDetected,
    BotId,
    CorrelationId,
    Envelope,
    Fill,
    FillId,
    MessageId,
    Order,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderType,
    Severity,
    Side,
    Symbol,
)

pytestmark = pytest.mark.anyio

MakeRedisBus = Callable[..., RedisStreamsBus]


@pytest.fixture
async def make_redis_bus(redis_url: str, redis_prefix: str) -> AsyncIterator[MakeRedisBus]:
    created: list[RedisStreamsBus] = []

    def make(**options: Any) -> RedisStreamsBus:
        settings: dict[str, Any] = {"block_s": 0.02, "claim_min_idle_s": 0.05}
        settings.update(options)
        bus = RedisStreamsBus(redis_url, prefix=redis_prefix, clock=fixed_clock, **settings)
        created.append(bus)
        return bus

    try:
        yield make
    finally:
        for bus in created:
            await bus.stop(timeout_s=2)


def order_filled() -> OrderFilled:
    fill = Fill(
        FillId("f-1"),
        OrderId("o-1"),
        Symbol("005930"),
        Side.BUY,
        Decimal("7"),
        Decimal("71000.5"),
        T0,
        fee=Decimal("10.65"),
    )
    order = Order(fill.order_id, fill.symbol, fill.side, OrderType.MARKET, fill.quantity, T0)
    return OrderFilled(order.with_status(OrderStatus.SUBMITTED).with_fill(fill), fill)


def anomaly() -> AnomalyDetected:
    return AnomalyDetected(
        T0, "gap", Severity.HIGH, "005930", 0.31, 0.3, "price gap", bot_id=BotId("bot-1")
    )


@pytest.mark.parametrize("codec", [MsgpackCodec(), JsonCodec()], ids=["msgpack", "json"])
async def test_envelopes_cross_redis_unchanged(make_redis_bus: MakeRedisBus, codec: Any) -> None:
    bus = make_redis_bus(codec=codec)
    received = Recorder()
    await bus.subscribe(OrderFilled, received)
    await bus.subscribe(AnomalyDetected, received)
    sent = [
        Envelope.wrap(
            order_filled(),
            sender="execution",
            timestamp=T0,
            message_id=MessageId("m-1"),
            correlation_id=CorrelationId("c-1"),
            causation_id=MessageId("m-0"),
            priority=3,
            timeout_s=2.5,
            retries=1,
        ),
        Envelope.wrap(anomaly(), sender="anomaly", timestamp=T0),
    ]
    await bus.start()

    for envelope in sent:
        await bus.publish(envelope)
    await bus.stop()

    assert sorted(received.envelopes, key=lambda e: e.type_name) == sent[::-1]


async def test_two_processes_on_one_redis_see_each_others_messages(
    make_redis_bus: MakeRedisBus,
) -> None:
    publisher, listener = make_redis_bus(name="node-a"), make_redis_bus(name="node-b")
    heard = Recorder()
    await listener.subscribe(AgentHeartbeat, heard)
    await listener.start()

    await publisher.publish(beat(1))
    await heard.wait_for(1)

    assert heard.envelopes[0].sender == "node-a"


async def test_requests_are_answered_across_processes(make_redis_bus: MakeRedisBus) -> None:
    client, server = make_redis_bus(name="client"), make_redis_bus(name="risk")

    async def answer(request: Envelope) -> None:
        assert isinstance(request.payload, AgentHeartbeat)
        reply = request.reply(beat(request.payload.sequence * 2), sender="risk", timestamp=T0)
        await server.publish(reply)

    await server.subscribe(AgentHeartbeat, answer, group="risk")
    await server.start()
    await client.start()

    reply = await client.request(beat(21), timeout_s=5)

    assert reply.payload == beat(42)
    assert reply.receiver == "client"


async def test_undecodable_entries_are_dead_lettered_and_the_consumer_goes_on(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()
    received = Recorder()
    subscription = await bus.subscribe(AgentHeartbeat, received)
    stream = bus.stream_for(AgentHeartbeat)
    unknown = msgspec.msgpack.encode(
        {
            "message_id": "m",
            "type_name": "FromTheFuture",
            "sender": "x",
            "timestamp": T0,
            "correlation_id": "m",
            "payload": {},
        }
    )
    await redis_client.xadd(stream, {ENVELOPE_FIELD: b"\xc1 not msgpack"})
    await redis_client.xadd(stream, {b"something": b"else"})
    await redis_client.xadd(stream, {ENVELOPE_FIELD: unknown})
    await bus.publish(beat(1))

    await bus.start()
    await bus.stop()

    assert received.sequences == [1]
    assert (subscription.stats.decode_errors, subscription.stats.dead_lettered) == (3, 3)
    dead = await redis_client.xrange(bus.dead_letter_stream)
    reasons = [fields[b"reason"].decode() for _, fields in dead]
    assert len(reasons) == 3
    assert all(reason.startswith("decode: ") for reason in reasons)
    assert "unknown message type 'FromTheFuture'" in reasons[2]
    assert dead[2][1][ENVELOPE_FIELD] == unknown
    assert dead[0][1][b"stream"].decode() == stream


async def test_a_message_whose_handler_always_fails_is_dead_lettered_and_acknowledged(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()

    async def broken(envelope: Envelope) -> None:
        raise ValueError("cannot")

    subscription = await bus.subscribe(AgentHeartbeat, broken, group="g")
    await bus.start()
    sent = await bus.publish(beat(1))
    await bus.stop()

    dead = await redis_client.xrange(bus.dead_letter_stream)
    assert [fields[b"reason"] for _, fields in dead] == [b"handler failed"]
    assert MsgpackCodec().decode(dead[0][1][ENVELOPE_FIELD]) == sent
    pending = await redis_client.xpending(bus.stream_for(AgentHeartbeat), "g")
    assert pending["pending"] == 0
    assert subscription.stats.failed == 1


async def test_a_message_its_consumer_died_on_is_redelivered_to_another_consumer(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    entered = asyncio.Event()

    async def dies(envelope: Envelope) -> None:
        entered.set()
        await asyncio.Event().wait()  # never returns: the process is about to die

    crashed = make_redis_bus(name="crashed")
    await crashed.subscribe(AgentHeartbeat, dies, group="oms", consumer="a")
    await crashed.start()
    sent = await crashed.publish(beat(7))
    await entered.wait()
    await crashed.stop(timeout_s=0.01)  # cancels the handler: no XACK
    stream = crashed.stream_for(AgentHeartbeat)
    assert (await redis_client.xpending(stream, "oms"))["pending"] == 1

    survivor = make_redis_bus(name="survivor")
    received = Recorder()
    await survivor.subscribe(AgentHeartbeat, received, group="oms", consumer="b")
    await survivor.start()
    await received.wait_for(1)
    await survivor.stop()

    assert received.envelopes == [sent]
    assert (await redis_client.xpending(stream, "oms"))["pending"] == 0


async def test_a_restarted_consumer_first_resumes_its_own_unacknowledged_entries(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    first = make_redis_bus(name="oms-1")
    await first.subscribe(AgentHeartbeat, Recorder(), group="oms", consumer="oms-1")
    stream = first.stream_for(AgentHeartbeat)
    await first.publish(beat(1))
    await first.publish(beat(2))
    # The consumer read both entries, then the process was killed before acknowledging.
    await redis_client.xreadgroup("oms", "oms-1", {stream: ">"}, count=10)
    await first.stop()

    restarted = make_redis_bus(name="oms-1", claim_min_idle_s=3600)  # no claiming: own PEL only
    received = Recorder()
    await restarted.subscribe(AgentHeartbeat, received, group="oms", consumer="oms-1")
    await restarted.publish(beat(3))
    await restarted.start()
    await restarted.stop()

    assert received.sequences == [1, 2, 3]
    assert (await redis_client.xpending(stream, "oms"))["pending"] == 0


async def test_streams_are_capped_near_maxlen(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus(maxlen=100)
    await bus.subscribe(AgentHeartbeat, Recorder())  # a consumer that never reads

    for sequence in range(1_000):
        await bus.publish(beat(sequence))

    # MAXLEN ~ trims whole stream nodes (100 entries each by default), never below maxlen.
    length = await redis_client.xlen(bus.stream_for(AgentHeartbeat))
    assert 100 <= length < 200


async def test_private_groups_are_removed_at_stop_and_named_groups_kept(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus(name="node")
    await bus.subscribe(AgentHeartbeat, Recorder())
    await bus.subscribe(AgentHeartbeat, Recorder(), group="durable")
    await bus.start()
    await bus.publish(Envelope.wrap(beat(1), sender="x", timestamp=T0, receiver=bus.name))
    assert await redis_client.exists(bus.inbox_stream)

    await bus.stop()

    groups = await redis_client.xinfo_groups(bus.stream_for(AgentHeartbeat))
    assert [g["name"] for g in groups] == [b"durable"]
    assert not await redis_client.exists(bus.inbox_stream)


@pytest.mark.parametrize(
    ("option", "value"),
    [("maxlen", 0), ("batch_size", -1), ("block_s", 0), ("claim_min_idle_s", -1.0)],
)
def test_bad_options_are_refused(redis_url: str, option: str, value: float) -> None:
    options: dict[str, Any] = {option: value}

    with pytest.raises(SubscriptionError, match=option):
        RedisStreamsBus(redis_url, **options)


async def test_group_and_consumer_names_must_be_words(make_redis_bus: MakeRedisBus) -> None:
    bus = make_redis_bus()

    with pytest.raises(SubscriptionError, match="group"):
        await bus.subscribe(AgentHeartbeat, Recorder(), group="two words")
    with pytest.raises(SubscriptionError, match="consumer"):
        await bus.subscribe(AgentHeartbeat, Recorder(), consumer="")
