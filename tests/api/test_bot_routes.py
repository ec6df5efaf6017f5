"""Bots and agents through the API, against a fake trading node: exact bodies, exact
requests reaching the node, and every refusal as a coded JSON error."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from orchestrade.auth import Role
from orchestrade.domain import BotId
from orchestrade.orchestration.control import BotRequest
from orchestrade.strategies import builtin_spec

from .conftest import Api
from .test_errors import assert_error

BOTS = "/api/v1/bots"
CREATED = "2024-01-02T00:00:00Z"


def create(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"strategy": "sma_cross", **fields}
    response = api.client.post(BOTS, json=body, headers=api.headers(Role.TRADER))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_trader_creates_a_paused_bot_from_a_built_in_strategy(api: Api) -> None:
    created = create(api, params={"fast": 5}, symbols=["005930"], allocation="0.25", name="fast")

    assert created == {
        "bot_id": "bot-1",
        "name": "fast",
        "strategy_name": "sma_cross",
        "strategy": json.loads(json.dumps(builtin_spec("sma_cross").to_dict())),
        "params": {"fast": 5},
        "symbols": ["005930"],
        "allocation": "0.25",
        "state": "paused",
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    assert api.control.calls == [
        (
            "create_bot",
            BotRequest(
                strategy="sma_cross",
                name="fast",
                params={"fast": 5},
                symbols=("005930",),
                allocation=Decimal("0.25"),
            ),
        )
    ]


def test_a_spec_document_and_every_option_reach_the_node(api: Api) -> None:
    document = json.loads(json.dumps(builtin_spec("rsi_reversion").to_dict()))
    document["name"] = "my_rsi"

    created = create(
        api,
        strategy=document,
        market="krx",
        timeframe="1h",
        cash=5_000_000,
        mode="replay",
        interval_s=0.5,
        speed=20,
    )

    assert created["strategy_name"] == "my_rsi"
    assert created["name"] == "my_rsi"
    assert created["symbols"] == ["005930", "000660"]
    assert created["allocation"] == "1"
    ((_, request),) = api.control.calls
    assert request == BotRequest(
        strategy=document,
        market="krx",
        timeframe="1h",
        cash=5_000_000.0,
        mode="replay",
        interval_s=0.5,
        speed=20.0,
    )


def test_bad_bot_requests_are_422_naming_the_field(api: Api) -> None:
    trader = api.headers(Role.TRADER)

    def refused(**fields: Any) -> str:
        body = {"strategy": "sma_cross", **fields}
        return assert_error(
            api.client.post(BOTS, json=body, headers=trader), 422, "invalid_request"
        )

    unknown = refused(strategy="sma_crosss")
    path = refused(strategy="/etc/passwd")
    spec = refused(strategy={"name": "x"})
    parameter = refused(params={"fastt": 3})
    symbol = refused(symbols=["999999"])
    allocation = refused(allocation="1.5")
    speed = refused(speed="fast")
    extra = refused(colour="red")

    assert unknown.startswith("body.strategy: Value error, $: no built-in strategy 'sma_crosss'")
    assert "did you mean 'sma_cross'" in unknown
    assert path.startswith("body.strategy: Value error, $: no built-in strategy '/etc/passwd'")
    assert spec == "body.strategy: Value error, $: 'entry' is a required property"
    assert parameter == (
        "params: strategy 'sma_cross' has no parameter 'fastt'; did you mean 'fast'? "
        "(valid: fast, slow)"
    )
    assert symbol == "symbols: no bars are stored for 999999"
    assert allocation == "body.allocation: Input should be less than or equal to 1"
    assert speed.startswith("body.speed.")
    assert extra == "body.colour: Extra inputs are not permitted"
    assert [name for name, _ in api.control.calls] == ["create_bot", "create_bot"]


def test_a_bot_is_started_paused_stopped_and_deleted(api: Api) -> None:
    trader, viewer = api.headers(Role.TRADER), api.headers(Role.VIEWER)
    create(api)

    api.clock.advance(60)
    started = api.client.post(f"{BOTS}/bot-1/start", headers=trader)
    agents = api.client.get("/api/v1/agents", headers=viewer).json()
    api.clock.advance(60)
    paused = api.client.post(f"{BOTS}/bot-1/pause", headers=trader)
    agents_paused = api.client.get("/api/v1/agents", headers=viewer).json()
    stopped = api.client.post(f"{BOTS}/bot-1/stop", headers=trader)
    listed = api.client.get(BOTS, headers=viewer).json()
    deleted = api.client.delete(f"{BOTS}/bot-1", headers=trader)

    assert started.status_code == 200
    assert started.json()["state"] == "running"
    assert started.json()["updated_at"] == "2024-01-02T00:01:00Z"
    assert [agent["name"] for agent in agents] == [
        "data",
        "strategy",
        "risk",
        "execution",
        "portfolio",
    ]
    assert agents[0] == {
        "bot_id": "bot-1",
        "name": "data",
        "agent_id": "bot-1/data",
        "status": "running",
        "last_heartbeat": "2024-01-02T00:01:00Z",
        "restarts": 0,
    }
    assert paused.json()["state"] == "paused"
    assert paused.json()["updated_at"] == "2024-01-02T00:02:00Z"
    assert agents_paused == []
    assert stopped.json()["state"] == "stopped"
    assert [(bot["bot_id"], bot["state"]) for bot in listed] == [("bot-1", "stopped")]
    assert deleted.status_code == 200
    assert deleted.json() == {"bot_id": "bot-1", "deleted": True}
    assert api.client.get(BOTS, headers=viewer).json() == []
    assert [name for name, _ in api.control.calls] == [
        "create_bot",
        "start_bot",
        "pause_bot",
        "stop_bot",
        "delete_bot",
    ]


def test_one_bot_is_read_and_unknown_ones_are_404(api: Api) -> None:
    viewer, trader = api.headers(Role.VIEWER), api.headers(Role.TRADER)
    created = create(api)

    one = api.client.get(f"{BOTS}/bot-1", headers=viewer)

    assert one.json() == created
    for method, path in (
        ("GET", f"{BOTS}/bot-9"),
        ("POST", f"{BOTS}/bot-9/start"),
        ("POST", f"{BOTS}/bot-9/pause"),
        ("POST", f"{BOTS}/bot-9/stop"),
        ("DELETE", f"{BOTS}/bot-9"),
    ):
        headers = viewer if method == "GET" else trader
        message = assert_error(api.client.request(method, path, headers=headers), 404, "not_found")
        assert message == "no bot 'bot-9'"


def test_a_running_bot_cannot_be_deleted(api: Api) -> None:
    trader = api.headers(Role.TRADER)
    create(api)
    api.client.post(f"{BOTS}/bot-1/start", headers=trader)

    message = assert_error(api.client.delete(f"{BOTS}/bot-1", headers=trader), 409, "conflict")

    assert message == "bot bot-1 is running: stop or pause it first"
    assert [bot.bot_id for bot in api.control.bots()] == [BotId("bot-1")]


def test_a_bot_s_allocation_changes_within_zero_and_one(api: Api) -> None:
    trader = api.headers(Role.TRADER)
    create(api)

    changed = api.client.put(f"{BOTS}/bot-1/allocation", json={"allocation": 0.4}, headers=trader)
    too_much = api.client.put(f"{BOTS}/bot-1/allocation", json={"allocation": 2}, headers=trader)
    missing = api.client.put(f"{BOTS}/bot-1/allocation", json={}, headers=trader)
    unknown = api.client.put(f"{BOTS}/bot-7/allocation", json={"allocation": 0}, headers=trader)

    assert changed.status_code == 200
    assert changed.json()["allocation"] == "0.4"
    assert api.control.bot(BotId("bot-1")).allocation == Decimal("0.4")
    assert assert_error(too_much, 422, "invalid_request") == (
        "body.allocation: Input should be less than or equal to 1"
    )
    assert assert_error(missing, 422, "invalid_request") == "body.allocation: Field required"
    assert assert_error(unknown, 404, "not_found") == "no bot 'bot-7'"


def test_an_agent_is_restarted_and_its_count_goes_up(api: Api) -> None:
    trader, viewer = api.headers(Role.TRADER), api.headers(Role.VIEWER)
    create(api)
    create(api)
    api.client.post(f"{BOTS}/bot-1/start", headers=trader)
    api.client.post(f"{BOTS}/bot-2/start", headers=trader)
    api.clock.advance(30)

    restarted = api.client.post("/api/v1/agents/bot-2/risk/restart", headers=trader)
    of_bot_2 = api.client.get("/api/v1/agents?bot_id=bot-2", headers=viewer).json()

    assert restarted.json() == {
        "bot_id": "bot-2",
        "name": "risk",
        "agent_id": "bot-2/risk",
        "status": "running",
        "last_heartbeat": "2024-01-02T00:00:30Z",
        "restarts": 1,
    }
    assert [(agent["name"], agent["restarts"]) for agent in of_bot_2] == [
        ("data", 0),
        ("strategy", 0),
        ("risk", 1),
        ("execution", 0),
        ("portfolio", 0),
    ]
    assert len(api.client.get("/api/v1/agents", headers=viewer).json()) == 10


def test_restarting_an_agent_of_an_unknown_idle_or_agentless_bot_is_refused(api: Api) -> None:
    trader = api.headers(Role.TRADER)
    create(api)

    unknown_bot = api.client.post("/api/v1/agents/bot-9/risk/restart", headers=trader)
    idle = api.client.post("/api/v1/agents/bot-1/risk/restart", headers=trader)
    api.client.post(f"{BOTS}/bot-1/start", headers=trader)
    unknown_agent = api.client.post("/api/v1/agents/bot-1/oracle/restart", headers=trader)

    assert assert_error(unknown_bot, 404, "not_found") == "no bot 'bot-9'"
    assert assert_error(idle, 409, "conflict") == "bot bot-1 is not running"
    assert assert_error(unknown_agent, 422, "invalid_request") == (
        "bot bot-1 has no agent 'oracle' (data, strategy, risk, execution, portfolio)"
    )


def test_viewers_read_bots_but_cannot_change_them(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)
    create(api)

    listed = api.client.get(BOTS, headers=viewer)
    start = api.client.post(f"{BOTS}/bot-1/start", headers=viewer)
    new = api.client.post(BOTS, json={"strategy": "sma_cross"}, headers=viewer)

    assert listed.status_code == 200
    assert assert_error(start, 403, "forbidden") == "this needs the trader role; vera is a viewer"
    assert_error(new, 403, "forbidden")
    assert [name for name, _ in api.control.calls] == ["create_bot"]
