"""Envelopes: routing facts, conversation ids and payload type checks."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchestrade.domain import (
    AgentHeartbeat,
    AgentId,
    CancelOrder,
    CorrelationId,
    Envelope,
    MessageId,
    OrderId,
    ValidationError,
)

T0 = datetime(2024, 1, 2, tzinfo=UTC)
BEAT = AgentHeartbeat(AgentId("data"), T0, 7)


def test_wrap_names_the_type_and_starts_a_conversation() -> None:
    envelope = Envelope.wrap(BEAT, sender="data", timestamp=T0, message_id=MessageId("m-1"))

    assert envelope.type_name == "AgentHeartbeat"
    assert envelope.correlation_id == "m-1"
    assert (envelope.receiver, envelope.causation_id, envelope.priority) == (None, None, 0)


def test_generated_message_ids_are_unique() -> None:
    first = Envelope.wrap(BEAT, sender="data", timestamp=T0)
    second = Envelope.wrap(BEAT, sender="data", timestamp=T0)

    assert first.message_id != second.message_id
    assert len(first.message_id) == 32


def test_reply_continues_the_conversation_back_to_the_sender() -> None:
    request = Envelope.wrap(
        CancelOrder(OrderId("o-1")),
        sender="orchestrator",
        timestamp=T0,
        receiver="execution",
        message_id=MessageId("m-1"),
        correlation_id=CorrelationId("c-9"),
        priority=5,
        timeout_s=2,
    )

    reply = request.reply(BEAT, sender="execution", timestamp=T0, message_id=MessageId("m-2"))

    assert (reply.receiver, reply.correlation_id, reply.causation_id) == (
        "orchestrator",
        "c-9",
        "m-1",
    )
    assert reply.priority == 5
    assert request.timeout_s == 2.0


def test_timestamp_is_stored_in_utc() -> None:
    kst = timezone(timedelta(hours=9))

    envelope = Envelope.wrap(BEAT, sender="data", timestamp=datetime(2024, 1, 2, 9, tzinfo=kst))

    assert envelope.timestamp == T0
    assert envelope.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type_name": "Nope"}, "type_name 'Nope' is not a registered message type"),
        (
            {"type_name": "CancelOrder"},
            "payload is a AgentHeartbeat, but type_name says CancelOrder",
        ),
        ({"timestamp": datetime(2024, 1, 2)}, "Envelope.timestamp must be timezone-aware"),  # noqa: DTZ001
        ({"retries": -1}, "Envelope.retries must be >= 0"),
        ({"timeout_s": 0}, "timeout_s must be > 0 and finite"),
        ({"timeout_s": float("inf")}, "timeout_s must be > 0 and finite"),
        ({"priority": 1.5}, "Envelope.priority must be an int"),
        ({"sender": ""}, "Envelope.sender must not be blank"),
    ],
)
def test_envelope_rejects_bad_values(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "message_id": MessageId("m-1"),
        "type_name": "AgentHeartbeat",
        "sender": "data",
        "timestamp": T0,
        "correlation_id": CorrelationId("m-1"),
        "payload": BEAT,
    }

    with pytest.raises(ValidationError, match=message):
        Envelope(**{**fields, **changes})  # type: ignore[arg-type]
