"""A bus from its URL: ``memory`` (the agents of one process) or ``redis://host:port/db``
(Redis Streams: a node's agents may then run in several processes)."""

from __future__ import annotations

from contextlib import suppress

from orchestrade.bus.errors import BusError
from orchestrade.bus.memory import InMemoryBus
from orchestrade.bus.protocol import Bus

MEMORY = "memory"
BUS_URL_HELP = "memory (one process) or a redis://host:port/db URL."


class BusUrlError(BusError, ValueError):
    """The bus URL is neither ``memory`` nor a Redis URL."""


def check_bus_url(url: str) -> str:
    """`url` when it names a bus this build can open.

    Raises:
        BusUrlError: it does not (the message quotes it).
    """
    if url == MEMORY or url.startswith(("redis://", "rediss://", "unix://")):
        return url
    raise BusUrlError(f"--bus must be memory or redis://..., got {url!r}")


async def open_bus(url: str, *, namespace: str, name: str) -> Bus:
    """The bus of `url`: an `InMemoryBus` named `name`, or a Redis Streams bus whose streams
    are prefixed ``orchestrade:<namespace>`` (the processes of one node share it) and whose
    consumer is `name` (unique per process), checked to answer.

    Raises:
        BusUrlError: `url` names no bus (`check_bus_url`).
        BusError: the Redis server cannot be reached (the message names it and the cause).
    """
    if check_bus_url(url) == MEMORY:
        return InMemoryBus(name=name)
    from orchestrade.bus.redis_streams import RedisStreamsBus  # only a Redis bus needs redis

    bus = RedisStreamsBus(url, prefix=f"orchestrade:{namespace}", name=name)
    try:
        await bus.ping()  # a clear error now rather than a traceback from the first publish
    except BusError:
        with suppress(Exception):  # best effort: release the clients of a bus never used
            await bus.stop(timeout_s=0)
        raise
    return bus
