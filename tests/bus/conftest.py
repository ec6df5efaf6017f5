"""Bus fixtures: an async test runner (anyio on asyncio), the real Redis, fresh buses."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bus.support import BusMaker, fixed_clock
from orchestrade.bus import Bus, InMemoryBus

BACKENDS = ["memory", "redis"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Any]:
    """A raw async client for poking at streams, closed afterwards."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; every key under it is deleted afterwards."""
    import redis

    prefix = f"orchestrade-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=BACKENDS)
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusMaker]:
    """Builds fresh, unstarted buses of one backend (all stopped afterwards).

    Redis buses share one test prefix, poll fast (20 ms) and claim idle entries after 50 ms;
    keyword options are passed to `RedisStreamsBus` only.
    """
    created: list[Bus] = []
    if request.param == "memory":

        def make(name: str | None = None, **_redis_options: Any) -> Bus:
            bus = InMemoryBus(name=name, clock=fixed_clock)
            created.append(bus)
            return bus

    else:
        from orchestrade.bus.redis_streams import RedisStreamsBus

        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")

        def make(name: str | None = None, **redis_options: Any) -> Bus:
            options: dict[str, Any] = {"block_s": 0.02, "claim_min_idle_s": 0.05}
            options.update(redis_options)
            bus = RedisStreamsBus(url, prefix=prefix, name=name, clock=fixed_clock, **options)
            created.append(bus)
            return bus

    try:
        yield make
    finally:
        for bus in created:
            await bus.stop(timeout_s=2)


@pytest.fixture
def bus(make_bus: BusMaker) -> Bus:
    """One fresh, unstarted bus of the backend under test."""
    return make_bus()
