"""What every bus does alike: check targets, wrap payloads, call handlers in isolation."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from orchestrade.bus.errors import SubscriptionError, UnknownMessageTypeError
from orchestrade.bus.protocol import DeliveryStats, Handler, Target
from orchestrade.domain import EVENT_TYPES, Envelope, Message

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
    return Envelope.wrap(message, sender=sender, timestamp=clock(), priority=priority or 0)


async def deliver(handler: Handler, envelope: Envelope, stats: DeliveryStats) -> bool:
    """Call `handler`, retrying `envelope.retries` times; True when it succeeded.

    A failure is logged and counted, never raised: one failing subscriber must not stop the
    loop that feeds it, nor the other subscribers of the message.
    """
    for attempt in range(envelope.retries + 1):
        try:
            await handler(envelope)
        except Exception:
            # Boundary: a handler's bug belongs to the handler, not to the bus.
            log.exception(
                "handler %r failed on %s (attempt %d of %d)",
                handler,
                envelope.type_name,
                attempt + 1,
                envelope.retries + 1,
                extra={"message_id": envelope.message_id},
            )
        else:
            stats.delivered += 1
            return True
    stats.failed += 1
    return False
