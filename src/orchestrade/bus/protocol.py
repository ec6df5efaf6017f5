"""The one `Bus` contract every implementation (in-process, Redis Streams) honours.

Routing is by message *type* (the event or command class, never a string) or by *topic* (a
free name such as ``"bars.krx"``). A message is delivered to every subscription of its exact
type and, when it is published with a topic, to every subscription of that topic as well.
Subscriptions that share a `group` on the same target compete for messages (each message goes
to one of them); different groups each get every message (fan-out).

Delivery contract, the same for both implementations:

- Each subscription handles its messages one at a time, in publish order among messages of
  equal priority; among messages waiting for it, a higher `Envelope.priority` goes first.
- A handler that raises is retried at once `Envelope.retries` times; if it still fails the
  failure is logged with its traceback, counted in `DeliveryStats.failed`, and the next
  message is delivered. One failing subscriber never stops the others.
- An envelope with a `receiver` is a direct message (a reply): it goes to the receiver's
  inbox, where it completes the `request` it answers (matched by `causation_id`), not to the
  type's subscribers.
- `stop()` is graceful: new messages are refused once it returns; before that, everything
  already published (including what handlers publish while draining) is handled. With
  `timeout_s`, handlers still running after the timeout are cancelled and what is left is
  counted as dropped (in-process) or stays unacknowledged in Redis for the group's next
  consumer.

Full queues (see `Overflow`) are a per-subscription policy on the in-process bus; the Redis
bus bounds each stream with ``MAXLEN ~`` instead (see `orchestrade.bus.redis_streams`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from orchestrade.domain import CorrelationId, Envelope, Message

Handler = Callable[[Envelope], Awaitable[None]]
"""A subscriber: receives the whole envelope (sender, correlation id, ...) of each message."""

Target = type[Message] | str
"""What a subscription listens to: a registered message class, or a topic name."""

DEFAULT_MAXSIZE = 1024
"""Default bound of an in-process subscription queue (messages)."""


class Overflow(StrEnum):
    """What `publish` does when a subscription's queue is full.

    - ``BLOCK``: the publisher waits for room (back-pressure). The default, and the right
      choice for trading messages (signals, orders, fills), which must never be lost.
    - ``DROP_OLDEST``: the least urgent queued message (lowest priority, oldest first) is
      discarded to make room, or the new one if it is the least urgent; for market-data-like
      streams where only the latest values matter. Counted in `DeliveryStats.dropped`.
    - ``REJECT``: the message is not queued for that subscription; `publish` still delivers
      it to the others, then raises `QueueFullError`. Counted in `DeliveryStats.rejected`.
    """

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    REJECT = "reject"


@dataclass(slots=True)
class DeliveryStats:
    """Counters of one subscription, or of a whole bus (the sum over its subscriptions).

    Attributes:
        delivered: messages whose handler returned normally.
        failed: messages whose handler raised on every attempt.
        dropped: messages discarded by ``DROP_OLDEST`` or left undelivered by a timed-out stop.
        rejected: messages refused by ``REJECT``.
        decode_errors: wire entries that were not a valid envelope (Redis only).
        dead_lettered: entries moved to the dead-letter stream (Redis only): undecodable ones
            and those whose handler failed on every attempt.
        unmatched_replies: direct messages that answered no pending request (late replies).
    """

    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    rejected: int = 0
    decode_errors: int = 0
    dead_lettered: int = 0
    unmatched_replies: int = 0

    def add(self, other: DeliveryStats) -> None:
        """Add `other`'s counters to these."""
        self.delivered += other.delivered
        self.failed += other.failed
        self.dropped += other.dropped
        self.rejected += other.rejected
        self.decode_errors += other.decode_errors
        self.dead_lettered += other.dead_lettered
        self.unmatched_replies += other.unmatched_replies


class Subscription(Protocol):
    """A handler attached to a type or topic, with its own counters."""

    @property
    def target(self) -> Target: ...

    @property
    def group(self) -> str:
        """The consumer group (a generated, private name unless one was given)."""
        ...

    @property
    def stats(self) -> DeliveryStats: ...

    async def close(self) -> None:
        """Detach the handler; the message being handled, if any, is finished first."""
        ...


class Bus(Protocol):
    """Publish/subscribe by type or topic, request/reply, priorities, bounded queues."""

    @property
    def name(self) -> str:
        """This bus's address: the sender of what it wraps and the inbox of its replies."""
        ...

    @property
    def stats(self) -> DeliveryStats:
        """Counters summed over every subscription, plus the bus's own (replies)."""
        ...

    async def start(self) -> None:
        """Start delivering. Messages published before `start` wait in their queues."""
        ...

    async def stop(self, *, timeout_s: float | None = None) -> None:
        """Drain, then stop (see the module docstring); idempotent."""
        ...

    async def publish(
        self,
        message: Message | Envelope,
        *,
        topic: str | None = None,
        priority: int | None = None,
        sender: str | None = None,
    ) -> Envelope:
        """Send a message; a bare event or command is wrapped in a new envelope.

        Args:
            message: the payload, or a complete envelope to send as it is.
            topic: also deliver to the subscriptions of this topic.
            priority: overrides the envelope's priority (larger is more urgent).
            sender: the sender of a wrapped payload (default: the bus name).

        Returns:
            The envelope as sent.

        Raises:
            UnknownMessageTypeError: the payload is not a registered event or command.
            QueueFullError: a ``REJECT`` subscription had no room (others still got the message).
            BusNotRunningError: the bus was stopped.
        """
        ...

    async def subscribe(
        self,
        target: Target,
        handler: Handler,
        *,
        group: str | None = None,
        consumer: str | None = None,
        maxsize: int = DEFAULT_MAXSIZE,
        overflow: Overflow = Overflow.BLOCK,
    ) -> Subscription:
        """Call `handler` for every message of `target` (a message class or a topic).

        Args:
            group: share messages with the other subscriptions of this group; a named group
                is durable on Redis (a restarted consumer resumes it).
            consumer: this consumer's name inside the group (Redis; default: the bus name).
            maxsize: bound of the in-process queue.
            overflow: what happens when that queue is full.

        Raises:
            UnknownMessageTypeError: `target` is a class that is not a registered message type.
            SubscriptionError: an empty topic, a bad `maxsize`, or a group already subscribed
                with other queue options.
        """
        ...

    async def wait_idle(self) -> None:
        """Wait until nothing published on this bus is still queued or being handled,
        including what the handlers publish meanwhile (across processes for Redis)."""
        ...

    async def request(
        self,
        payload: Message,
        *,
        timeout_s: float,
        topic: str | None = None,
        priority: int = 0,
        correlation_id: CorrelationId | None = None,
    ) -> Envelope:
        """Publish `payload` and wait for the first reply (an envelope made with
        `Envelope.reply`, published by whoever handles the request).

        Raises:
            RequestTimeoutError: no reply within `timeout_s` seconds.
            BusNotRunningError: the bus is not running, or stopped while waiting.
        """
        ...
