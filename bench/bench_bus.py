"""Bus throughput: messages per second from `publish` to a handler, in-process and over Redis.

Run alone: ``python bench/bench_bus.py`` (``make bench`` runs it with the others). One
subscriber; the clock runs from the first publish to the last handler call. Each message is a
bare `AgentHeartbeat` wrapped by the bus (new envelope, id and timestamp per message), so the
figures include wrapping and, for Redis, msgpack encoding, the XADD round trips, the
XREADGROUP reads, decoding and XACK. Two publishing patterns:

- ``1 publisher``: one task awaiting each `publish` before the next. On Redis every publish
  is one XADD round trip (a publish returns once Redis holds the entry), so this row is
  bound by the round-trip time.
- ``N publishers``: N tasks publishing at once (agents, bots, a feed emitting one bar per
  symbol); the Redis bus coalesces the XADDs that are pending together into one pipeline.

A third in-process row is the replay's pattern: one message to `FAN_OUT` subscribers (the
agents of a node), then `wait_idle`, repeated; its "messages" are deliveries.

The Redis rows need a server at ``ORCHESTRADE_BENCH_REDIS_URL`` (default
``redis://127.0.0.1:6379/0``); they are skipped when none answers. Keys go under a unique
prefix and are deleted afterwards.

Besides the wall-clock rate, each row gives the CPU time of this process per message (the
Redis server's own time not included): on a shared machine it varies much less than the
wall clock, so compare runs by it.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

from orchestrade.bus import Bus, InMemoryBus
from orchestrade.domain import AgentHeartbeat, AgentId, Envelope

REDIS_URL = os.environ.get("ORCHESTRADE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
T0 = datetime(2024, 1, 2, tzinfo=UTC)
PUBLISHERS = 64
FAN_OUT = 7


def main() -> None:
    """Print one row per bus and publishing pattern: messages, seconds, messages/s, and CPU
    microseconds per message."""
    rows = [
        ("in-process", 1, 100_000, asyncio.run(_run_memory(100_000, 1))),
        ("in-process", PUBLISHERS, 100_000, asyncio.run(_run_memory(100_000, PUBLISHERS))),
    ]
    rows.append(("in-process", 1, 20_000 * FAN_OUT, asyncio.run(_run_fan_out(20_000))))
    skipped = False
    for publishers, count in ((1, 20_000), (PUBLISHERS, 50_000)):
        timing = asyncio.run(_run_redis(count, publishers))
        if timing is None:
            skipped = True
            break
        rows.append(("redis", publishers, count, timing))
    print(
        f"{'bus':<12} {'publishers':>10} {'messages':>9} {'seconds':>8} {'messages/s':>11} "
        f"{'cpu us/msg':>10}"
    )
    for name, publishers, count, (seconds, cpu_seconds) in rows:
        print(
            f"{name:<12} {publishers:>10} {count:>9,} {seconds:>8.3f} {count / seconds:>11,.0f} "
            f"{cpu_seconds / count * 1e6:>10.1f}"
        )
    if skipped:
        print(f"(Redis rows skipped: no server at {REDIS_URL})")


async def _run_memory(count: int, publishers: int) -> tuple[float, float]:
    return await _measure(InMemoryBus(clock=lambda: T0), count, publishers)


async def _run_fan_out(count: int) -> tuple[float, float]:
    """`count` publishes to `FAN_OUT` subscribers, each followed by `wait_idle`."""
    bus = InMemoryBus(clock=lambda: T0)
    received = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal received
        received += 1

    for member in range(FAN_OUT):
        await bus.subscribe(AgentHeartbeat, handler, group=f"agent-{member}")
    await bus.start()
    messages = [AgentHeartbeat(AgentId("bench"), T0, sequence) for sequence in range(count)]
    started, cpu_started = time.perf_counter(), time.process_time()
    for message in messages:
        await bus.publish(message)
        await bus.wait_idle()
    timing = time.perf_counter() - started, time.process_time() - cpu_started
    await bus.stop()
    assert received == count * FAN_OUT
    return timing


async def _run_redis(count: int, publishers: int) -> tuple[float, float] | None:
    from redis.asyncio import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    from orchestrade.bus.redis_streams import RedisStreamsBus

    prefix = f"orchestrade-bench-{uuid.uuid4().hex[:8]}"
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        await client.aclose()
        return None
    try:
        bus = RedisStreamsBus(REDIS_URL, prefix=prefix, clock=lambda: T0, maxlen=count * 2)
        return await _measure(bus, count, publishers)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def _measure(bus: Bus, count: int, publishers: int) -> tuple[float, float]:
    """Wall-clock and process CPU seconds from the first publish to the last handler call."""
    done = asyncio.Event()
    received = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    async def publish(messages: list[AgentHeartbeat]) -> None:
        for message in messages:
            await bus.publish(message)

    await bus.subscribe(AgentHeartbeat, handler)
    await bus.start()
    messages = [AgentHeartbeat(AgentId("bench"), T0, sequence) for sequence in range(count)]
    shares = [messages[i::publishers] for i in range(publishers)]
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(publish(share) for share in shares))
    await done.wait()
    timing = time.perf_counter() - started, time.process_time() - cpu_started
    await bus.stop()
    return timing


if __name__ == "__main__":
    main()
