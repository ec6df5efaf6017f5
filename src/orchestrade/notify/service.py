"""The notification service: bus events in, routed notifications out, in the background.

It is what the notification agent hands events to (`notify`), and what the orchestrator's
rule notifications reach (`notify_rule`): each becomes a `Notification`
(`orchestrade.notify.messages`), goes to the channels its routes name
(`orchestrade.notify.routing`), and is delivered by the `Dispatcher`. `notify` and
`notify_rule` return at once and never raise, whatever the channels do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType

import httpx

from orchestrade.agents import Clock, Sleep, utc_now
from orchestrade.domain import Message
from orchestrade.notify.delivery import ChannelCounters, DeliveryResult, Dispatcher
from orchestrade.notify.errors import NotifyConfigError
from orchestrade.notify.messages import (
    RULE,
    Notification,
    notification_of,
    probe_notification,
    rule_notification,
)
from orchestrade.notify.routing import Routing
from orchestrade.notify.settings import NotifySettings

log = logging.getLogger(__name__)


class NotificationService:
    """Routes notifications to channels and has them delivered in the background.

    Args:
        routing: which notifications go to which channels.
        dispatcher: delivers them (owns the channels).
        clock: time now, aware UTC (for notifications given no time).

    Raises:
        NotifyConfigError: a route names a channel the dispatcher does not have.
    """

    def __init__(self, routing: Routing, dispatcher: Dispatcher, *, clock: Clock = utc_now) -> None:
        routing.check_channels(dispatcher.channels)
        self.routing = routing
        self.dispatcher = dispatcher
        self._clock = clock
        self._routed = routing.event_types

    @classmethod
    def from_settings(
        cls,
        settings: NotifySettings,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = utc_now,
    ) -> NotificationService:
        """The service the settings describe, its secrets read from `environ` (default:
        `os.environ`) or files.

        Raises:
            NotifyConfigError: a secret is missing or a channel is invalid (names the field).
        """
        channels = settings.open_channels(environ)
        dispatcher = Dispatcher(
            channels.values(), settings.delivery, transport=transport, sleep=sleep, clock=clock
        )
        return cls(settings.routing(), dispatcher, clock=clock)

    @property
    def event_types(self) -> frozenset[str]:
        """The bus event types some route takes (class names; ``rule`` is not one)."""
        return self._routed - {RULE}

    @property
    def counters(self) -> Mapping[str, ChannelCounters]:
        """Sent, failed, dropped and retried notifications of each channel."""
        return self.dispatcher.counters

    def notify(self, event: Message, *, at: datetime | None = None) -> None:
        """Send `event` to the channels whose routes take it, in the background.

        Args:
            event: any bus event (those no route takes are ignored at once).
            at: when it was published (the envelope's time); default: now.
        """
        try:
            if type(event).__name__ not in self._routed:
                return
            notification = notification_of(event, at or self._clock())
            if notification is not None:
                self.send(notification)
        except Exception:
            # Boundary: a notification problem must never reach the trading code.
            log.exception("could not notify %s", type(event).__name__)

    def notify_rule(
        self, rule: str, text: str, *, at: datetime | None = None, bot_id: str | None = None
    ) -> None:
        """Send what a rule's ``notify`` action asks for (routes select it as ``rule``)."""
        try:
            if RULE in self._routed:
                self.send(rule_notification(rule, text, at or self._clock(), bot_id=bot_id))
        except Exception:
            log.exception("could not notify rule %s", rule)

    def send(self, notification: Notification) -> None:
        """Queue `notification` for every channel whose routes take it (never blocks)."""
        for channel in self.routing.channels_for(notification):
            self.dispatcher.submit(channel, notification)

    async def start(self) -> None:
        """Start delivering (see `Dispatcher.start`)."""
        await self.dispatcher.start()

    async def close(self, timeout_s: float | None = None) -> None:
        """Drain for up to `timeout_s`, then stop (see `Dispatcher.close`)."""
        await self.dispatcher.close(timeout_s)

    async def __aenter__(self) -> NotificationService:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def probe_channel(
    settings: NotifySettings,
    channel: str,
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = utc_now,
) -> DeliveryResult:
    """Send a test message to `channel` now, bypassing the routes, and wait for the outcome
    (retries included). Only that channel's secrets are read.

    Raises:
        NotifyConfigError: no channel has that name, or its secret cannot be read.
    """
    config = settings.channels.get(channel)
    if config is None:
        known = ", ".join(sorted(settings.channels)) or "none"
        raise NotifyConfigError(f"no notification channel named {channel!r} (channels: {known})")
    target = config.open(channel, environ)
    dispatcher = Dispatcher(
        [target], settings.delivery, transport=transport, sleep=sleep, clock=clock
    )
    async with dispatcher:
        return await dispatcher.deliver(channel, probe_notification(channel, target.kind, clock()))
