"""The default bus: asyncio in one process, a bounded priority queue per subscriber group.

Delivery is driven by one *pump*, a loop callback scheduled when something is queued: it
hands each queued envelope to an idle subscriber by running the handler's coroutine itself
(`coroutine.send`), without a task. A handler that completes without waiting (almost all of
them: in-process handlers compute, write and publish) costs a function call instead of an
asyncio task switch, which made the bus several times cheaper per message (see
bench/bench_bus.py). A handler that does wait (a full queue, a request, a sleep) is handed
to a task that finishes it and then serves that subscription's queue until it is empty;
the pump goes on with the others meanwhile.

Order is the contract's: each subscription handles one message at a time, the most urgent
first and in publish order among equals; what handlers publish while the pump runs is
queued behind what is already waiting (breadth first, as the tasks of the old design ran).
`publish` returns before any handler runs, as before.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from datetime import datetime
from typing import Any

from orchestrade.bus.dispatch import (
    PendingReplies,
    deliver,
    log_failure,
    prepare,
    require_target,
    routing_keys,
    utc_now,
)
from orchestrade.bus.errors import (
    BusNotRunningError,
    QueueFullError,
    SubscriptionError,
)
from orchestrade.bus.protocol import (
    DEFAULT_MAXSIZE,
    DeliveryStats,
    Handler,
    Overflow,
    Target,
)
from orchestrade.domain import CorrelationId, Envelope, Message

log = logging.getLogger(__name__)

PUMP_TURN_S = 0.0005
"""How long the pump runs handlers before it lets the event loop's other callbacks in (the
API's requests in `orchestrade serve`). Measured with bench/bench_api.py under a paced
replay of 100 symbols: 2 ms turns made requests wait 5.2 ms at the median, 0.5 ms turns
3.6 ms; a replay alone yields 14% more often (each yield costs one pass of the loop)."""


class Quiescence:
    """Envelopes queued or being handled across several queues, and the waits for none.

    The bus's `wait_idle` runs three times per slice of a replay; one counter shared by all
    the bus's queues makes it a single check (and at most one future) instead of a walk
    over every queue with a join on each.
    """

    __slots__ = ("_waiters", "unfinished")

    def __init__(self) -> None:
        self.unfinished = 0
        self._waiters: list[asyncio.Future[None]] = []

    def finished(self, count: int = 1) -> None:
        """`count` envelopes were handled or discarded."""
        self.unfinished -= count
        if self.unfinished <= 0 and self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def wait(self) -> None:
        """Return once nothing is queued or being handled (at once when that is so now)."""
        while self.unfinished > 0:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter


class PriorityQueue:
    """A bounded queue of envelopes, most urgent first, FIFO among equal priorities.

    Unlike `asyncio.PriorityQueue` it knows how to make room by evicting (``DROP_OLDEST``) and
    never compares envelopes (ties break on an arrival counter). `quiescence`, when given,
    counts this queue's unfinished envelopes along with those of the other queues that share
    it.
    """

    def __init__(
        self, maxsize: int, overflow: Overflow, *, quiescence: Quiescence | None = None
    ) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise SubscriptionError(f"maxsize must be an int >= 1, got {maxsize!r}")
        self.maxsize = maxsize
        self.overflow = Overflow(overflow)
        self._quiescence = quiescence or Quiescence()
        self._heap: list[tuple[int, int, Envelope]] = []
        self._arrivals = itertools.count()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._unfinished = 0
        self._joiners: list[asyncio.Future[None]] = []
        """`join` calls waiting for the queue to go idle (no Event: most deliveries end with
        nobody joining, and setting an Event on each would cost more than the delivery)."""

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def unfinished(self) -> int:
        """Envelopes queued or being handled (got but not yet marked done)."""
        return self._unfinished

    async def put(self, envelope: Envelope) -> Envelope | None:
        """Queue `envelope` under the overflow policy; returns an evicted envelope, if any.

        Raises:
            QueueFullError: the queue is full and its policy is ``REJECT``.
        """
        while len(self._heap) >= self.maxsize:
            if self.overflow is Overflow.REJECT:
                raise QueueFullError(f"queue full ({self.maxsize} messages)")
            if self.overflow is Overflow.DROP_OLDEST:
                return self._evict_for(envelope)
            waiter = asyncio.get_running_loop().create_future()
            self._putters.append(waiter)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                if len(self._heap) < self.maxsize:
                    self._wake(self._putters)  # pass on a wake-up this waiter may have taken
                raise
        self._push(envelope)
        return None

    async def get(self) -> Envelope:
        """The most urgent envelope; waits while the queue is empty."""
        while not self._heap:
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                if self._heap:
                    self._wake(self._getters)
                raise
        _, _, envelope = heapq.heappop(self._heap)
        self._wake(self._putters)
        return envelope

    def pop_nowait(self) -> Envelope:
        """The most urgent envelope (the queue must not be empty); wakes a blocked putter."""
        _, _, envelope = heapq.heappop(self._heap)
        if self._putters:
            self._wake(self._putters)
        return envelope

    def task_done(self) -> None:
        """Mark one envelope from `get` as handled (for `join`)."""
        self._unfinished -= 1
        if not self._unfinished and self._joiners:
            self._release_joiners()
        self._quiescence.finished()

    async def join(self) -> None:
        """Wait until every queued envelope has been got and marked done."""
        if self._unfinished:
            joiner = asyncio.get_running_loop().create_future()
            self._joiners.append(joiner)
            await joiner

    def _release_joiners(self) -> None:
        joiners, self._joiners = self._joiners, []
        for joiner in joiners:
            if not joiner.done():
                joiner.set_result(None)

    def clear(self) -> int:
        """Discard what is queued; returns how many envelopes were discarded."""
        count = len(self._heap)
        self._heap.clear()
        self._unfinished -= count
        if self._unfinished <= 0:
            self._unfinished = 0
            self._release_joiners()
        self._quiescence.finished(count)
        while self._putters:
            self._wake(self._putters)
        return count

    def _push(self, envelope: Envelope) -> None:
        heapq.heappush(self._heap, (-envelope.priority, next(self._arrivals), envelope))
        self._unfinished += 1
        self._quiescence.unfinished += 1
        if self._getters:
            self._wake(self._getters)

    def _evict_for(self, envelope: Envelope) -> Envelope:
        # The least urgent entry has the largest (-priority, arrival) key among those with the
        # lowest priority, i.e. the smallest arrival among the largest -priority.
        worst = max(self._heap, key=lambda entry: (entry[0], -entry[1]))
        if -envelope.priority <= worst[0]:
            self._heap.remove(worst)
            heapq.heapify(self._heap)
            self._unfinished -= 1
            self._quiescence.unfinished -= 1  # the push below counts the newcomer again
            self._push(envelope)
            return worst[2]
        return envelope

    @staticmethod
    def _wake(waiters: deque[asyncio.Future[None]]) -> None:
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class _Group:
    """One queue shared by the subscriptions of one group on one routing key."""

    def __init__(self, key: str, name: str, queue: PriorityQueue) -> None:
        self.key = key
        self.name = name
        self.queue = queue
        self.members: list[MemorySubscription] = []
        self.stats = DeliveryStats()  # policy counters (dropped, rejected) of the queue

    def idle_member(self) -> MemorySubscription | None:
        """A started member that is handling nothing, or None."""
        for member in self.members:
            if member._ready:
                return member
        return None


class MemorySubscription:
    """A handler fed from its group's queue by the bus's pump, or by a task of its own while
    a handler that had to wait is finishing (see the module docstring)."""

    def __init__(self, bus: InMemoryBus, target: Target, group: _Group, handler: Handler) -> None:
        self._bus = bus
        self._target = target
        self._group = group
        self._handler = handler
        self._stats = DeliveryStats()
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._busy = False
        self._closing = False

    @property
    def target(self) -> Target:
        return self._target

    @property
    def group(self) -> str:
        return self._group.name

    @property
    def stats(self) -> DeliveryStats:
        """This handler's counters; queue-policy counters are those of its group."""
        total = DeliveryStats()
        total.add(self._stats)
        total.add(self._group.stats)
        return total

    @property
    def _ready(self) -> bool:
        """Started, not closing, handling nothing and with no task of its own."""
        return self._started and not (self._busy or self._closing) and self._task is None

    async def close(self) -> None:
        """Detach; when the group's last member leaves, its queued messages are dropped."""
        await self._bus._detach(self)

    def _start(self) -> None:
        self._started = True

    def _handle(self, envelope: Envelope) -> None:
        """Run the handler on `envelope` now, up to its first wait; a handler that waits is
        finished by a task, which then serves the group's queue until it is empty."""
        self._busy = True
        try:
            handled = self._handler(envelope)
            coroutine = handled if isinstance(handled, Coroutine) else _awaited(handled)
            waiting = coroutine.send(None)
        except StopIteration:
            self._stats.delivered += 1
            self._done()
            return
        except Exception:  # noqa: BLE001 - logged by log_failure
            # Boundary: a handler's bug belongs to the handler (see `deliver`).
            log_failure(self._handler, envelope, 0)
            if not envelope.retries:
                self._stats.failed += 1
                self._done()
                return
            retry = deliver(self._handler, envelope, self._stats, attempt=1)
            try:
                waiting = retry.send(None)
            except StopIteration:
                self._done()
                return
            except BaseException:
                self._done()
                raise
            self._continue(self._retried(retry, waiting))
            return
        except BaseException:
            self._done()
            raise
        self._continue(self._finish(coroutine, waiting, envelope))

    def _done(self) -> None:
        self._busy = False
        self._group.queue.task_done()

    def _continue(self, rest: Coroutine[Any, Any, None]) -> None:
        """Hand the rest of a delivery that waits to a task of this subscription."""
        self._task = asyncio.get_running_loop().create_task(
            self._serve(rest), name=f"bus-subscription-{self._group.key}-{self._group.name}"
        )

    async def _finish(
        self, coroutine: Coroutine[Any, Any, object], waiting: Any, envelope: Envelope
    ) -> None:
        """The first attempt, resumed where it waited; its failure is handled as `deliver`
        handles one (logged, retried, counted)."""
        try:
            await _resume(coroutine, waiting)
        except Exception:  # noqa: BLE001 - logged by log_failure
            log_failure(self._handler, envelope, 0)
            await deliver(self._handler, envelope, self._stats, attempt=1)
        else:
            self._stats.delivered += 1

    @staticmethod
    async def _retried(coroutine: Coroutine[Any, Any, object], waiting: Any) -> None:
        await _resume(coroutine, waiting)

    async def _serve(self, rest: Coroutine[Any, Any, None]) -> None:
        """Finish the delivery in progress, then serve the group's queue until it is empty."""
        queue = self._group.queue
        try:
            try:
                await rest
            finally:
                self._done()
            while len(queue) and not self._closing:
                envelope = queue.pop_nowait()
                self._busy = True
                try:
                    await deliver(self._handler, envelope, self._stats)
                finally:
                    self._done()
        finally:
            if self._task is asyncio.current_task():
                self._task = None
        if len(queue) and not self._closing:
            self._bus._wake(self._group)

    async def _cancel(self, *, graceful: bool = False) -> None:
        """End the task; `graceful` lets the message being handled finish first."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            if not (graceful and self._busy):
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _awaited(awaitable: Awaitable[None]) -> None:
    """A handler's awaitable that is not a coroutine, as one."""
    await awaitable


async def _resume(coroutine: Coroutine[Any, Any, object], waiting: Any) -> None:
    """Drive `coroutine`, which yielded `waiting` (what an awaited future yields to its task,
    or None for a bare yield), to its end inside the current task.

    The awaited future's outcome (result, exception, cancellation) reaches the coroutine
    through its own ``await``, which reads the future again when resumed; cancelling the
    current task cancels the future it waits for, as a task's cancellation does.
    """
    while True:
        if waiting is None:
            await asyncio.sleep(0)
        else:
            waiting._asyncio_future_blocking = False
            with suppress(BaseException):
                await waiting
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return


class InMemoryBus:
    """The `Bus` inside one asyncio process (see `orchestrade.bus.protocol` for the contract).

    Each group of subscriptions on a type or topic owns one bounded `PriorityQueue`.
    `publish` puts the envelope in the queue of every matching group (so with ``BLOCK`` a
    full queue makes the publisher wait) and schedules the pump, which hands queued
    envelopes to idle subscribers (see the module docstring).
    """

    def __init__(self, *, name: str | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        self._name = name or f"bus-{uuid.uuid4().hex[:12]}"
        self._clock = clock
        self._groups: defaultdict[str, dict[str, _Group]] = defaultdict(dict)
        self._subscriptions: list[MemorySubscription] = []
        self._stats = DeliveryStats()
        self._pending = PendingReplies(self._name, self._stats)
        self._ephemeral = itertools.count(1)
        self._running = False
        self._stopped = False
        self._waiting: deque[_Group] = deque()
        """One entry per envelope queued since the pump last ran: the group it went to."""
        self._pump_scheduled = False
        self._quiescence = Quiescence()
        """Unfinished envelopes over all the groups' queues (see `wait_idle`)."""

    @property
    def name(self) -> str:
        return self._name

    @property
    def stats(self) -> DeliveryStats:
        total = DeliveryStats()
        total.add(self._stats)
        for subscription in self._subscriptions:
            total.add(subscription._stats)
        for groups in self._groups.values():
            for group in groups.values():
                total.add(group.stats)
        return total

    async def start(self) -> None:
        if self._stopped:
            raise BusNotRunningError(f"bus {self._name} was stopped; build a new one")
        self._running = True
        for subscription in self._subscriptions:
            subscription._start()
        for groups in self._groups.values():
            for group in groups.values():
                for _ in range(len(group.queue)):
                    self._wake(group)

    async def stop(self, *, timeout_s: float | None = None) -> None:
        if self._stopped:
            return
        try:
            if self._running:
                await asyncio.wait_for(self._drain(), timeout_s)
        except TimeoutError:
            log.warning(
                "bus %s stop timed out after %ss; cancelling handlers", self._name, timeout_s
            )
        finally:
            self._stopped = True
            self._running = False
            for subscription in self._subscriptions:
                await subscription._cancel()
            for groups in self._groups.values():
                for group in groups.values():
                    group.stats.dropped += group.queue.clear()
            self._pending.fail_all()

    async def publish(
        self,
        message: Message | Envelope,
        *,
        topic: str | None = None,
        priority: int | None = None,
        sender: str | None = None,
    ) -> Envelope:
        if self._stopped:
            raise BusNotRunningError(f"bus {self._name} is stopped")
        envelope = prepare(
            message, sender=sender or self._name, priority=priority, clock=self._clock
        )
        if envelope.receiver is not None:
            self._complete(envelope)
            return envelope
        full: list[str] = []
        for key in routing_keys(envelope, topic):
            for group in self._groups.get(key, {}).values():
                queue = group.queue
                if len(queue._heap) < queue.maxsize:  # room: no policy, nothing to await
                    queue._push(envelope)
                    self._wake(group)
                    continue
                try:
                    evicted = await queue.put(envelope)
                except QueueFullError:
                    group.stats.rejected += 1
                    full.append(f"{key} group {group.name}")
                    continue
                if evicted is not None:
                    group.stats.dropped += 1
                if evicted is not envelope:
                    self._wake(group)
        if full:
            raise QueueFullError(
                f"{envelope.type_name} was rejected by full queue(s): {', '.join(full)}"
            )
        return envelope

    async def subscribe(
        self,
        target: Target,
        handler: Handler,
        *,
        group: str | None = None,
        consumer: str | None = None,  # part of the Bus protocol; only Redis names consumers
        maxsize: int = DEFAULT_MAXSIZE,
        overflow: Overflow = Overflow.BLOCK,
    ) -> MemorySubscription:
        if self._stopped:
            raise BusNotRunningError(f"bus {self._name} is stopped")
        key = require_target(target)
        overflow = Overflow(overflow)
        name = group if group is not None else f"{self._name}.{next(self._ephemeral)}"
        shared = self._groups[key].get(name)
        if shared is None:
            shared = _Group(
                key, name, PriorityQueue(maxsize, overflow, quiescence=self._quiescence)
            )
            self._groups[key][name] = shared
        elif (shared.queue.maxsize, shared.queue.overflow) != (maxsize, overflow):
            raise SubscriptionError(
                f"group {name!r} on {key} already uses maxsize={shared.queue.maxsize}, "
                f"overflow={shared.queue.overflow.value}"
            )
        subscription = MemorySubscription(self, target, shared, handler)
        shared.members.append(subscription)
        self._subscriptions.append(subscription)
        if self._running:
            subscription._start()
            for _ in range(len(shared.queue)):
                self._wake(shared)
        return subscription

    async def request(
        self,
        payload: Message,
        *,
        timeout_s: float,
        topic: str | None = None,
        priority: int = 0,
        correlation_id: CorrelationId | None = None,
    ) -> Envelope:
        if not self._running:
            raise BusNotRunningError(f"bus {self._name} is not running")
        envelope = Envelope.wrap(
            payload,
            sender=self._name,
            timestamp=self._clock(),
            correlation_id=correlation_id,
            priority=priority,
            timeout_s=timeout_s,
        )
        return await self._pending.wait(
            envelope, lambda request: self.publish(request, topic=topic), timeout_s
        )

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting for each consumer group, summed over the types and topics it
        listens to: how far behind each consumer is (a gauge for the metrics; the copies
        make it safe to call from another thread)."""
        depths: dict[str, int] = {}
        for groups in list(self._groups.values()):
            for name, group in list(groups.items()):
                depths[name] = depths.get(name, 0) + len(group.queue)
        return depths

    async def wait_idle(self) -> None:
        """Wait until every queue is empty and no handler is running, including what the
        handlers publish meanwhile: the bus is quiescent when this returns.

        Replay uses it to separate the phases of a simulated instant (orders sent at an
        open are filled and booked before the bar's range trades).
        """
        await self._drain()

    def _complete(self, reply: Envelope) -> None:
        self._pending.complete(reply)

    def _wake(self, group: _Group) -> None:
        """Note that `group` has one more envelope to hand out, and schedule the pump."""
        self._waiting.append(group)
        if not self._pump_scheduled and self._running:
            self._pump_scheduled = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _pump(self) -> None:
        """Hand every waiting envelope to an idle member of its group, oldest note first,
        including what the handlers publish meanwhile. A group whose members are all busy
        is skipped: the busy member's task serves its queue when it is done.

        After `PUMP_TURN_S` of handlers the pump lets the event loop run its other
        callbacks (sockets, timers: the API of the same process) and carries on after
        them, so no burst of messages holds the loop for long."""
        self._pump_scheduled = False
        waiting = self._waiting
        ends = time.perf_counter() + PUMP_TURN_S
        while waiting and self._running:
            group = waiting.popleft()
            queue = group.queue
            if not queue._heap:
                continue
            member = group.idle_member()
            if member is not None:
                member._handle(queue.pop_nowait())
                if time.perf_counter() > ends and waiting:
                    self._pump_scheduled = True
                    asyncio.get_running_loop().call_soon(self._pump)
                    return

    async def _drain(self) -> None:
        # One count over every queue: what handlers publish while we wait is counted before
        # the handler that published it is marked done, so zero means idle everywhere.
        await self._quiescence.wait()

    async def _detach(self, subscription: MemorySubscription) -> None:
        await subscription._cancel(graceful=True)
        group = subscription._group
        if subscription in group.members:
            group.members.remove(subscription)
        if not group.members and self._groups[group.key].get(group.name) is group:
            group.stats.dropped += group.queue.clear()
            del self._groups[group.key][group.name]
            # Keep the counters of a closed subscription in the bus totals.
            self._stats.add(group.stats)
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self._stats.add(subscription._stats)
