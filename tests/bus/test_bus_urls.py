"""`open_bus`: a bus from its URL, and a clear error for one it cannot open."""

from __future__ import annotations

import re
import uuid

import pytest

from orchestrade.bus import BusError, InMemoryBus
from orchestrade.bus.redis_streams import RedisStreamsBus
from orchestrade.bus.urls import BusUrlError, check_bus_url, open_bus

pytestmark = pytest.mark.anyio


async def test_memory_is_an_in_process_bus() -> None:
    bus = await open_bus("memory", namespace="bot-1", name="node-a")

    assert isinstance(bus, InMemoryBus)
    assert bus.name == "node-a"


async def test_a_redis_url_is_a_streams_bus_under_the_namespace(redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"

    bus = await open_bus(redis_url, namespace=namespace, name="node-a")
    try:
        assert isinstance(bus, RedisStreamsBus)
        assert bus.inbox_stream.startswith(f"orchestrade:{namespace}")
    finally:
        await bus.stop()


@pytest.mark.parametrize("url", ["kafka://x", "", "Memory", "http://127.0.0.1:6379"])
async def test_a_url_of_no_bus_is_refused_naming_it(url: str) -> None:
    with pytest.raises(BusUrlError, match="--bus must be memory or redis://"):
        await open_bus(url, namespace="bot-1", name="node-a")
    with pytest.raises(BusUrlError, match=re.escape(repr(url))):
        check_bus_url(url)


async def test_a_redis_server_that_does_not_answer_is_a_bus_error_naming_it() -> None:
    with pytest.raises(BusError, match=re.escape("cannot reach Redis at 127.0.0.1:9")):
        await open_bus("redis://127.0.0.1:9/0", namespace="bot-1", name="node-a")
