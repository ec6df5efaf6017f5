"""Envelopes: routing facts, conversation ids and payload type checks."""

import dataclasses
import os
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
    new_message_id,
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


def test_message_ids_are_32_hex_characters_and_unique_across_processes() -> None:
    ids = {new_message_id() for _ in range(20_000)}
    assert len(ids) == 20_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child draws its own prefix: its ids differ from the parent's
        os.write(write, new_message_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert len(from_child) == 32
    assert from_child[:16] != new_message_id()[:16]


def test_new_is_wrap_without_the_checks_it_needs_not_repeat() -> None:
    made = Envelope.new(BEAT, sender="data", timestamp=T0, priority=2)
    wrapped = Envelope.wrap(BEAT, sender="data", timestamp=T0, priority=2)

    assert made.correlation_id == made.message_id != wrapped.message_id
    same = {"message_id": made.message_id, "correlation_id": made.correlation_id}
    assert made == dataclasses.replace(wrapped, **same)


@pytest.mark.parametrize(
    ("sender", "timestamp", "priority"),
    [
        ("data", datetime(2024, 1, 2), 0),  # noqa: DTZ001 - naive on purpose
        ("", T0, 0),
        ("data", T0, 1.5),
    ],
)
def test_new_checks_what_it_cannot_trust(sender: str, timestamp: datetime, priority: int) -> None:
    with pytest.raises(ValidationError):
        Envelope.new(BEAT, sender=sender, timestamp=timestamp, priority=priority)


def test_new_converts_other_time_zones_to_utc_as_wrap_does() -> None:
    seoul = timezone(timedelta(hours=9))
    made = Envelope.new(BEAT, sender="data", timestamp=T0.astimezone(seoul))
    assert made.timestamp == T0
    assert made.timestamp.tzinfo is UTC
