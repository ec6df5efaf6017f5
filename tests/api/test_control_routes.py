"""Rules, risk limits and order cancels through a fake trading node; without a node those
routes answer 503 `no_trading_node` while the store's routes keep working."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrade.api.schemas.rules import RiskLimitsPatch
from orchestrade.auth import Role
from orchestrade.domain import BotId, Order, OrderId, OrderStatus, OrderType, Side, Symbol
from orchestrade.settings import RiskSettings

from .conftest import NAMES, PASSWORDS, Api, build_api
from .test_errors import assert_error

CONFIDENCE_RULE = {
    "name": "min_confidence",
    "description": "Do not trade unsure signals.",
    "priority": 100,
    "event": "SignalGenerated",
    "when": {"field": "signal.confidence", "lt": 0.7},
    "action": "reject",
}


def test_an_admin_adds_a_rule_and_everyone_reads_it(api: Api) -> None:
    admin, viewer = api.headers(Role.ADMIN), api.headers(Role.VIEWER)
    low = {"name": "notify_fills", "event": "OrderFilled", "action": "notify"}

    added = api.client.post("/api/v1/rules", json=CONFIDENCE_RULE, headers=admin)
    api.client.post("/api/v1/rules", json=low, headers=admin)
    listed = api.client.get("/api/v1/rules", headers=viewer).json()

    assert added.status_code == 201
    assert added.json() == {
        "name": "min_confidence",
        "description": "Do not trade unsure signals.",
        "priority": 100,
        "event": "SignalGenerated",
        "action": "reject",
        "enabled": True,
        "when": {"field": "signal.confidence", "lt": 0.7},
        "params": {},
    }
    assert [rule["name"] for rule in listed] == ["min_confidence", "notify_fills"]
    assert listed[1]["when"] == {}
    # Only the fields given travel: the rule files' defaults apply to the others.
    assert api.control.calls[1] == ("add_rule", low)


def test_bad_or_duplicate_rules_are_refused(api: Api) -> None:
    admin = api.headers(Role.ADMIN)
    api.client.post("/api/v1/rules", json=CONFIDENCE_RULE, headers=admin)

    duplicate = api.client.post("/api/v1/rules", json=CONFIDENCE_RULE, headers=admin)
    bad_event = api.client.post(
        "/api/v1/rules",
        json={**CONFIDENCE_RULE, "name": "x", "event": "SignalGenerate"},
        headers=admin,
    )
    bad_name = api.client.post(
        "/api/v1/rules", json={**CONFIDENCE_RULE, "name": "no spaces"}, headers=admin
    )
    by_trader = api.client.post(
        "/api/v1/rules", json={**CONFIDENCE_RULE, "name": "y"}, headers=api.headers(Role.TRADER)
    )

    assert (
        assert_error(duplicate, 409, "conflict") == "a rule named 'min_confidence' exists already"
    )
    assert "SignalGenerated" in assert_error(bad_event, 422, "invalid_request")
    assert assert_error(bad_name, 422, "invalid_request").startswith(
        "body.name: String should match"
    )
    assert assert_error(by_trader, 403, "forbidden") == "this needs the admin role; tom is a trader"
    assert [rule.name for rule in api.control.rules()] == ["min_confidence"]


def test_an_admin_disables_and_enables_a_rule(api: Api) -> None:
    admin = api.headers(Role.ADMIN)
    api.client.post("/api/v1/rules", json=CONFIDENCE_RULE, headers=admin)

    disabled = api.client.patch(
        "/api/v1/rules/min_confidence", json={"enabled": False}, headers=admin
    )
    listed = api.client.get("/api/v1/rules", headers=api.headers(Role.VIEWER)).json()
    enabled = api.client.patch(
        "/api/v1/rules/min_confidence", json={"enabled": True}, headers=admin
    )
    unknown = api.client.patch("/api/v1/rules/nope", json={"enabled": True}, headers=admin)
    empty = api.client.patch("/api/v1/rules/min_confidence", json={}, headers=admin)

    assert disabled.json()["enabled"] is False
    assert listed[0]["enabled"] is False
    assert enabled.json()["enabled"] is True
    assert assert_error(unknown, 404, "not_found") == "no rule 'nope'"
    assert assert_error(empty, 422, "invalid_request") == "body.enabled: Field required"
    assert [call for call in api.control.calls if call[0] == "set_rule_enabled"] == [
        ("set_rule_enabled", ("min_confidence", False)),
        ("set_rule_enabled", ("min_confidence", True)),
    ]


def test_risk_limits_are_read_and_changed_live_by_an_admin(api: Api) -> None:
    admin, viewer = api.headers(Role.ADMIN), api.headers(Role.VIEWER)

    before = api.client.get("/api/v1/risk", headers=viewer).json()
    changed = api.client.patch(
        "/api/v1/risk",
        json={
            "max_daily_loss_pct": 0.05,
            "max_order_notional": 2_000_000,
            "max_position_pct": None,
        },
        headers=admin,
    )
    after = api.client.get("/api/v1/risk", headers=viewer).json()

    assert before == {
        "enabled": True,
        "max_position_pct": 1.0,
        "max_open_positions": None,
        "max_daily_loss_pct": 0.1,
        "max_price_deviation_pct": 0.05,
        "max_order_notional": None,
    }
    assert changed.status_code == 200
    assert (
        after
        == changed.json()
        == {
            "enabled": True,
            "max_position_pct": None,
            "max_open_positions": None,
            "max_daily_loss_pct": 0.05,
            "max_price_deviation_pct": 0.05,
            "max_order_notional": 2_000_000.0,
        }
    )
    # Omitted limits do not travel; a null does (it switches the limit off).
    assert api.control.calls == [
        (
            "update_risk_limits",
            {
                "max_daily_loss_pct": 0.05,
                "max_order_notional": 2_000_000.0,
                "max_position_pct": None,
            },
        )
    ]


def test_bad_risk_changes_are_refused_and_change_nothing(api: Api) -> None:
    admin = api.headers(Role.ADMIN)

    over = api.client.patch("/api/v1/risk", json={"max_daily_loss_pct": 1.5}, headers=admin)
    unknown = api.client.patch("/api/v1/risk", json={"max_loss": 0.1}, headers=admin)
    empty = api.client.patch("/api/v1/risk", json={}, headers=admin)
    by_trader = api.client.patch(
        "/api/v1/risk", json={"enabled": False}, headers=api.headers(Role.TRADER)
    )

    assert assert_error(over, 422, "invalid_request") == (
        "body.max_daily_loss_pct: Input should be less than or equal to 1"
    )
    assert assert_error(unknown, 422, "invalid_request") == (
        "body.max_loss: Extra inputs are not permitted"
    )
    assert assert_error(empty, 422, "invalid_request") == "body: name at least one limit to change"
    assert_error(by_trader, 403, "forbidden")
    assert api.control.calls == []
    assert api.control.risk_limits() == RiskSettings().model_dump()


def test_the_risk_patch_has_the_limits_and_bounds_of_the_settings() -> None:
    theirs, ours = RiskSettings.model_fields, RiskLimitsPatch.model_fields

    assert list(ours) == list(theirs)
    for name, field in theirs.items():
        assert ours[name].annotation == field.annotation, name
        assert ours[name].metadata == field.metadata, name


def accepted_order(order_id: str, status: OrderStatus = OrderStatus.ACCEPTED) -> Order:
    order = Order(
        order_id=OrderId(order_id),
        symbol=Symbol("005930"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(10),
        created_at=datetime(2024, 1, 2, tzinfo=UTC),
        limit_price=Decimal("71000"),
        bot_id=BotId("bot-1"),
    )
    moves = {
        OrderStatus.ACCEPTED: (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED),
        OrderStatus.REJECTED: (OrderStatus.SUBMITTED, OrderStatus.REJECTED),
    }[status]
    for move in moves:
        order = order.with_status(move)
    return order


def test_a_trader_cancels_an_open_order_through_the_node(api: Api) -> None:
    order = accepted_order("o-1")
    api.context.orders.record_order(order, at=order.created_at)
    api.control.open_orders[order.order_id] = order

    cancelled = api.client.post("/api/v1/orders/o-1/cancel", headers=api.headers(Role.TRADER))

    assert cancelled.status_code == 200
    assert cancelled.json()["order_id"] == "o-1"
    assert cancelled.json()["status"] == "cancel_requested"
    assert cancelled.json()["limit_price"] == "71000"
    assert api.control.calls == [("cancel_order", "o-1")]


def test_cancels_of_unknown_finished_or_unheld_orders_are_refused(api: Api) -> None:
    trader = api.headers(Role.TRADER)
    rejected = accepted_order("o-2", OrderStatus.REJECTED)
    unheld = accepted_order("o-3")
    for order in (rejected, unheld):
        api.context.orders.record_order(order, at=order.created_at)

    unknown = api.client.post("/api/v1/orders/o-404/cancel", headers=trader)
    finished = api.client.post("/api/v1/orders/o-2/cancel", headers=trader)
    not_held = api.client.post("/api/v1/orders/o-3/cancel", headers=trader)
    by_viewer = api.client.post("/api/v1/orders/o-3/cancel", headers=api.headers(Role.VIEWER))

    assert assert_error(unknown, 404, "not_found") == "no order 'o-404'"
    assert assert_error(finished, 409, "order_finished") == "order 'o-2' is rejected already"
    assert assert_error(not_held, 409, "conflict") == "no running bot holds order 'o-3'"
    assert_error(by_viewer, 403, "forbidden")
    assert api.control.calls == [("cancel_order", "o-3")]


CONTROL_ROUTES = [
    ("GET", "/api/v1/bots", Role.VIEWER),
    ("POST", "/api/v1/bots", Role.TRADER),
    ("GET", "/api/v1/bots/bot-1", Role.VIEWER),
    ("POST", "/api/v1/bots/bot-1/start", Role.TRADER),
    ("POST", "/api/v1/bots/bot-1/pause", Role.TRADER),
    ("POST", "/api/v1/bots/bot-1/stop", Role.TRADER),
    ("DELETE", "/api/v1/bots/bot-1", Role.TRADER),
    ("PUT", "/api/v1/bots/bot-1/allocation", Role.TRADER),
    ("GET", "/api/v1/agents", Role.VIEWER),
    ("POST", "/api/v1/agents/bot-1/data/restart", Role.TRADER),
    ("GET", "/api/v1/rules", Role.VIEWER),
    ("POST", "/api/v1/rules", Role.ADMIN),
    ("PATCH", "/api/v1/rules/min_confidence", Role.ADMIN),
    ("GET", "/api/v1/risk", Role.VIEWER),
    ("PATCH", "/api/v1/risk", Role.ADMIN),
    ("POST", "/api/v1/orders/o-1/cancel", Role.TRADER),
]


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[TestClient]:
    """An API without a trading node."""
    app, store = build_api(tmp_path, with_control=False)
    with store, TestClient(app, raise_server_exceptions=False) as client:
        yield client


def login(client: TestClient, role: Role) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": NAMES[role], "password": PASSWORDS[role]}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize(("method", "path", "role"), CONTROL_ROUTES)
def test_without_a_trading_node_the_control_routes_answer_503(
    bare: TestClient, method: str, path: str, role: Role
) -> None:
    response = bare.request(method, path, headers=login(bare, role))

    message = assert_error(response, 503, "no_trading_node")
    assert message.startswith("no trading node runs with this API")


def test_without_a_trading_node_roles_are_checked_first_and_the_store_still_answers(
    bare: TestClient,
) -> None:
    viewer = login(bare, Role.VIEWER)

    assert_error(bare.post("/api/v1/bots/bot-1/start", headers=viewer), 403, "forbidden")
    assert_error(bare.get("/api/v1/bots"), 401, "unauthorized")
    assert bare.get("/api/v1/orders", headers=viewer).status_code == 200
    assert bare.get("/api/v1/portfolio/allocations", headers=viewer).status_code == 200
