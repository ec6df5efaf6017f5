"""Envelopes and messages to bytes and back, as JSON (readable) or msgpack (compact, fast).

Decimals travel as strings so they round-trip exactly; datetimes as RFC 3339 text (JSON) or
msgpack timestamps, both decoded as aware UTC. A payload is rebuilt from the envelope's type
name through `EVENT_TYPES`, and decoding runs the domain constructors, so a message that
violates a domain rule is refused like malformed bytes: with a `MessageDecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import msgspec

from orchestrade.bus.errors import MessageDecodeError, MessageEncodeError
from orchestrade.domain import EVENT_TYPES, CorrelationId, DomainError, Envelope, Message, MessageId


class Codec(Protocol):
    """Turns envelopes and bare messages into bytes and back."""

    @property
    def name(self) -> str:
        """Short format name: "json" or "msgpack"."""
        ...

    def encode(self, envelope: Envelope) -> bytes: ...

    def decode(self, data: bytes) -> Envelope: ...

    def encode_message(self, message: Message) -> bytes: ...

    def decode_message(self, data: bytes, type_name: str) -> Message: ...


class _WireEnvelope(msgspec.Struct, forbid_unknown_fields=True):
    """The envelope as it is on the wire, payload still undecoded."""

    message_id: str
    type_name: str
    sender: str
    timestamp: datetime
    correlation_id: str
    payload: msgspec.Raw
    receiver: str | None = None
    causation_id: str | None = None
    priority: int = 0
    timeout_s: float | None = None
    retries: int = 0


class _MsgspecCodec:
    """Shared logic; subclasses pick the msgspec format."""

    name: str = ""

    def __init__(
        self,
        encoder: msgspec.json.Encoder | msgspec.msgpack.Encoder,
        decoder_for: Callable[[Any], msgspec.json.Decoder[Any] | msgspec.msgpack.Decoder[Any]],
    ) -> None:
        self._encoder = encoder
        self._envelope_decoder = decoder_for(_WireEnvelope)
        self._payload_decoders = {name: decoder_for(cls) for name, cls in EVENT_TYPES.items()}

    def encode(self, envelope: Envelope) -> bytes:
        """The envelope, payload included, as bytes."""
        if not isinstance(envelope, Envelope):
            raise MessageEncodeError(f"expected an Envelope, got {type(envelope).__name__}")
        return self._encode(envelope)

    def decode(self, data: bytes) -> Envelope:
        """An envelope and its payload from bytes.

        Raises:
            MessageDecodeError: malformed bytes, a missing or mistyped field, an unknown type
                name, or values a domain constructor refuses.
        """
        try:
            wire = self._envelope_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
            raise MessageDecodeError(f"{self.name} envelope is invalid: {error}") from error
        payload = self.decode_message(wire.payload, wire.type_name)
        try:
            return Envelope(
                message_id=MessageId(wire.message_id),
                type_name=wire.type_name,
                sender=wire.sender,
                timestamp=wire.timestamp,
                correlation_id=CorrelationId(wire.correlation_id),
                payload=payload,
                receiver=wire.receiver,
                causation_id=None if wire.causation_id is None else MessageId(wire.causation_id),
                priority=wire.priority,
                timeout_s=wire.timeout_s,
                retries=wire.retries,
            )
        except DomainError as error:
            raise MessageDecodeError(f"{self.name} envelope is invalid: {error}") from error

    def encode_message(self, message: Message) -> bytes:
        """A bare event or command as bytes (its type name must travel separately)."""
        if EVENT_TYPES.get(type(message).__name__) is not type(message):
            raise MessageEncodeError(f"{type(message).__name__} is not a registered message type")
        return self._encode(message)

    def decode_message(self, data: bytes | msgspec.Raw, type_name: str) -> Message:
        """The event or command named `type_name` from bytes."""
        decoder = self._payload_decoders.get(type_name)
        if decoder is None:
            raise MessageDecodeError(f"unknown message type {type_name!r}")
        try:
            message: Message = decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
            raise MessageDecodeError(
                f"{self.name} payload of {type_name} is invalid: {error}"
            ) from error
        return message

    def _encode(self, value: object) -> bytes:
        try:
            return self._encoder.encode(value)
        except (msgspec.EncodeError, TypeError, OverflowError) as error:
            raise MessageEncodeError(
                f"cannot encode {type(value).__name__} as {self.name}: {error}"
            ) from error


class JsonCodec(_MsgspecCodec):
    """UTF-8 JSON: readable in logs, Redis and the audit table."""

    name = "json"

    def __init__(self) -> None:
        super().__init__(msgspec.json.Encoder(), lambda cls: msgspec.json.Decoder(cls))


class MsgpackCodec(_MsgspecCodec):
    """msgpack: smaller and faster; the default between processes."""

    name = "msgpack"

    def __init__(self) -> None:
        super().__init__(msgspec.msgpack.Encoder(), lambda cls: msgspec.msgpack.Decoder(cls))
