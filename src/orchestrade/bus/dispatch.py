"""What every bus does alike: check targets, wrap payloads, call handlers in isolation."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from orchestrade.bus.errors import (
    BusNotRunningError,
    RequestTimeoutError,
    SubscriptionError,
    UnknownMessageTypeError,
)
from orchestrade.bus.protocol import DeliveryStats, Handler, Target
from orchestrade.domain import EVENT_TYPES, Envelope, Message, MessageId

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The wall clock, aware UTC: the default clock of a bus outside replay and tests."""
    return datetime.now(UTC)


def require_target(target: Target) -> str:
    """The routing key of a subscription target: ``type:<Name>`` or ``topic:<name>``."""
    if isinstance(target, str):
        return topic_key(target)
    if not isinstance(target, type) or EVENT_TYPES.get(target.__name__) is not target:
        raise UnknownMessageTypeError(f"{target!r} is not a registered message type")
    return f"type:{target.__name__}"


def topic_key(topic: str) -> str:
    """The routing key of a topic; a topic is non-empty text without whitespace."""
    if not isinstance(topic, str) or not topic or any(char.isspace() for char in topic):
        raise SubscriptionError(f"a topic must be non-empty text without spaces, got {topic!r}")
    return f"topic:{topic}"


def routing_keys(envelope: Envelope, topic: str | None) -> list[str]:
    """The keys an envelope is delivered to: its type, and its topic if given."""
    keys = [f"type:{envelope.type_name}"]
    if topic is not None:
        keys.append(topic_key(topic))
    return keys


def prepare(
    message: Message | Envelope,
    *,
    sender: str,
    priority: int | None,
    clock: Callable[[], datetime],
) -> Envelope:
    """`message` as an envelope to send: a payload is wrapped, an envelope kept as it is
    (except for an overriding `priority`)."""
    if isinstance(message, Envelope):
        if priority is not None and priority != message.priority:
            return dataclasses.replace(message, priority=priority)
        return message
    if EVENT_TYPES.get(type(message).__name__) is not type(message):
        raise UnknownMessageTypeError(f"{type(message).__name__} is not a registered message type")
    return Envelope.new(message, sender=sender, timestamp=clock(), priority=priority or 0)


async def deliver(
    handler: Handler, envelope: Envelope, stats: DeliveryStats, *, attempt: int = 0
) -> bool:
    """Call `handler`, retrying `envelope.retries` times; True when it succeeded.

    A failure is logged and counted, never raised: one failing subscriber must not stop the
    loop that feeds it, nor the other subscribers of the message. `attempt` is the first
    attempt's number (a caller that made the first attempt itself passes 1).
    """
    for number in range(attempt, envelope.retries + 1):
        try:
            await handler(envelope)
        except Exception:  # noqa: BLE001 - logged by log_failure
            # Boundary: a handler's bug belongs to the handler, not to the bus.
            log_failure(handler, envelope, number)
        else:
            stats.delivered += 1
            return True
    stats.failed += 1
    return False


def log_failure(handler: Handler, envelope: Envelope, attempt: int) -> None:
    """Log the exception being handled: `handler` failed on `envelope` at `attempt`."""
    log.exception(
        "handler %r failed on %s (attempt %d of %d)",
        handler,
        envelope.type_name,
        attempt + 1,
        envelope.retries + 1,
        extra={"message_id": envelope.message_id},
    )


class PendingReplies:
    """Requests waiting for their reply, matched by the reply's `causation_id`.

    Both buses use it: `wait` sends the request and awaits the reply or the timeout;
    `complete` hands a reply to its waiter; `fail_all` ends every wait when the bus stops.
    """

    def __init__(self, owner: str, stats: DeliveryStats) -> None:
        self._owner = owner
        self._stats = stats
        self._waiters: dict[MessageId, asyncio.Future[Envelope]] = {}

    async def wait(
        self, request: Envelope, send: Callable[[Envelope], Awaitable[object]], timeout_s: float
    ) -> Envelope:
        """Send `request` and return its reply.

        Raises:
            RequestTimeoutError: no reply within `timeout_s` seconds.
            BusNotRunningError: the bus stopped while waiting.
        """
        waiter: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._waiters[request.message_id] = waiter
        try:
            await send(request)
            return await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no reply to {request.type_name} {request.message_id} within {timeout_s}s"
            ) from None
        finally:
            self._waiters.pop(request.message_id, None)

    def complete(self, reply: Envelope) -> None:
        """Give `reply` to the request it answers; count and log it when none waits."""
        waiter = self._waiters.get(reply.causation_id) if reply.causation_id else None
        if waiter is None or waiter.done():
            self._stats.unmatched_replies += 1
            log.warning(
                "reply %s answers no pending request of %s",
                reply.type_name,
                self._owner,
                extra={"correlation_id": reply.correlation_id},
            )
            return
        waiter.set_result(reply)

    def fail_all(self) -> None:
        """End every wait with `BusNotRunningError` (the bus stopped)."""
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(BusNotRunningError(f"bus {self._owner} stopped"))
