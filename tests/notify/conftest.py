"""Notification fixtures: anyio on asyncio, the local stand-in server, a recording sleep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notify.local_server import LocalHttpServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    stand_in = LocalHttpServer()
    try:
        yield stand_in
    finally:
        stand_in.close()


class RecordingSleep:
    """Backoff waits return at once; the delays asked for are kept (deterministic tests)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()
