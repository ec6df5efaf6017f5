"""Errors raised when messages cannot be encoded, decoded or delivered."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class BusError(OrchestradeError):
    """Base class of every error raised by `orchestrade.bus`."""


class MessageEncodeError(BusError):
    """A message could not be serialized (unregistered type or unsupported value)."""


class MessageDecodeError(BusError):
    """Bytes from the wire are not a valid message: malformed, unknown type or bad field."""


class UnknownMessageTypeError(BusError, TypeError):
    """A publish or subscribe named a class that is not a registered event or command."""


class SubscriptionError(BusError, ValueError):
    """A subscription was asked for with bad options (empty topic, bad queue size, ...)."""


class BusNotRunningError(BusError):
    """The bus was stopped (or, for a request, not started): it cannot carry this message."""


class QueueFullError(BusError):
    """A subscription with the `reject` overflow policy has no room for one more message."""


class RequestTimeoutError(BusError, TimeoutError):
    """No reply to a request arrived within its `timeout_s`."""
