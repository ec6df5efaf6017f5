"""The Redis bus's batching: coalesced publishes keep their order and their own errors, and
acknowledgements ride on the next read without ever letting a handled entry be claimed again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.exceptions import ResponseError

from bus.support import Recorder, beat, fixed_clock
from orchestrade.bus import MsgpackCodec
from orchestrade.bus.redis_streams import ENVELOPE_FIELD, RedisStreamsBus
from orchestrade.domain import AgentHeartbeat, Envelope

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


async def stream_sequences(client: Any, stream: str) -> list[int]:
    codec = MsgpackCodec()
    entries = await client.xrange(stream)
    return [codec.decode(fields[ENVELOPE_FIELD]).payload.sequence for _, fields in entries]


async def test_concurrent_publishes_land_in_the_order_they_were_made(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()
    await bus.subscribe(AgentHeartbeat, Recorder())  # creates the stream

    sent = await asyncio.gather(*(bus.publish(beat(n)) for n in range(300)))

    assert [e.payload.sequence for e in sent] == list(range(300))
    assert await stream_sequences(redis_client, bus.stream_for(AgentHeartbeat)) == list(range(300))


async def test_concurrent_publishes_with_topics_reach_both_streams_in_order(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()

    await asyncio.gather(*(bus.publish(beat(n), topic="health") for n in range(50)))

    for stream in (bus.stream_for(AgentHeartbeat), bus.stream_for("health")):
        assert await stream_sequences(redis_client, stream) == list(range(50))


async def test_a_failing_write_fails_only_its_own_publish(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()
    await redis_client.set(bus.stream_for("broken"), "not a stream")  # XADD: WRONGTYPE

    results = await asyncio.gather(
        *(bus.publish(beat(n), topic="broken" if n == 5 else None) for n in range(10)),
        return_exceptions=True,
    )

    failed = [n for n, result in enumerate(results) if isinstance(result, Exception)]
    assert failed == [5]
    assert isinstance(results[5], ResponseError)
    assert "WRONGTYPE" in str(results[5])
    # the message of the failed publish may be on its type stream (that XADD succeeded);
    # every other one is there, in order
    sequences = await stream_sequences(redis_client, bus.stream_for(AgentHeartbeat))
    assert [n for n in sequences if n != 5] == [0, 1, 2, 3, 4, 6, 7, 8, 9]


async def test_a_cancelled_publisher_does_not_stop_the_others(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()
    publishes = [asyncio.ensure_future(bus.publish(beat(n))) for n in range(20)]
    await asyncio.sleep(0)  # every publish is queued or in flight
    publishes[3].cancel()
    publishes[12].cancel()

    results = await asyncio.gather(*publishes, return_exceptions=True)
    after = await bus.publish(beat(99))

    others = [r for n, r in enumerate(results) if n not in (3, 12)]
    assert all(isinstance(r, Envelope) for r in others)
    assert after.payload == beat(99)
    sequences = await stream_sequences(redis_client, bus.stream_for(AgentHeartbeat))
    assert [n for n in sequences if n not in (3, 12)] == [
        *(n for n in range(20) if n not in (3, 12)),
        99,
    ]


async def test_handled_entries_are_acknowledged_while_the_bus_runs(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    bus = make_redis_bus()
    received = Recorder()
    await bus.subscribe(AgentHeartbeat, received, group="g")
    await bus.start()
    stream = bus.stream_for(AgentHeartbeat)

    await asyncio.gather(*(bus.publish(beat(n)) for n in range(250)))
    await received.wait_for(250)

    async with asyncio.timeout(5):  # guards against a hang only
        while (await redis_client.xpending(stream, "g"))["pending"]:  # noqa: ASYNC110 - Redis
            await asyncio.sleep(0.01)
    assert received.sequences == list(range(250))


async def test_a_slow_batch_is_acknowledged_before_the_consumer_claims(
    make_redis_bus: MakeRedisBus, redis_client: Any
) -> None:
    # Handling the batch takes longer than claim_min_idle_s: were its acknowledgements still
    # waiting for the next read when the consumer claims idle entries, it would claim (and
    # handle) its own handled entries again.
    bus = make_redis_bus(claim_min_idle_s=0.05)
    handled: list[int] = []

    async def slow(envelope: Envelope) -> None:
        await asyncio.sleep(0.04)
        assert isinstance(envelope.payload, AgentHeartbeat)
        handled.append(envelope.payload.sequence)

    await bus.subscribe(AgentHeartbeat, slow, group="slow")
    for n in range(4):
        await bus.publish(beat(n))
    await bus.start()
    await bus.stop()

    assert handled == [0, 1, 2, 3]
    assert (await redis_client.xpending(bus.stream_for(AgentHeartbeat), "slow"))["pending"] == 0
