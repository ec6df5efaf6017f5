"""EventHub: the events people watch live, numbered across every bot of the process.

The hub listens on each trading node's bus for the events a person follows (signals,
orders, fills, positions, rejections, anomalies, bot states, agent health, rebalances),
numbers them in arrival order (`StreamEvent.event_id`, one sequence for every bot), and
keeps the latest `capacity` in a ring buffer, so that a dashboard that reconnects asks for
the events after the last id it saw (`events_after`) and waits for new ones
(`wait_for_event`).

It must never slow a node: its subscriptions drop their oldest message when full instead of
blocking the publisher (counted in `dropped`), its handler only appends to the buffer, and
readers (WebSocket clients) pull from the buffer at their own pace: a reader that falls more
than `capacity` events behind finds the oldest gone and learns how many it missed.

It also counts what the metrics report (`counts`): orders submitted, fills, risk rejections
by check and agent restarts, per bot. The hub lives on one event loop (the one of the nodes
it listens to): call it from that loop only.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestrade.bus import Bus, Overflow, Subscription
from orchestrade.domain import (
    AgentFailed,
    AgentHeartbeat,
    AgentRestarted,
    AnomalyDetected,
    BotId,
    BotStateChanged,
    CircuitBreakerTripped,
    Envelope,
    Message,
    OrderCancelled,
    OrderFilled,
    OrderSubmitted,
    PositionChanged,
    RebalanceApplied,
    RebalanceDue,
    RiskLimitsChanged,
    RiskRejected,
    SignalApproved,
    SignalGenerated,
)
from orchestrade.orchestration.control import StreamEvent
from orchestrade.orchestration.errors import OrchestrationError

STREAMED_EVENTS: tuple[type[Message], ...] = (
    SignalGenerated,
    SignalApproved,
    RiskRejected,
    OrderSubmitted,
    OrderFilled,
    OrderCancelled,
    PositionChanged,
    AnomalyDetected,
    CircuitBreakerTripped,
    BotStateChanged,
    RebalanceDue,
    RebalanceApplied,
    RiskLimitsChanged,
    AgentHeartbeat,
    AgentFailed,
    AgentRestarted,
)
"""The event types the hub keeps (market data and internal commands are not streamed)."""

STREAMED_TYPE_NAMES: frozenset[str] = frozenset(kind.__name__ for kind in STREAMED_EVENTS)
"""Their names, as stream frames and subscription filters spell them."""

DEFAULT_CAPACITY = 5000
"""Events the ring buffer keeps (a few minutes of a busy node, heartbeats included)."""

TAP_QUEUE_SIZE = 10_000
"""Bound of each hub subscription's queue on a node's bus (oldest dropped beyond it)."""

COUNTED_FILLS = 100_000
"""Fill ids remembered so that a fill published again (a node resuming) is counted once."""

HUB_GROUP = "event-hub"
"""The consumer group of the hub's subscriptions (the queue-depth metric names it)."""


class EventHubError(OrchestrationError, ValueError):
    """The hub was given an unusable setting (the message names it)."""


@dataclass(slots=True)
class StreamCounts:
    """What the hub has seen since it started, for the metrics (never reset).

    Attributes:
        events: every numbered event, by type name.
        orders_submitted: `OrderSubmitted` by bot.
        fills: distinct fills (`OrderFilled` by fill id) by bot.
        rejections: `RiskRejected` by (bot, the check that refused).
        agent_restarts: `AgentRestarted` by (bot, agent id).
    """

    events: Counter[str] = field(default_factory=Counter)
    orders_submitted: Counter[str] = field(default_factory=Counter)
    fills: Counter[str] = field(default_factory=Counter)
    rejections: Counter[tuple[str, str]] = field(default_factory=Counter)
    agent_restarts: Counter[tuple[str, str]] = field(default_factory=Counter)


class EventHub:
    """Numbers and buffers the streamed events of every attached bus (module docstring).

    Args:
        capacity: events kept for readers (the oldest go first).
        clock: aware UTC now, the `at` of events recorded without an envelope.
    """

    def __init__(
        self, *, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], datetime] | None = None
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise EventHubError(f"capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self._clock = clock if clock is not None else _utc_now
        self._buffer: deque[StreamEvent] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._last_id = 0
        self._arrival = asyncio.Event()
        self._taps: dict[BotId, list[Subscription]] = {}
        self._dropped_detached = 0
        self._counted_fills: OrderedDict[str, None] = OrderedDict()
        self.counts = StreamCounts()

    # -- listening -------------------------------------------------------------------------

    async def attach(self, bus: Bus, bot_id: BotId) -> None:
        """Listen to `bus`, whose events all belong to `bot_id` (one node per bot).

        Subscribe before the bus starts to miss nothing; the subscriptions end with the bus
        (call `detach` then, to keep their drop counts and forget them).
        """
        subscriptions = self._taps.setdefault(bot_id, [])

        async def on_event(envelope: Envelope) -> None:
            self.record(envelope.payload, bot_id=bot_id, at=envelope.timestamp)

        for event_type in STREAMED_EVENTS:
            subscriptions.append(
                await bus.subscribe(
                    event_type,
                    on_event,
                    group=HUB_GROUP,
                    maxsize=TAP_QUEUE_SIZE,
                    overflow=Overflow.DROP_OLDEST,
                )
            )

    def detach(self, bot_id: BotId) -> None:
        """Forget the subscriptions of `bot_id`'s bus (after it stopped), keeping their
        drop counts in `dropped`."""
        for subscription in self._taps.pop(bot_id, []):
            self._dropped_detached += subscription.stats.dropped

    @property
    def dropped(self) -> int:
        """Events the hub's subscriptions dropped because they were full (never numbered);
        safe to read from another thread (the metrics route)."""
        live = sum(sub.stats.dropped for subs in list(self._taps.values()) for sub in list(subs))
        return self._dropped_detached + live

    # -- recording -------------------------------------------------------------------------

    def record(
        self, message: Message, *, bot_id: BotId | None, at: datetime | None = None
    ) -> StreamEvent:
        """Number `message` and keep it (events that no bus carried, e.g. a bot that the
        supervisor stopped after its node ended, come in here too)."""
        event_id = next(self._ids)
        event = StreamEvent(
            event_id=event_id,
            at=at if at is not None else self._clock(),
            bot_id=bot_id,
            type_name=type(message).__name__,
            payload=message,
        )
        self._buffer.append(event)
        self._last_id = event_id
        self._count(bot_id, message)
        arrival, self._arrival = self._arrival, asyncio.Event()
        arrival.set()
        return event

    def _count(self, bot_id: BotId | None, message: Message) -> None:
        counts = self.counts
        counts.events[type(message).__name__] += 1
        bot = bot_id or ""
        if isinstance(message, OrderSubmitted):
            counts.orders_submitted[bot] += 1
        elif isinstance(message, OrderFilled):
            # A node that starts again republishes its recorded fills for its ledgers:
            # each fill counts once.
            fill_id = message.fill.fill_id
            if fill_id not in self._counted_fills:
                self._counted_fills[fill_id] = None
                if len(self._counted_fills) > COUNTED_FILLS:
                    self._counted_fills.popitem(last=False)
                counts.fills[bot] += 1
        elif isinstance(message, RiskRejected):
            counts.rejections[(bot, message.check)] += 1
        elif isinstance(message, AgentRestarted):
            counts.agent_restarts[(bot, message.agent_id)] += 1

    # -- reading ---------------------------------------------------------------------------

    @property
    def last_id(self) -> int:
        """The id of the newest event (0 before the first)."""
        return self._last_id

    @property
    def oldest_id(self) -> int:
        """The id of the oldest event still kept (`last_id + 1` when none is kept)."""
        return self._buffer[0].event_id if self._buffer else self._last_id + 1

    def events_after(self, event_id: int, *, limit: int = 1000) -> Sequence[StreamEvent]:
        """Up to `limit` kept events with an id above `event_id`, oldest first (from the
        oldest kept when those right after `event_id` are gone)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise EventHubError(f"limit must be an integer >= 1, got {limit!r}")
        buffer = self._buffer
        if not buffer or event_id >= self._last_id:
            return []
        # The kept ids are consecutive, so an id gives a position. Slicing a deque walks it
        # from an end: from the newest one when the slice is nearer it (a live reader wants
        # the newest few), rather than past thousands of older events at every call.
        start = max(0, event_id + 1 - buffer[0].event_id)
        stop = min(len(buffer), start + limit)
        if start < len(buffer) - stop:
            return list(itertools.islice(buffer, start, stop))
        newest_first = list(
            itertools.islice(reversed(buffer), len(buffer) - stop, len(buffer) - start)
        )
        newest_first.reverse()
        return newest_first

    async def wait_for_event(self, after_id: int, timeout_s: float) -> bool:
        """Wait until an event with an id above `after_id` exists (True) or `timeout_s`
        seconds pass (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._last_id <= after_id:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._arrival.wait(), remaining)
            except TimeoutError:
                return self._last_id > after_id
        return True


def _utc_now() -> datetime:
    return datetime.now(UTC)
