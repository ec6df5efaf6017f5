"""Delivery in the background: a bounded queue and a worker per channel, retries with backoff.

Trading must never wait for Telegram. `Dispatcher.submit` is a plain function: it puts the
notification in its channel's queue (dropping one when the queue is full, see `Overflow`)
and returns; it cannot block and never raises. Each channel's worker task sends its queue
in order, one request at a time, with the policy of `DeliverySettings`:

- a 2xx answer is *sent*;
- a network error, a timeout, a 5xx or a 429 is retried after an exponential backoff (a
  429's Retry-After, or Telegram's ``parameters.retry_after``, is honoured instead), up to
  ``max_attempts`` attempts; then it has *failed*;
- any other answer (400 bad chat id, 401/403 bad token, 404 unknown webhook) has *failed*
  at once: sending it again would fail again.

Every outcome is counted per channel (`ChannelCounters`) and failures are logged, with
every secret of the channel masked. `close` lets the workers drain their queues for a
while, then drops (and counts) what is left.
"""

from __future__ import annotations

import asyncio
import logging
import math
import traceback
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType, TracebackType

import httpx

from orchestrade.agents import Clock, Sleep, utc_now
from orchestrade.notify.channels import Channel
from orchestrade.notify.errors import DeliveryError, NotifyConfigError
from orchestrade.notify.messages import Notification
from orchestrade.notify.secrets import SecretMaskingFilter, mask
from orchestrade.notify.settings import DeliverySettings, Overflow

log = logging.getLogger(__name__)

HTTP_CLIENT_LOGGER = "httpx"
"""The HTTP client logs every request's URL here (at INFO): its records are masked."""

_EXCERPT = 200
"""Characters of an error answer's body kept in the log line."""


@dataclass(slots=True)
class ChannelCounters:
    """What happened to the notifications of one channel (or of all, in `Dispatcher.totals`).

    Attributes:
        submitted: accepted into the queue.
        sent: delivered (a 2xx answer).
        failed: given up: an answer that is not worth retrying, or every attempt failed.
        dropped: lost to a full queue, or still waiting (or being sent) when closed.
        retried: attempts after the first (a notification sent on its third attempt adds 2).
    """

    submitted: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    retried: int = 0

    def add(self, other: ChannelCounters) -> None:
        self.submitted += other.submitted
        self.sent += other.sent
        self.failed += other.failed
        self.dropped += other.dropped
        self.retried += other.retried


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of delivering one notification.

    Attributes:
        sent: True when a 2xx answer came back.
        attempts: requests made (1 + retries).
        status: the last HTTP status (None when the last attempt got no answer).
        error: why it failed, secrets masked ("" when sent).
    """

    sent: bool
    attempts: int
    status: int | None = None
    error: str = ""


class Dispatcher:
    """Sends notifications to their channels in the background (see the module docstring).

    Args:
        channels: the channels, by their names.
        settings: queue bound, overflow policy, retries and timeouts.
        transport: the HTTP transport (default: the network); tests may pass their own.
        sleep: how backoff waits (`asyncio.sleep`; a fake in tests).
        clock: time now, aware UTC (to read a Retry-After given as a date).
    """

    def __init__(
        self,
        channels: Iterable[Channel],
        settings: DeliverySettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = utc_now,
    ) -> None:
        self._channels: dict[str, Channel] = {}
        for channel in channels:
            if channel.name in self._channels:
                raise NotifyConfigError(f"two channels are named {channel.name!r}")
            self._channels[channel.name] = channel
        self.settings = settings if settings is not None else DeliverySettings()
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._queues: dict[str, deque[Notification]] = {name: deque() for name in self._channels}
        self._ready = {name: asyncio.Event() for name in self._channels}
        self._in_flight: dict[str, Notification | None] = dict.fromkeys(self._channels)
        self._counters = {name: ChannelCounters() for name in self._channels}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None
        self._mask_filter = SecretMaskingFilter()
        self._closing = False
        self._closed = False

    # -- what the outside sees -------------------------------------------------------------

    @property
    def channels(self) -> Mapping[str, Channel]:
        return MappingProxyType(self._channels)

    @property
    def counters(self) -> Mapping[str, ChannelCounters]:
        """The counters of each channel, by name."""
        return MappingProxyType(self._counters)

    @property
    def totals(self) -> ChannelCounters:
        """The counters summed over every channel."""
        total = ChannelCounters()
        for counters in self._counters.values():
            total.add(counters)
        return total

    def pending(self, channel: str) -> int:
        """Notifications of `channel` waiting in its queue or being sent now."""
        return len(self._queues[channel]) + (self._in_flight[channel] is not None)

    @property
    def started(self) -> bool:
        return self._client is not None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP client and start one worker per channel (what was submitted before
        is sent now)."""
        if self._closing:
            raise DeliveryError("the dispatcher is closed; make a new one")
        if self._client is not None:
            return
        self._client = httpx.AsyncClient(
            transport=self._transport,
            timeout=self.settings.timeout_s,
            follow_redirects=False,
        )
        for channel in self._channels.values():
            for secret in channel.secrets:
                self._mask_filter.add(secret)
        logging.getLogger(HTTP_CLIENT_LOGGER).addFilter(self._mask_filter)
        loop = asyncio.get_running_loop()
        for name in self._channels:
            self._workers[name] = loop.create_task(self._work(name), name=f"notify-{name}")

    async def close(self, timeout_s: float | None = None) -> None:
        """Refuse new notifications, let the workers drain their queues for up to
        `timeout_s` seconds (default: ``settings.close_timeout_s``), then drop what is left
        (counted in `ChannelCounters.dropped`) and close the HTTP client; idempotent."""
        if self._closed:
            return
        self._closing = True
        for ready in self._ready.values():
            ready.set()
        timeout = self.settings.close_timeout_s if timeout_s is None else timeout_s
        workers = list(self._workers.values())
        if workers:
            _, pending = await asyncio.wait(workers, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for name, queue in self._queues.items():
            if queue:
                self._counters[name].dropped += len(queue)
                log.warning(
                    "notification channel %s closed with %d notification(s) unsent",
                    name,
                    len(queue),
                )
                queue.clear()
        if self._client is not None:
            await self._client.aclose()
        logging.getLogger(HTTP_CLIENT_LOGGER).removeFilter(self._mask_filter)
        self._closed = True

    async def __aenter__(self) -> Dispatcher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- sending ---------------------------------------------------------------------------

    def submit(self, channel: str, notification: Notification) -> bool:
        """Queue `notification` for `channel`; True when it was queued.

        Never blocks and never raises: a full queue drops one notification (see
        `Overflow`), a closed dispatcher drops the new one, an unknown channel is logged.
        Call it from the event loop's thread (the queues are not thread-safe).
        """
        try:
            queue = self._queues.get(channel)
            if queue is None:
                log.error("no notification channel named %s", channel)
                return False
            counters = self._counters[channel]
            if self._closing:
                counters.dropped += 1
                return False
            queued = True
            if len(queue) >= self.settings.queue_size:
                if self.settings.overflow is Overflow.DROP_NEWEST:
                    queued = False
                else:
                    queue.popleft()
                counters.dropped += 1
                if counters.dropped == 1 or counters.dropped % 100 == 0:
                    log.warning(
                        "notification queue of %s is full (%d): %d dropped so far (%s)",
                        channel,
                        self.settings.queue_size,
                        counters.dropped,
                        self.settings.overflow.value,
                    )
            if queued:
                queue.append(notification)
                counters.submitted += 1
                self._ready[channel].set()
            return queued
        except Exception:
            # Boundary: a notification problem must never reach the trading code.
            log.exception("could not queue a notification for %s", channel)
            return False

    async def deliver(self, channel: str, notification: Notification) -> DeliveryResult:
        """Send `notification` to `channel` now, with retries, and say how it went (for a
        caller that waits, like `orchestrade notify test`; counted like the others).

        Raises:
            DeliveryError: the dispatcher is not started, or the channel is unknown.
        """
        if self._client is None or self._closed:
            raise DeliveryError("the dispatcher is not running")
        target = self._channels.get(channel)
        if target is None:
            raise DeliveryError(f"no notification channel named {channel!r}")
        return await self._deliver(target, notification, self._counters[channel])

    # -- internals ---------------------------------------------------------------------------

    async def _work(self, name: str) -> None:
        channel, queue, ready = self._channels[name], self._queues[name], self._ready[name]
        counters = self._counters[name]
        while True:
            if not queue:
                if self._closing:
                    return
                ready.clear()
                await ready.wait()
                continue
            notification = queue.popleft()
            self._in_flight[name] = notification
            try:
                await self._deliver(channel, notification, counters)
            except asyncio.CancelledError:
                counters.dropped += 1
                raise
            except Exception as error:  # noqa: BLE001 - logged below, with secrets masked
                # Boundary: one bad notification must not stop the channel's worker.
                counters.failed += 1
                text = "".join(traceback.format_exception(error))
                log.error("notification to %s failed: %s", name, mask(text, channel.secrets))
            finally:
                self._in_flight[name] = None

    async def _deliver(
        self, channel: Channel, notification: Notification, counters: ChannelCounters
    ) -> DeliveryResult:
        assert self._client is not None
        request = channel.request(notification)
        settings = self.settings
        attempts = 0
        while True:
            attempts += 1
            status: int | None = None
            wait_s: float | None = None
            try:
                response = await self._client.request(
                    request.method, request.url, json=request.json, headers=dict(request.headers)
                )
            except httpx.TransportError as error:
                retryable = True
                problem = f"{type(error).__name__}: {error}".removesuffix(": ")
            else:
                status = response.status_code
                if 200 <= status < 300:
                    counters.sent += 1
                    log.debug("notification sent to %s (%s)", channel.name, notification.kind)
                    return DeliveryResult(True, attempts, status)
                retryable = status == 429 or status >= 500
                if status == 429:
                    wait_s = retry_after_s(response, self._clock())
                problem = f"HTTP {status}: {response.text[:_EXCERPT]}".rstrip(": ")
            problem = mask(problem, channel.secrets)
            if not retryable or attempts >= settings.max_attempts:
                counters.failed += 1
                log.warning(
                    "notification to %s failed after %d attempt(s): %s",
                    channel.name,
                    attempts,
                    problem,
                )
                return DeliveryResult(False, attempts, status, problem)
            delay = (
                settings.backoff_s(attempts)
                if wait_s is None
                else min(wait_s, settings.max_retry_after_s)
            )
            counters.retried += 1
            log.info(
                "notification to %s: attempt %d failed (%s); retrying in %.3g s",
                channel.name,
                attempts,
                problem,
                delay,
            )
            await self._sleep(delay)


def retry_after_s(response: httpx.Response, now: datetime) -> float | None:
    """Seconds a 429 answer asks us to wait: its Retry-After header (seconds or an HTTP
    date), else Telegram's ``{"parameters": {"retry_after": N}}``; None when it says none."""
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                return None
            seconds = (when - now).total_seconds()
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        body = response.json()
    except ValueError:
        return None
    parameters = body.get("parameters") if isinstance(body, dict) else None
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return max(0.0, float(value))
    return None
