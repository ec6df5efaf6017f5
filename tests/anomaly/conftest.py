"""Anomaly fixtures: anyio on asyncio, fake time, an in-process bus on that time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agents.support import FakeTime
from orchestrade.bus import InMemoryBus


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def bus(time: FakeTime) -> AsyncIterator[InMemoryBus]:
    bus = InMemoryBus(name="anomaly-bus", clock=time.clock)
    await bus.start()
    yield bus
    await bus.stop(timeout_s=1.0)
