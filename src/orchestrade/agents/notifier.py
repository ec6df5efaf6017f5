"""NotificationAgent: hands the events people want to hear about to the notification service.

The service (`orchestrade.notify.NotificationService`, in the entry layer above this one) is
reached through the small `NotificationSink` protocol declared here. The agent subscribes to
every event type the sink's routes take, in its own consumer group, with a bounded queue
that drops the oldest message when full: a notification must never hold up the bus, and the
sink's `notify` returns at once.

It also carries the orchestrator's rule notifications (the ``notify`` action of a rule),
which the orchestrator logs on the ``orchestrade.notify`` logger: a logging handler on that
logger passes each of its records, and only its own (not those of its child loggers, where
the notification package logs its deliveries), to `NotificationSink.notify_rule`. Such
records come from the process the orchestrator runs in: over the Redis bus, run the agent
there.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Protocol

from orchestrade.agents.base import Agent, AgentError, Clock, Sleep, utc_now
from orchestrade.bus import DEFAULT_MAXSIZE, Bus, Overflow
from orchestrade.domain import EVENT_TYPES, Envelope, Message

RULE_LOGGER = "orchestrade.notify"
"""Where the orchestrator logs the notifications its rules ask for."""


class NotificationSink(Protocol):
    """What the agent needs from the notification service."""

    @property
    def event_types(self) -> frozenset[str]:
        """Class names of the events to hand over (the others are not subscribed to)."""
        ...

    def notify(self, event: Message, *, at: datetime | None = None) -> None:
        """Take an event published at `at`; must return at once and never raise."""
        ...

    def notify_rule(
        self, rule: str, text: str, *, at: datetime | None = None, bot_id: str | None = None
    ) -> None:
        """Take a rule's notification; must return at once and never raise."""
        ...


class NotificationAgent(Agent):
    """Forwards the sink's event types from the bus, and the rules' notifications.

    Args:
        bus: where the events are published.
        sink: the notification service.
        rule_logger: the logger whose records are rule notifications (None: none).
        maxsize: bound of each subscription's queue (the oldest message is dropped past it).

    Raises:
        AgentError (from `start`): the sink names an event type the bus does not know.
    """

    def __init__(
        self,
        bus: Bus,
        sink: NotificationSink,
        *,
        rule_logger: str | None = RULE_LOGGER,
        maxsize: int = DEFAULT_MAXSIZE,
        agent_id: str = "notifier",
        heartbeat_interval_s: float = 1.0,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            agent_id, bus, heartbeat_interval_s=heartbeat_interval_s, clock=clock, sleep=sleep
        )
        self.sink = sink
        self.rule_logger = rule_logger
        self.maxsize = maxsize
        self.forwarded = 0
        """Events handed to the sink so far."""
        self._handler: RuleLogHandler | None = None

    async def on_start(self) -> None:
        names = sorted(self.sink.event_types)
        unknown = [name for name in names if name not in EVENT_TYPES]
        if unknown:
            raise AgentError(f"agent {self.agent_id}: unknown event type(s) {', '.join(unknown)}")
        for name in names:
            await self.subscribe(
                EVENT_TYPES[name],
                self.on_event,
                group=self.agent_id,
                maxsize=self.maxsize,
                overflow=Overflow.DROP_OLDEST,
            )
        if self.rule_logger is not None:
            self._handler = RuleLogHandler(self.sink, self.rule_logger)
            logging.getLogger(self.rule_logger).addHandler(self._handler)

    async def on_stop(self) -> None:
        if self._handler is not None and self.rule_logger is not None:
            logging.getLogger(self.rule_logger).removeHandler(self._handler)
            self._handler = None

    async def on_event(self, envelope: Envelope) -> None:
        self.forwarded += 1
        self.sink.notify(envelope.payload, at=envelope.timestamp)


class RuleLogHandler(logging.Handler):
    """Turns the records of one logger (``orchestrade.notify``) into rule notifications.

    A record may carry the rule's facts as ``extra`` (``rule``, ``notify_message``,
    ``bot_id``); without them it is read as the orchestrator writes it today,
    ``warning("%s: %s", rule, reason)``, the reason starting with the rule's name again.
    """

    def __init__(self, sink: NotificationSink, logger_name: str) -> None:
        super().__init__()
        self.sink = sink
        self.logger_name = logger_name

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != self.logger_name:
            return  # a child logger (the notification package's own lines), not a rule
        try:
            rule, reason = _rule_and_reason(record)
            message = str(getattr(record, "notify_message", "") or "")
            text = f"{message} ({reason})" if message and reason else message or reason
            bot = getattr(record, "bot_id", None)
            self.sink.notify_rule(rule, text, bot_id=None if bot is None else str(bot))
        except Exception:  # noqa: BLE001 - logging's own error path reports it
            self.handleError(record)


def _rule_and_reason(record: logging.LogRecord) -> tuple[str, str]:
    rule = getattr(record, "rule", None)
    args = record.args
    if rule is None and isinstance(args, tuple) and len(args) == 2:
        rule, reason = str(args[0]), str(args[1])
    else:
        rule = str(rule) if rule is not None else "notify"
        reason = record.getMessage()
    prefix = f"{rule}: "  # the orchestrator's reasons start with the rule's name
    while reason.startswith(prefix):
        reason = reason[len(prefix) :]
    return rule, "" if reason == rule else reason
