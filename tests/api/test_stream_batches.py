"""`/api/v1/stream` batches: a client that asks for them gets the frames ready at once in one
JSON array; one that does not gets one frame per message, as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrade.api.routers.stream import BATCH_FRAMES, messages_of

from .test_stream import heartbeat, receive, subscribed
from .trading_app import open_stream


def test_events_ready_at_once_come_in_one_array_to_a_client_that_asked(tmp_path: Path) -> None:
    with open_stream(tmp_path) as stream:
        for sequence in range(3):
            stream.record(heartbeat(sequence))

        query = f"?token={stream.token()}&last_event_id=0&batch=true"
        with stream.connect(query) as socket:
            subscribed(socket)
            message = socket.receive_json()

    assert isinstance(message, list)
    assert [(frame["id"], frame["type"]) for frame in message] == [
        (1, "AgentHeartbeat"),
        (2, "AgentHeartbeat"),
        (3, "AgentHeartbeat"),
    ]
    assert [frame["data"]["sequence"] for frame in message] == [0, 1, 2]


def test_without_asking_a_client_gets_one_frame_per_message(tmp_path: Path) -> None:
    with open_stream(tmp_path) as stream:
        for sequence in range(3):
            stream.record(heartbeat(sequence))

        with stream.connect(f"?token={stream.token()}&last_event_id=0") as socket:
            subscribed(socket)
            messages = [socket.receive_json() for _ in range(3)]

    assert [message["id"] for message in messages] == [1, 2, 3]


def test_a_gap_frame_comes_first_in_the_array_of_the_events_after_it(tmp_path: Path) -> None:
    with open_stream(tmp_path, capacity=3) as stream:
        for sequence in range(6):
            stream.record(heartbeat(sequence))

        with stream.connect(f"?token={stream.token()}&last_event_id=1&batch=1") as socket:
            subscribed(socket)
            message = socket.receive_json()

    assert message[0] == {
        "id": None,
        "at": None,
        "bot_id": None,
        "type": "gap",
        "data": {"missed": 2, "after": 1, "next": 4},
    }
    assert [frame["id"] for frame in message[1:]] == [4, 5, 6]


def test_a_frame_ready_alone_comes_alone_and_batches_can_be_turned_off(tmp_path: Path) -> None:
    with open_stream(tmp_path) as stream, stream.connect() as socket:
        socket.send_json({"token": stream.token(), "batch": True})
        subscribed(socket)
        stream.record(heartbeat(0))
        alone = receive(socket)
        socket.send_json({"batch": False})
        subscribed(socket)
        for sequence in range(1, 3):
            stream.record(heartbeat(sequence))
        after = [receive(socket) for _ in range(2)]

    assert alone["id"] == 1
    assert [frame["id"] for frame in after] == [2, 3]


@pytest.mark.parametrize(("value", "error"), [("yes", "'yes'"), (1, "1"), (None, "None")])
def test_batch_is_true_or_false(tmp_path: Path, value: object, error: str) -> None:
    with open_stream(tmp_path) as stream, stream.connect(f"?token={stream.token()}") as socket:
        subscribed(socket)
        socket.send_json({"batch": value})
        refused = receive(socket)

    assert refused["type"] == "error"
    assert refused["data"]["message"] == f"batch: true or false, got {error}"


@pytest.mark.parametrize(("word", "batched"), [("true", True), ("1", True), ("false", False)])
def test_the_query_parameter_spells_batch_as_a_word(
    tmp_path: Path, word: str, batched: bool
) -> None:
    with open_stream(tmp_path) as stream:
        for sequence in range(2):
            stream.record(heartbeat(sequence))

        query = f"?token={stream.token()}&last_event_id=0&batch={word}"
        with stream.connect(query) as socket:
            subscribed(socket)
            first = socket.receive_json()

    assert isinstance(first, list) is batched


def test_messages_hold_at_most_batch_frames_and_a_lone_rest_comes_alone() -> None:
    frames = [json.dumps({"id": number}) for number in range(1, 2 * BATCH_FRAMES + 2)]

    batched = messages_of(frames, batch=True)

    assert BATCH_FRAMES == 100
    assert [len(json.loads(message)) for message in batched[:2]] == [100, 100]
    assert json.loads(batched[2]) == {"id": 201}
    assert json.loads(batched[0])[0] == {"id": 1}
    assert json.loads(batched[1])[-1] == {"id": 200}
    assert messages_of(frames[:3], batch=False) == frames[:3]
    assert messages_of([], batch=True) == []
