"""The envelope every bus message travels in, and the registry of message types by name."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import get_args

from orchestrade.domain.commands import Command
from orchestrade.domain.errors import ValidationError
from orchestrade.domain.events import Event
from orchestrade.domain.ids import CorrelationId, MessageId, new_message_id
from orchestrade.domain.validation import (
    assign,
    optional_text,
    require_int,
    require_text,
    require_utc,
)

Message = Event | Command
"""Anything that can be the payload of an envelope."""

EVENT_TYPES: Mapping[str, type[Message]] = MappingProxyType(
    {
        cls.__name__: cls
        for cls in sorted((*get_args(Event), *get_args(Command)), key=lambda c: c.__name__)
    }
)
"""Message class by type name (the class name), for every event and command."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message plus the routing and delivery facts the bus needs.

    Attributes:
        type_name: the payload's registered type name; decoders use it to rebuild the payload.
        receiver: an agent for point-to-point requests; None means every subscriber of the type.
        correlation_id: shared by all messages of one conversation; a new conversation uses its
            first message's id.
        causation_id: the id of the message that caused this one, if any.
        priority: larger is more urgent; 0 is normal.
        timeout_s: how long the sender waits for an answer (None: no answer expected).
        retries: how many times delivery may be retried after a failure.
    """

    message_id: MessageId
    type_name: str
    sender: str
    timestamp: datetime
    correlation_id: CorrelationId
    payload: Message
    receiver: str | None = None
    causation_id: MessageId | None = None
    priority: int = 0
    timeout_s: float | None = None
    retries: int = 0

    def __post_init__(self) -> None:
        require_text("Envelope.message_id", self.message_id)
        message_type = EVENT_TYPES.get(self.type_name)
        if message_type is None:
            raise ValidationError(
                f"Envelope.type_name {self.type_name!r} is not a registered message type"
            )
        if type(self.payload) is not message_type:
            raise ValidationError(
                f"Envelope.payload is a {type(self.payload).__name__}, but type_name says "
                f"{self.type_name}"
            )
        require_text("Envelope.sender", self.sender)
        assign(self, "timestamp", require_utc("Envelope.timestamp", self.timestamp))
        require_text("Envelope.correlation_id", self.correlation_id)
        optional_text("Envelope.receiver", self.receiver)
        optional_text("Envelope.causation_id", self.causation_id)
        require_int("Envelope.priority", self.priority)
        require_int("Envelope.retries", self.retries, minimum=0)
        if self.timeout_s is not None:
            timeout = self.timeout_s
            if isinstance(timeout, bool) or not isinstance(timeout, float | int):
                raise ValidationError(f"Envelope.timeout_s must be a number, got {timeout!r}")
            if not (math.isfinite(timeout) and timeout > 0):
                raise ValidationError(f"Envelope.timeout_s must be > 0 and finite, got {timeout}")
            assign(self, "timeout_s", float(timeout))

    @classmethod
    def wrap(
        cls,
        payload: Message,
        *,
        sender: str,
        timestamp: datetime,
        receiver: str | None = None,
        message_id: MessageId | None = None,
        correlation_id: CorrelationId | None = None,
        causation_id: MessageId | None = None,
        priority: int = 0,
        timeout_s: float | None = None,
        retries: int = 0,
    ) -> Envelope:
        """Put `payload` in an envelope; a missing id is generated, a missing correlation id
        starts a new conversation (it equals the message id)."""
        message_id = message_id or new_message_id()
        return cls(
            message_id=message_id,
            type_name=type(payload).__name__,
            sender=sender,
            timestamp=timestamp,
            correlation_id=correlation_id or CorrelationId(message_id),
            payload=payload,
            receiver=receiver,
            causation_id=causation_id,
            priority=priority,
            timeout_s=timeout_s,
            retries=retries,
        )

    @classmethod
    def new(
        cls, payload: Message, *, sender: str, timestamp: datetime, priority: int = 0
    ) -> Envelope:
        """`wrap` for what a bus wraps on every publish (a new conversation, no receiver, no
        timeout or retries), built without re-checking what is already known to be valid: a
        registered payload, a text sender, a UTC timestamp and an int priority. Anything
        else goes through `wrap` and its checks (and errors)."""
        if (
            timestamp.tzinfo is not UTC
            or type(priority) is not int
            or type(sender) is not str
            or not sender
            or EVENT_TYPES.get(type(payload).__name__) is not type(payload)
        ):
            return cls.wrap(payload, sender=sender, timestamp=timestamp, priority=priority)
        message_id = new_message_id()
        envelope = object.__new__(cls)
        fill = object.__setattr__
        fill(envelope, "message_id", message_id)
        fill(envelope, "type_name", type(payload).__name__)
        fill(envelope, "sender", sender)
        fill(envelope, "timestamp", timestamp)
        fill(envelope, "correlation_id", message_id)
        fill(envelope, "payload", payload)
        fill(envelope, "receiver", None)
        fill(envelope, "causation_id", None)
        fill(envelope, "priority", priority)
        fill(envelope, "timeout_s", None)
        fill(envelope, "retries", 0)
        return envelope

    def reply(
        self,
        payload: Message,
        *,
        sender: str,
        timestamp: datetime,
        message_id: MessageId | None = None,
    ) -> Envelope:
        """An answer to this message: same conversation, caused by it, addressed to its sender."""
        return Envelope.wrap(
            payload,
            sender=sender,
            timestamp=timestamp,
            receiver=self.sender,
            message_id=message_id,
            correlation_id=self.correlation_id,
            causation_id=self.message_id,
            priority=self.priority,
        )
