"""Bus throughput: messages per second from `publish` to a handler, in-process and over Redis.

Run: ``python bench/bench_bus.py``. One subscriber, one publisher awaiting each `publish`;
the clock runs from the first publish to the last handler call. Each message is a bare
`AgentHeartbeat` wrapped by the bus (new envelope, id and timestamp per message), so the
figures include wrapping and, for Redis, msgpack encoding, one XADD round trip per publish,
batched XREADGROUP reads, decoding and XACK. The Redis row needs a server at
``ORCHESTRADE_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); it is skipped when none
answers. Keys go under a unique prefix and are deleted afterwards.
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


def main() -> None:
    """Print one row per bus: messages, seconds, messages/s."""
    rows = [("in-process", 100_000, asyncio.run(_run_memory(100_000)))]
    redis_seconds = asyncio.run(_run_redis(20_000))
    print(f"{'bus':<12} {'messages':>9} {'seconds':>8} {'messages/s':>11}")
    if redis_seconds is None:
        print(f"(Redis row skipped: no server at {REDIS_URL})")
    else:
        rows.append(("redis", 20_000, redis_seconds))
    for name, count, seconds in rows:
        print(f"{name:<12} {count:>9,} {seconds:>8.3f} {count / seconds:>11,.0f}")


async def _run_memory(count: int) -> float:
    return await _measure(InMemoryBus(clock=lambda: T0), count)


async def _run_redis(count: int) -> float | None:
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
        return await _measure(bus, count)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def _measure(bus: Bus, count: int) -> float:
    done = asyncio.Event()
    received = 0

    async def handler(envelope: Envelope) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    await bus.subscribe(AgentHeartbeat, handler)
    await bus.start()
    messages = [AgentHeartbeat(AgentId("bench"), T0, sequence) for sequence in range(count)]
    started = time.perf_counter()
    for message in messages:
        await bus.publish(message)
    await done.wait()
    seconds = time.perf_counter() - started
    await bus.stop()
    return seconds


if __name__ == "__main__":
    main()
