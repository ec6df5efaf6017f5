"""Errors raised when messages cannot be encoded, decoded or delivered."""

from __future__ import annotations

from orchestrade.domain.errors import OrchestradeError


class BusError(OrchestradeError):
    """Base class of every error raised by `orchestrade.bus`."""


class MessageEncodeError(BusError):
    """A message could not be serialized (unregistered type or unsupported value)."""


class MessageDecodeError(BusError):
    """Bytes from the wire are not a valid message: malformed, unknown type or bad field."""
