"""The `Bus` over Redis Streams, for agents that run in several processes or on several hosts.

Layout under a configurable key prefix ``P`` (one Redis database can hold many systems):

- ``P:type:<TypeName>``: one stream per message type; ``P:topic:<topic>``: one per topic. A
  message published with a topic is appended to both its type's stream and the topic's.
- ``P:inbox:<bus name>``: the replies to the requests of one bus (a plain stream read with
  XREAD, expiring after ``reply_ttl_s`` without writes, deleted when the bus stops).
- ``P:dead``: dead letters: entries that are not a valid envelope (malformed bytes, unknown
  type) and messages whose handler failed on every attempt, with the reason and the bytes.

Every entry holds one field, ``envelope``: the envelope encoded by the bus codec (msgpack by
default), so events cross Redis unchanged. Each subscription is a consumer in a consumer group
(a private, generated group unless one is named; private groups are destroyed when the bus
stops, named ones are durable). A message is acknowledged (XACK) after its handler has
returned or has been dead-lettered, so delivery is at-least-once: a consumer that dies before
acknowledging leaves the entry pending, and it is redelivered when the consumer restarts under
the same name (it first re-reads its own pending entries) or, after ``claim_min_idle_s``, to
any other consumer of the group (XAUTOCLAIM). Handlers must therefore be idempotent.

Back-pressure: streams are capped with ``XADD MAXLEN ~ maxlen`` (approximate trimming, at the
granularity of a stream node, by default 100 entries), so publishers never block and Redis
memory stays bounded; a consumer that falls more than ``maxlen`` entries behind loses the
oldest ones (the ``DROP_OLDEST`` policy, applied per stream). The in-process `Overflow`
options of `subscribe` are accepted for portability and validated, but the stream cap is the
one bound. Priority orders the entries read together in one batch (up to ``batch_size``).

Round trips. `publish` returns once Redis holds the entry (one XADD round trip for a lone
publisher); publishes that are pending at the same time (several agents or bots publishing
at once, a feed emitting one bar per symbol) are written together in one pipeline, in the
order they were made, while the previous pipeline is in flight (publishes have a connection
of their own, so an XADD needs no pool checkout). A consumer reads up to
``batch_size`` entries per XREADGROUP and acknowledges a handled batch with one XACK sent in
the same pipeline as its next read (before any claim, and when it stops), so a busy stream
costs about one round trip per batch on the consuming side.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as redis_asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from orchestrade.bus.codec import Codec, MsgpackCodec
from orchestrade.bus.dispatch import (
    PendingReplies,
    deliver,
    prepare,
    require_target,
    routing_keys,
    utc_now,
)
from orchestrade.bus.errors import (
    BusError,
    BusNotRunningError,
    MessageDecodeError,
    SubscriptionError,
)
from orchestrade.bus.protocol import DEFAULT_MAXSIZE, DeliveryStats, Handler, Overflow, Target
from orchestrade.domain import CorrelationId, Envelope, Message

log = logging.getLogger(__name__)

ENVELOPE_FIELD = b"envelope"
"""The stream entry field that holds the encoded envelope."""

_Entry = tuple[bytes, dict[bytes, bytes] | None]
_MAX_PIPELINE = 1_000  # commands per pipeline of coalesced publishes


class RedisSubscription:
    """One consumer of one consumer group, fed by a task that reads its stream."""

    def __init__(
        self,
        bus: RedisStreamsBus,
        target: Target,
        *,
        stream: str,
        group: str,
        consumer: str,
        private: bool,
        handler: Handler,
    ) -> None:
        self._bus = bus
        self._target = target
        self.stream = stream
        self._group = group
        self.consumer = consumer
        self.private = private
        self._handler = handler
        self._stats = DeliveryStats()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._acks: list[bytes] = []  # handled entries, acknowledged with the next read
        self.idle_since: int | None = None

    @property
    def target(self) -> Target:
        return self._target

    @property
    def group(self) -> str:
        return self._group

    @property
    def stats(self) -> DeliveryStats:
        return self._stats

    async def close(self) -> None:
        """Stop reading after handling what is already in the stream for this consumer."""
        self._closing = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.private:
            await self._bus._client.xgroup_destroy(self.stream, self._group)
        self._bus._forget(self)

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"bus-subscription-{self.stream}-{self._group}"
            )

    async def _run(self) -> None:
        bus = self._bus
        loop = asyncio.get_running_loop()
        read_id: bytes | str = "0"  # first this consumer's own pending entries (a restart)
        next_claim = loop.time()
        while not bus._drained:
            activity = bus._activity
            try:
                if loop.time() >= next_claim:
                    await self._acknowledge()  # never claim back what we handled
                    await self._claim()
                    next_claim = loop.time() + bus._claim_every_s
                reply = await self._read(read_id)
            except RedisConnectionError:
                if bus._stopping:
                    raise
                log.warning("redis connection lost reading %s; retrying", self.stream)
                await asyncio.sleep(bus._block_ms / 1000)
                continue
            entries: list[_Entry] = reply[0][1] if reply else []
            if read_id != ">":
                if not entries:
                    read_id = ">"
                    continue
                read_id = entries[-1][0]
            elif not entries:
                # Nothing new since `activity` (and every ack sent with this read): stop()
                # waits until every consumer says so.
                self.idle_since = activity
                if self._closing:
                    break
                continue
            self.idle_since = None
            await self._handle(entries)
            bus._activity += 1
        await self._acknowledge()

    async def _read(self, read_id: bytes | str) -> Any:
        """XREADGROUP from `read_id`, preceded in the same pipeline by the pending XACK."""
        bus = self._bus
        block = bus._block_ms if read_id == ">" else None
        streams: dict[Any, Any] = {self.stream: read_id}
        if not self._acks:
            return await bus._client.xreadgroup(
                self._group, self.consumer, streams, count=bus._batch_size, block=block
            )
        async with bus._client.pipeline(transaction=False) as pipe:
            pipe.xack(self.stream, self._group, *self._acks)
            pipe.xreadgroup(self._group, self.consumer, streams, count=bus._batch_size, block=block)
            _, reply = await pipe.execute()
        self._acks.clear()  # kept on a connection error: XACK is idempotent
        return reply

    async def _acknowledge(self) -> None:
        if self._acks:
            await self._bus._client.xack(self.stream, self._group, *self._acks)
            self._acks.clear()

    async def _claim(self) -> None:
        """Take over entries other consumers of the group read but never acknowledged."""
        bus = self._bus
        start: bytes | str = "0-0"
        while True:
            result = await bus._client.xautoclaim(
                self.stream,
                self._group,
                self.consumer,
                min_idle_time=bus._claim_min_idle_ms,
                start_id=start,
                count=bus._batch_size,
            )
            start, entries = result[0], result[1]
            if entries:
                log.info("claimed %d unacknowledged entries of %s", len(entries), self.stream)
                await self._handle(entries)
            if start in (b"0-0", "0-0"):
                return

    async def _handle(self, entries: Sequence[_Entry]) -> None:
        """Deliver a batch; its entry ids join the acknowledgements of the next read."""
        bus = self._bus
        acknowledged = self._acks
        envelopes: list[tuple[bytes, Envelope]] = []
        for entry_id, fields in entries:
            data = fields.get(ENVELOPE_FIELD) if fields else None
            if not fields:
                # A pending entry that MAXLEN trimmed away before it could be redelivered.
                self._stats.dropped += 1
                acknowledged.append(entry_id)
                continue
            try:
                if data is None:
                    raise MessageDecodeError(f"entry has no {ENVELOPE_FIELD.decode()!r} field")
                envelopes.append((entry_id, bus._codec.decode(data)))
            except MessageDecodeError as error:
                self._stats.decode_errors += 1
                log.warning("undecodable entry %r on %s: %s", entry_id, self.stream, error)
                await self._dead_letter(entry_id, data or b"", f"decode: {error}")
                acknowledged.append(entry_id)
        envelopes.sort(key=lambda item: -item[1].priority)  # stable: stream order among equals
        for entry_id, envelope in envelopes:
            if not await deliver(self._handler, envelope, self._stats):
                await self._dead_letter(entry_id, bus._codec.encode(envelope), "handler failed")
            acknowledged.append(entry_id)

    async def _dead_letter(self, entry_id: bytes, data: bytes, reason: str) -> None:
        bus = self._bus
        await bus._client.xadd(
            bus.dead_letter_stream,
            {
                b"stream": self.stream,
                b"group": self._group,
                b"entry_id": entry_id,
                b"reason": reason,
                ENVELOPE_FIELD: data,
            },
            maxlen=bus._maxlen,
            approximate=True,
        )
        self._stats.dead_lettered += 1


@dataclass(slots=True)
class _Append:
    """One publish waiting to be written: XADD `fields` to each key, then PEXPIRE the first
    key when `expire_ms` is set (a reply inbox)."""

    keys: list[str]
    fields: dict[Any, Any]
    expire_ms: int | None
    done: asyncio.Future[None]

    @property
    def n_commands(self) -> int:
        return len(self.keys) + (self.expire_ms is not None)


class _Appender:
    """Writes publishes to their streams, one write in flight at a time, in publish order.

    A lone publish is written at once (one round trip). Publishes made while a write is in
    flight queue up and go out together, up to `max_batch` per pipeline, when it completes;
    each publisher is released (or gets the error of its own commands) when Redis answered.
    """

    def __init__(self, client: redis_asyncio.Redis, owner: str, maxlen: int, max_batch: int):
        self._client = client
        self._owner = owner
        self._maxlen = maxlen
        self._max_batch = max_batch
        self._queue: deque[_Append] = deque()
        self._busy = False
        self._task: asyncio.Task[None] | None = None

    async def append(self, keys: list[str], fields: dict[Any, Any], expire_ms: int | None) -> None:
        if self._busy:
            done = asyncio.get_running_loop().create_future()
            self._queue.append(_Append(keys, fields, expire_ms, done))
            await done
            return
        self._busy = True
        try:
            if len(keys) == 1 and expire_ms is None:
                await self._client.xadd(keys[0], fields, maxlen=self._maxlen, approximate=True)
            else:
                async with self._client.pipeline(transaction=False) as pipe:
                    self._queue_commands(pipe, keys, fields, expire_ms)
                    await pipe.execute()
        finally:
            self._continue()

    async def wait_idle(self) -> None:
        """Return once every queued publish has been written (or has failed)."""
        while self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def _continue(self) -> None:
        if self._queue:
            self._task = asyncio.get_running_loop().create_task(
                self._write_queue(), name=f"bus-appender-{self._owner}"
            )
        else:
            self._busy = False

    async def _write_queue(self) -> None:
        try:
            while self._queue:
                batch = [self._queue.popleft()]
                size = batch[0].n_commands
                while self._queue and size < self._max_batch:
                    size += self._queue[0].n_commands
                    batch.append(self._queue.popleft())
                await self._write(batch)
        finally:
            self._task = None
            self._busy = False
            stopped = BusNotRunningError(f"bus {self._owner} stopped before writing the message")
            while self._queue:
                item = self._queue.popleft()
                if not item.done.done():
                    item.done.set_exception(stopped)

    async def _write(self, batch: list[_Append]) -> None:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for item in batch:
                    self._queue_commands(pipe, item.keys, item.fields, item.expire_ms)
                results = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for item in batch:
                item.done.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - each publisher gets its own error
            self._fail(batch, error)
            return
        position = 0
        for item in batch:
            own = results[position : position + item.n_commands]
            position += item.n_commands
            if item.done.done():  # the publisher was cancelled meanwhile
                continue
            errors = [result for result in own if isinstance(result, Exception)]
            if errors:
                item.done.set_exception(errors[0])
            else:
                item.done.set_result(None)

    def _queue_commands(
        self, pipe: Any, keys: list[str], fields: dict[Any, Any], expire_ms: int | None
    ) -> None:
        for key in keys:
            pipe.xadd(key, fields, maxlen=self._maxlen, approximate=True)
        if expire_ms is not None:
            pipe.pexpire(keys[0], expire_ms)

    @staticmethod
    def _fail(batch: list[_Append], error: BaseException) -> None:
        for item in batch:
            if not item.done.done():
                item.done.set_exception(error)


class RedisStreamsBus:
    """The `Bus` over Redis Streams (see the module docstring for the layout and policies).

    Args:
        url: the Redis server, e.g. ``redis://127.0.0.1:6379/0``.
        prefix: the first part of every key this bus touches.
        name: this bus's address (request sender, reply inbox, default consumer name); keep it
            stable across restarts for a consumer to resume its own pending entries.
        codec: how envelopes become bytes (msgpack by default).
        clock: the time source stamped on wrapped payloads.
        maxlen: the approximate cap of every stream (entries).
        batch_size: entries read per XREADGROUP.
        block_s: how long one read waits for new entries; it bounds how fast `stop` returns.
        claim_min_idle_s: how long an entry stays unacknowledged before another consumer of
            the group takes it over.
        reply_ttl_s: how long an inbox without writes lives (a crashed requester's replies).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "orchestrade",
        name: str | None = None,
        codec: Codec | None = None,
        clock: Callable[[], datetime] = utc_now,
        maxlen: int = 100_000,
        batch_size: int = 100,
        block_s: float = 0.1,
        claim_min_idle_s: float = 30.0,
        reply_ttl_s: float = 3600.0,
    ) -> None:
        if not prefix or any(char.isspace() for char in prefix):
            raise SubscriptionError(f"prefix must be non-empty text without spaces: {prefix!r}")
        for label, value in (("maxlen", maxlen), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SubscriptionError(f"{label} must be an int >= 1, got {value!r}")
        for label, seconds in (
            ("block_s", block_s),
            ("claim_min_idle_s", claim_min_idle_s),
            ("reply_ttl_s", reply_ttl_s),
        ):
            if not seconds > 0:
                raise SubscriptionError(f"{label} must be > 0, got {seconds!r}")
        self._client: redis_asyncio.Redis = redis_asyncio.Redis.from_url(url)
        parts = urlsplit(url)
        self._where = f"{parts.hostname or '?'}:{parts.port or 6379}"  # never the password
        self._prefix = prefix
        self._name = name or f"bus-{uuid.uuid4().hex[:12]}"
        self._codec: Codec = codec or MsgpackCodec()
        self._clock = clock
        self._maxlen = maxlen
        self._batch_size = batch_size
        self._block_ms = max(1, round(block_s * 1000))
        self._claim_min_idle_ms = max(1, round(claim_min_idle_s * 1000))
        self._claim_every_s = claim_min_idle_s / 2
        self._reply_ttl_ms = max(1, round(reply_ttl_s * 1000))
        # Publishes get a connection of their own: no pool checkout per XADD.
        self._publisher: redis_asyncio.Redis = redis_asyncio.Redis.from_url(
            url, single_connection_client=True
        )
        self._appender = _Appender(self._publisher, self._name, maxlen, _MAX_PIPELINE)
        self._subscriptions: list[RedisSubscription] = []
        self._closed_stats = DeliveryStats()
        self._stats = DeliveryStats()
        self._pending = PendingReplies(self._name, self._stats)
        self._inbox_task: asyncio.Task[None] | None = None
        self._ephemeral = itertools.count(1)
        self._running = False
        self._stopping = False
        self._drained = False
        self._activity = 0  # batches handled so far, by every subscription of this bus
        self._stopped = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def inbox_stream(self) -> str:
        """The stream where replies to this bus's requests arrive."""
        return self._inbox(self._name)

    @property
    def dead_letter_stream(self) -> str:
        return f"{self._prefix}:dead"

    def stream_for(self, target: Target) -> str:
        """The Redis key of the stream that carries `target` (a message class or topic)."""
        return f"{self._prefix}:{require_target(target)}"

    @property
    def stats(self) -> DeliveryStats:
        total = DeliveryStats()
        total.add(self._stats)
        total.add(self._closed_stats)
        for subscription in self._subscriptions:
            total.add(subscription.stats)
        return total

    async def start(self) -> None:
        if self._stopped:
            raise BusNotRunningError(f"bus {self._name} was stopped; build a new one")
        if self._running:
            return
        self._running = True
        for subscription in self._subscriptions:
            subscription._start()
        self._inbox_task = asyncio.get_running_loop().create_task(
            self._read_inbox(), name=f"bus-inbox-{self._name}"
        )

    async def stop(self, *, timeout_s: float | None = None) -> None:
        if self._stopped:
            return
        self._stopping = True
        try:
            tasks = [s._task for s in self._subscriptions if s._task is not None]
            if self._inbox_task is not None:
                tasks.append(self._inbox_task)
            # Consumers notice `_drained` within one blocking read; after a timeout, at once.
            grace_s = 2 * self._block_ms / 1000 + 1
            try:
                await asyncio.wait_for(self._drain(), timeout_s)
            except TimeoutError:
                log.warning("bus %r stop timed out; unacknowledged entries stay pending", self)
                grace_s = 0
            self._drained = True
            if tasks:
                done, late = await asyncio.wait(tasks, timeout=grace_s)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        log.error("bus task %s ended with %r", task.get_name(), task.exception())
            self._pending.fail_all()
            await self._appender.wait_idle()
            async with self._client.pipeline(transaction=False) as pipe:
                for subscription in self._subscriptions:
                    if subscription.private:
                        pipe.xgroup_destroy(subscription.stream, subscription.group)
                pipe.delete(self.inbox_stream)
                await pipe.execute()
        finally:
            self._stopped = True
            self._running = False
            await self._publisher.aclose()
            await self._client.aclose()

    async def ping(self) -> None:
        """Check that the Redis server answers.

        Raises:
            BusError: the server cannot be reached (the message names the URL and the cause).
        """
        try:
            await self._client.ping()
        except RedisError as error:
            raise BusError(f"cannot reach Redis at {self._where}: {error}") from error

    async def wait_idle(self, *, poll_s: float = 0.001) -> None:
        """Wait until every consumer group of every stream under this bus's prefix has read
        and acknowledged everything, in every process that shares the prefix.

        A handler acknowledges its entry only after it returned, and what it publishes is in
        Redis before `publish` returns, so "no group has an unread or unacknowledged entry"
        means that nothing is queued or being handled anywhere. Replay uses it to separate
        the phases of a simulated instant when its agents run in several processes.
        """
        await self._appender.wait_idle()
        while not await self._quiet():  # noqa: ASYNC110 - the state is in Redis: poll it
            await asyncio.sleep(poll_s)

    async def _quiet(self) -> bool:
        keys = [
            key async for key in self._client.scan_iter(match=f"{self._prefix}:*", _type="STREAM")
        ]
        if not keys:
            return True
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.xinfo_groups(key)
                pipe.xinfo_stream(key)
            replies = await pipe.execute()
        for groups, stream in zip(replies[::2], replies[1::2], strict=True):
            last = stream.get("last-generated-id")
            for group in groups:
                if group.get("pending"):
                    return False
                lag = group.get("lag")
                if lag is None:  # Redis cannot count it (trimmed stream): compare the ids
                    if group.get("last-delivered-id") != last:
                        return False
                elif lag:
                    return False
        return True

    async def _drain(self) -> None:
        """Return once every consumer has read its stream empty after the last handled batch.

        Handlers may publish while we drain, so one consumer being idle is not enough: all of
        them must have found nothing new since the latest batch any of them handled.
        """
        while True:
            live = [s for s in self._subscriptions if s._task is not None and not s._task.done()]
            if all(s.idle_since == self._activity for s in live):
                return
            await asyncio.sleep(self._block_ms / 1000)

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
        fields: dict[Any, Any] = {ENVELOPE_FIELD: self._codec.encode(envelope)}
        if envelope.receiver is not None:
            await self._appender.append(
                [self._inbox(envelope.receiver)], fields, self._reply_ttl_ms
            )
        else:
            keys = [f"{self._prefix}:{key}" for key in routing_keys(envelope, topic)]
            await self._appender.append(keys, fields, None)
        return envelope

    async def subscribe(
        self,
        target: Target,
        handler: Handler,
        *,
        group: str | None = None,
        consumer: str | None = None,
        maxsize: int = DEFAULT_MAXSIZE,
        overflow: Overflow = Overflow.BLOCK,
    ) -> RedisSubscription:
        if self._stopped:
            raise BusNotRunningError(f"bus {self._name} is stopped")
        stream = self.stream_for(target)
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise SubscriptionError(f"maxsize must be an int >= 1, got {maxsize!r}")
        Overflow(overflow)
        for label, value in (("group", group), ("consumer", consumer)):
            if value is not None and (not value or any(char.isspace() for char in value)):
                raise SubscriptionError(f"{label} must be non-empty text without spaces: {value!r}")
        private = group is None
        group_name = group or f"{self._name}.{next(self._ephemeral)}"
        consumer_name = consumer or self._name
        taken = {(s.stream, s.group, s.consumer) for s in self._subscriptions}
        if (stream, group_name, consumer_name) in taken:
            consumer_name = f"{consumer_name}.{next(self._ephemeral)}"
        try:
            await self._client.xgroup_create(stream, group_name, id="$", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        subscription = RedisSubscription(
            self,
            target,
            stream=stream,
            group=group_name,
            consumer=consumer_name,
            private=private,
            handler=handler,
        )
        self._subscriptions.append(subscription)
        if self._running:
            subscription._start()
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
        if not self._running or self._stopping:
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

    def __repr__(self) -> str:
        return f"RedisStreamsBus(name={self._name!r}, prefix={self._prefix!r})"

    def _inbox(self, name: str) -> str:
        return f"{self._prefix}:inbox:{name}"

    def _forget(self, subscription: RedisSubscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self._closed_stats.add(subscription.stats)

    async def _read_inbox(self) -> None:
        last: bytes | str = "0-0"  # the inbox name is unique, so it starts empty
        while True:
            draining = self._stopping
            try:
                reply = await self._client.xread(
                    {self.inbox_stream: last},
                    count=self._batch_size,
                    block=None if draining else self._block_ms,
                )
            except RedisConnectionError:
                if draining:
                    raise
                log.warning("redis connection lost reading %s; retrying", self.inbox_stream)
                await asyncio.sleep(self._block_ms / 1000)
                continue
            if not reply and draining:
                return
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id
                    self._complete(entry_id, fields)

    def _complete(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            reply = self._codec.decode(fields.get(ENVELOPE_FIELD, b""))
        except MessageDecodeError as error:
            self._stats.decode_errors += 1
            log.warning("undecodable reply %r in %s: %s", entry_id, self.inbox_stream, error)
            return
        self._pending.complete(reply)
