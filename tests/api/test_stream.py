"""`/api/v1/stream`: authentication (4401), frames in the bus's shapes, filters, resumption
after a reconnect, gaps when a client falls behind, and a real bot's fills streamed live."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from fakes.auth import JWT_SECRET
from orchestrade.api import create_app
from orchestrade.api.routers.stream import STREAM_PATH, UNAUTHORIZED_CLOSE
from orchestrade.auth import Role
from orchestrade.bus import JsonCodec
from orchestrade.domain import (
    AgentHeartbeat,
    AgentId,
    BotId,
    BotState,
    BotStateChanged,
    Fill,
    FillId,
    Order,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
)
from orchestrade.orchestration.control import BotRequest
from orchestrade.settings import ApiSettings
from orchestrade.storage import SqlOrderJournal, open_store
from orchestration.supervised import FAST_SLOW

from .conftest import NAMES
from .trading_app import AT, BOT_A, Stream, open_stream

BOT_B = BotId("bot-b")
FRAME_KEYS = {"id", "at", "bot_id", "type", "data"}


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[Stream]:
    with open_stream(tmp_path) as opened:
        yield opened


def heartbeat(sequence: int) -> AgentHeartbeat:
    return AgentHeartbeat(AgentId("risk"), AT, sequence)


def state_change(bot: BotId = BOT_A) -> BotStateChanged:
    return BotStateChanged(bot, AT, BotState.RUNNING, BotState.PAUSED, "paused")


def fill_event() -> OrderFilled:
    order = Order(
        order_id=OrderId("bot-a-005930-entry"),
        symbol=Symbol("005930"),
        side=Side.BUY,
        order_type=OrderType.MARKET,
        quantity=Decimal(10),
        created_at=AT,
        bot_id=BOT_A,
    )
    fill = Fill(
        fill_id=FillId("f-1"),
        order_id=order.order_id,
        symbol=order.symbol,
        side=Side.BUY,
        quantity=Decimal(10),
        price=Decimal("71500"),
        filled_at=AT,
        fee=Decimal("107.25"),
        tax=Decimal(0),
    )
    return OrderFilled(order.with_status(OrderStatus.SUBMITTED).with_fill(fill), fill)


def receive(socket: WebSocketTestSession) -> dict[str, Any]:
    frame: dict[str, Any] = socket.receive_json()
    return frame


def subscribed(socket: WebSocketTestSession) -> dict[str, Any]:
    frame = receive(socket)
    assert frame["type"] == "subscribed", frame
    return frame


# -- authentication ------------------------------------------------------------------------


def test_a_viewer_token_in_the_query_opens_the_stream(stream: Stream) -> None:
    with stream.connect(f"?token={stream.token()}") as socket:
        frame = subscribed(socket)

    assert frame == {
        "id": None,
        "at": None,
        "bot_id": None,
        "type": "subscribed",
        "data": {
            "types": None,
            "bots": None,
            "last_event_id": 0,
            "latest_event_id": 0,
            "oldest_event_id": None,
        },
    }


def test_the_token_may_come_in_the_first_message_with_a_filter(stream: Stream) -> None:
    with stream.connect() as socket:
        socket.send_json({"token": stream.token(), "types": ["OrderFilled"]})
        frame = subscribed(socket)

    assert frame["data"]["types"] == ["OrderFilled"]


def test_an_api_key_opens_the_stream_too(stream: Stream) -> None:
    accounts = stream.app.state.context.accounts
    viewer = next(user for user in accounts.users() if user.name == NAMES[Role.VIEWER])
    key = accounts.create_api_key(viewer.user_id, "dashboard").key

    with stream.connect(f"?token={key}") as socket:
        frame = subscribed(socket)

    assert frame["data"]["last_event_id"] == 0


@pytest.mark.parametrize(
    "first_message",
    [
        None,  # a bad token in the query
        {"types": ["OrderFilled"]},  # no token at all
        "not json",
        {"token": "not-a-token"},
    ],
)
def test_a_missing_or_bad_credential_closes_the_socket_with_4401(
    stream: Stream, first_message: Any
) -> None:
    query = "?token=not-a-token" if first_message is None else ""
    with stream.connect(query) as socket:
        if isinstance(first_message, str):
            socket.send_text(first_message)
        elif first_message is not None:
            socket.send_json(first_message)
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(socket)

    assert closed.value.code == UNAUTHORIZED_CLOSE


def test_a_token_that_expires_while_connected_closes_the_socket_with_4401(
    stream: Stream,
) -> None:
    with stream.connect(f"?token={stream.token()}") as socket:
        subscribed(socket)
        stream.record(heartbeat(0))
        first = receive(socket)
        stream.clock.advance(901)  # tokens last 900 s
        stream.record(heartbeat(1))
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(socket)

    assert first["id"] == 1
    assert closed.value.code == UNAUTHORIZED_CLOSE
    assert "expired" in closed.value.reason


def test_a_fresh_token_sent_in_time_keeps_the_stream_open(stream: Stream) -> None:
    with stream.connect(f"?token={stream.token()}") as socket:
        subscribed(socket)
        stream.clock.advance(800)
        socket.send_json({"token": stream.token()})
        subscribed(socket)
        stream.clock.advance(200)  # the first token has expired, the second has not
        stream.record(heartbeat(0))
        frame = receive(socket)

    assert frame["type"] == "AgentHeartbeat"


def test_without_a_trading_node_the_stream_says_so_and_closes(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'bare.db'}")
    app = create_app(store, ApiSettings(jwt_secret=SecretStr(JWT_SECRET)))
    with (
        store,
        TestClient(app) as client,
        client.websocket_connect(STREAM_PATH) as socket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        socket.receive_json()

    assert closed.value.code == 1013


# -- frames --------------------------------------------------------------------------------


def test_event_frames_carry_the_event_as_the_bus_encodes_it(stream: Stream) -> None:
    codec = JsonCodec()
    with stream.connect(f"?token={stream.token()}") as socket:
        subscribed(socket)
        filled = stream.record(fill_event())
        changed = stream.record(state_change(), bot_id=BOT_A)
        heartbeat_event = stream.record(heartbeat(7), bot_id=None)
        frames = [receive(socket) for _ in range(3)]

    assert all(set(frame) == FRAME_KEYS for frame in frames)
    assert [(f["id"], f["bot_id"], f["type"]) for f in frames] == [
        (filled.event_id, "bot-a", "OrderFilled"),
        (changed.event_id, "bot-a", "BotStateChanged"),
        (heartbeat_event.event_id, None, "AgentHeartbeat"),
    ]
    assert frames[0]["at"] == "2024-05-02T01:02:03.456000Z"
    for frame, event in zip(frames, (fill_event(), state_change(), heartbeat(7)), strict=True):
        assert frame["data"] == json.loads(codec.encode_message(event))
        assert codec.decode_message(json.dumps(frame["data"]).encode(), frame["type"]) == event
    assert frames[0]["data"]["fill"]["price"] == "71500"
    assert frames[1]["data"]["state"] == "paused"


# -- filters -------------------------------------------------------------------------------


def test_a_filter_by_type_and_bot_selects_the_frames_and_can_be_changed(stream: Stream) -> None:
    with stream.connect(f"?token={stream.token()}&types=BotStateChanged&bots=bot-a") as socket:
        first = subscribed(socket)
        stream.record(heartbeat(0), bot_id=BOT_A)
        stream.record(state_change(BOT_B), bot_id=BOT_B)
        stream.record(state_change(BOT_A), bot_id=BOT_A)
        wanted = receive(socket)
        socket.send_json({"types": None})
        changed = subscribed(socket)
        stream.record(state_change(BOT_B), bot_id=BOT_B)
        stream.record(heartbeat(1), bot_id=BOT_A)
        after_change = receive(socket)

    assert (first["data"]["types"], first["data"]["bots"]) == (["BotStateChanged"], ["bot-a"])
    assert (wanted["id"], wanted["type"], wanted["bot_id"]) == (3, "BotStateChanged", "bot-a")
    assert (changed["data"]["types"], changed["data"]["bots"]) == (None, ["bot-a"])
    assert (after_change["id"], after_change["type"]) == (5, "AgentHeartbeat")


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"types": ["OrderFiled"]}, "types: 'OrderFiled' is not a streamed event (did you mean"),
        ({"types": ["BarsOpened"]}, "types: 'BarsOpened' is not a streamed event"),
        ({"bots": "bot-a"}, "bots: a list of names or null"),
        ({"last_event_id": -1}, "last_event_id: an event id >= 0, got -1"),
        ({"topic": "x"}, "unknown key 'topic' (a message may have: token, types, bots"),
        ([1, 2], "a message is a JSON object, got list"),
    ],
)
def test_a_bad_message_gets_an_error_frame_and_the_stream_goes_on(
    stream: Stream, message: Any, error: str
) -> None:
    with stream.connect(f"?token={stream.token()}") as socket:
        subscribed(socket)
        socket.send_json(message)
        refused = receive(socket)
        stream.record(heartbeat(0))
        frame = receive(socket)

    assert refused["type"] == "error"
    assert error in refused["data"]["message"]
    assert frame["id"] == 1


# -- resuming ------------------------------------------------------------------------------


def test_a_client_resumes_after_reconnecting_from_the_last_id_it_saw(stream: Stream) -> None:
    token = stream.token()
    with stream.connect(f"?token={token}") as socket:
        subscribed(socket)
        for sequence in range(3):
            stream.record(heartbeat(sequence))
        seen = [receive(socket)["id"] for _ in range(3)]
    for sequence in range(3, 5):
        stream.record(heartbeat(sequence))  # while the client is away

    with stream.connect(f"?token={token}&last_event_id={seen[-1]}") as socket:
        again = subscribed(socket)
        missed = [receive(socket)["id"] for _ in range(2)]
    with stream.connect(f"?token={token}") as socket:
        subscribed(socket)
        socket.send_json({"last_event_id": 0})
        subscribed(socket)
        everything = [receive(socket)["id"] for _ in range(5)]

    assert seen == [1, 2, 3]
    assert again["data"]["last_event_id"] == 3
    assert missed == [4, 5]
    assert everything == [1, 2, 3, 4, 5]


def test_a_client_behind_the_buffer_gets_a_gap_frame_and_the_oldest_kept(tmp_path: Path) -> None:
    with open_stream(tmp_path, capacity=3) as stream:
        for sequence in range(6):
            stream.record(heartbeat(sequence))

        with stream.connect(f"?token={stream.token()}&last_event_id=1") as socket:
            subscribed(socket)
            frames = [receive(socket) for _ in range(4)]
        token = stream.token()
        metrics = stream.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    assert frames[0] == {
        "id": None,
        "at": None,
        "bot_id": None,
        "type": "gap",
        "data": {"missed": 2, "after": 1, "next": 4},
    }
    assert [frame["id"] for frame in frames[1:]] == [4, 5, 6]
    assert "orchestrade_stream_missed_events_total 2.0" in metrics.text


def test_resuming_after_an_id_this_process_never_gave_starts_over(stream: Stream) -> None:
    stream.record(heartbeat(0))
    stream.record(heartbeat(1))

    with stream.connect(f"?token={stream.token()}&last_event_id=99") as socket:
        subscribed(socket)
        reset = receive(socket)
        frames = [receive(socket)["id"] for _ in range(2)]

    assert (reset["type"], reset["data"]) == ("reset", {"last_event_id": 99, "latest_event_id": 2})
    assert frames == [1, 2]


# -- a real bot ----------------------------------------------------------------------------


def test_a_running_bots_fills_are_streamed_as_they_happen(stream: Stream) -> None:
    request = BotRequest("sma_cross", params=FAST_SLOW, market="krx", mode="paper", interval_s=0.01)
    bot = stream.call(stream.supervisor.create_bot, request)
    query = f"?token={stream.token()}&types=OrderFilled,BotStateChanged&bots={bot.bot_id}"

    with stream.connect(query) as socket:
        subscribed(socket)
        stream.call(stream.supervisor.start_bot, bot.bot_id)
        frames = [receive(socket)]
        while frames[-1]["type"] != "BotStateChanged" or frames[-1]["data"]["state"] != "stopped":
            frames.append(receive(socket))

    fills = [frame for frame in frames if frame["type"] == "OrderFilled"]
    recorded = SqlOrderJournal(stream.store).fills()
    assert len(fills) == len(recorded) > 4
    assert [frame["data"]["fill"]["fill_id"] for frame in fills] == [f.fill_id for f in recorded]
    assert {frame["bot_id"] for frame in frames} == {bot.bot_id}
    assert frames[0]["data"]["state"] == "running"
    assert frames[-1]["data"]["reason"].startswith("its stored bars ran out")
