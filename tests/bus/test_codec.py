"""JSON and msgpack codecs: exact round trips for every message type, clear decode errors."""

import contextlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.strategies import MESSAGE_STRATEGIES, envelopes
from orchestrade.bus.codec import Codec, JsonCodec, MsgpackCodec
from orchestrade.bus.errors import MessageDecodeError, MessageEncodeError
from orchestrade.domain import (
    EVENT_TYPES,
    AgentHeartbeat,
    AgentId,
    Envelope,
    Fill,
    FillId,
    MessageId,
    Order,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Signal,
    SignalGenerated,
    SignalSide,
    StrategyId,
    Symbol,
)

CODECS = [JsonCodec(), MsgpackCodec()]
T0 = datetime(2024, 1, 2, 0, 0, 0, 123_456, tzinfo=UTC)
codec_param = pytest.mark.parametrize("codec", CODECS, ids=lambda codec: codec.name)


def heartbeat_envelope() -> Envelope:
    beat = AgentHeartbeat(AgentId("data"), T0, 3)
    return Envelope.wrap(beat, sender="data", timestamp=T0, message_id=MessageId("m-1"))


def json_envelope(**changes: Any) -> bytes:
    wire = json.loads(JsonCodec().encode(heartbeat_envelope()))
    wire.update(changes)
    return json.dumps({k: v for k, v in wire.items() if v is not ...}).encode()


@codec_param
@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_message_type_round_trips(codec: Codec, type_name: str, data: st.DataObject) -> None:
    message = data.draw(MESSAGE_STRATEGIES[EVENT_TYPES[type_name]])

    decoded = codec.decode_message(codec.encode_message(message), type_name)

    assert decoded == message
    assert type(decoded) is type(message)


@codec_param
@settings(max_examples=150, deadline=None)
@given(envelope=envelopes())
def test_envelopes_round_trip(codec: Codec, envelope: Envelope) -> None:
    assert codec.decode(codec.encode(envelope)) == envelope


@codec_param
def test_decimals_keep_every_digit_and_their_exponent(codec: Codec) -> None:
    price = Decimal("0.1000000000000000000000000000001")  # 31 digits: more than a float holds
    fill = Fill(FillId("f"), OrderId("o"), Symbol("X"), Side.BUY, Decimal("1.50"), price, T0)
    message = OrderFilled(_filled_order(fill), fill)

    decoded = codec.decode_message(codec.encode_message(message), "OrderFilled")

    assert isinstance(decoded, OrderFilled)
    assert str(decoded.fill.price) == "0.1000000000000000000000000000001"
    assert str(decoded.fill.quantity) == "1.50"


def test_json_writes_decimals_as_strings_and_times_as_utc() -> None:
    fill = Fill(FillId("f"), OrderId("o"), Symbol("X"), Side.BUY, Decimal(1), Decimal("0.1"), T0)

    wire = json.loads(JsonCodec().encode_message(OrderFilled(_filled_order(fill), fill)))

    assert wire["fill"]["price"] == "0.1"
    assert wire["fill"]["filled_at"] == "2024-01-02T00:00:00.123456Z"


@codec_param
def test_decoded_times_are_aware_utc(codec: Codec) -> None:
    decoded = codec.decode(codec.encode(heartbeat_envelope()))

    assert decoded.timestamp.tzinfo is UTC
    assert isinstance(decoded.payload, AgentHeartbeat)
    assert decoded.payload.sent_at == T0
    assert decoded.payload.sent_at.tzinfo is UTC


def test_msgpack_is_smaller_than_json() -> None:
    envelope = heartbeat_envelope()

    assert len(MsgpackCodec().encode(envelope)) < len(JsonCodec().encode(envelope))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (json_envelope(type_name="Nonexistent"), "unknown message type 'Nonexistent'"),
        (b"{not json", "json envelope is invalid: JSON is malformed"),
        (json_envelope(sender=...), "Object missing required field `sender`"),
        (json_envelope(priority="high"), r"Expected `int`, got `str` - at `\$.priority`"),
        (json_envelope(extra=1), "unknown field `extra`"),
        (json_envelope(timestamp="2024-01-02T00:00:00"), "timestamp must be timezone-aware"),
        (json_envelope(type_name="CancelOrder"), "payload of CancelOrder is invalid"),
        (json_envelope(payload=[1, 2]), "payload of AgentHeartbeat is invalid: Expected `object`"),
        (
            json_envelope(
                payload={"agent_id": "data", "sent_at": "2024-01-02T00:00:00Z", "sequence": -1}
            ),
            "sequence must be >= 0",
        ),
        (json_envelope(retries=-2), "Envelope.retries must be >= 0"),
    ],
)
def test_bad_json_envelopes_raise_message_decode_error(data: bytes, message: str) -> None:
    with pytest.raises(MessageDecodeError, match=message):
        JsonCodec().decode(data)


def test_payload_that_breaks_a_domain_rule_is_refused() -> None:
    signal = Signal(T0, Symbol("X"), SignalSide.BUY, 0.5, StrategyId("s"))
    wire = json.loads(JsonCodec().encode_message(SignalGenerated(signal)))
    wire["signal"]["confidence"] = 1.5

    with pytest.raises(MessageDecodeError, match=r"confidence must be within \[0, 1\], got 1.5"):
        JsonCodec().decode_message(json.dumps(wire).encode(), "SignalGenerated")


def test_bad_msgpack_raises_message_decode_error() -> None:
    with pytest.raises(MessageDecodeError, match="msgpack envelope is invalid"):
        MsgpackCodec().decode(b"\xc1\xff\x00")
    with pytest.raises(MessageDecodeError, match="unknown message type 'Nope'"):
        MsgpackCodec().decode_message(msgspec.msgpack.encode({}), "Nope")


@codec_param
def test_encoding_something_unregistered_raises_message_encode_error(codec: Codec) -> None:
    with pytest.raises(MessageEncodeError, match="dict is not a registered message type"):
        codec.encode_message({"type": "AgentHeartbeat"})  # type: ignore[arg-type]
    with pytest.raises(MessageEncodeError, match="expected an Envelope, got AgentHeartbeat"):
        codec.encode(AgentHeartbeat(AgentId("data"), T0, 1))  # type: ignore[arg-type]


@codec_param
@settings(max_examples=200)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_another_exception(codec: Codec, data: bytes) -> None:
    with contextlib.suppress(MessageDecodeError):
        codec.decode(data)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(envelope=envelopes(), data=st.data())
def test_corrupted_fields_never_escape_as_another_exception(
    envelope: Envelope, data: st.DataObject
) -> None:
    wire = json.loads(JsonCodec().encode(envelope))
    target = wire
    path = data.draw(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=3))
    for step in path:  # walk down into the payload, then corrupt one field
        if not isinstance(target, dict) or not target:
            break
        key = sorted(target)[step % len(target)]
        if isinstance(target[key], dict) and step % 2 == 0:
            target = target[key]
            continue
        target[key] = data.draw(_json_values)
        break

    with contextlib.suppress(MessageDecodeError):
        JsonCodec().decode(json.dumps(wire).encode())


def _filled_order(fill: Fill) -> Order:
    order = Order(fill.order_id, fill.symbol, fill.side, OrderType.MARKET, fill.quantity, T0)
    return order.with_status(OrderStatus.SUBMITTED).with_fill(fill)


def test_msgpack_map_key_with_invalid_utf8_is_a_decode_error() -> None:
    # Found by hypothesis: a one-entry map whose key is the lone byte 0x80.
    with pytest.raises(MessageDecodeError):
        MsgpackCodec().decode(b"\xde\x00\x01\xa1\x80")
