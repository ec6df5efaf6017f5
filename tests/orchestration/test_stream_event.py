"""StreamEvent: its JSON text is the stream's frame, encoded once and shared by every reader."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from orchestrade.domain import AgentHeartbeat, AgentId, BotId
from orchestrade.orchestration.control import StreamEvent

AT = datetime(2024, 5, 2, 1, 2, 3, 456000, tzinfo=UTC)
BOT_A = BotId("bot-a")


def heartbeat_event(bot_id: BotId | None = BOT_A) -> StreamEvent:
    return StreamEvent(42, AT, bot_id, "AgentHeartbeat", AgentHeartbeat(AgentId("risk"), AT, 7))


def test_the_json_text_is_the_frame_with_the_payload_as_the_bus_encodes_it() -> None:
    event = heartbeat_event()

    text = event.to_json()

    assert text == (
        '{"id":42,"at":"2024-05-02T01:02:03.456000Z","bot_id":"bot-a","type":"AgentHeartbeat",'
        '"data":{"agent_id":"risk","sent_at":"2024-05-02T01:02:03.456000Z","sequence":7}}'
    )


def test_an_event_of_no_bot_has_a_null_bot_id() -> None:
    assert json.loads(heartbeat_event(bot_id=None).to_json())["bot_id"] is None


def test_the_text_is_encoded_once_and_leaves_the_event_equal_to_a_fresh_one() -> None:
    event = heartbeat_event()

    first, second = event.to_json(), event.to_json()

    assert first is second
    assert event == heartbeat_event()
    assert hash(event) == hash(heartbeat_event())
    assert "_json" not in repr(event)
