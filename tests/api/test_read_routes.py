"""Orders, positions, signals and the audit log read through the API, digit for digit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pydantic import TypeAdapter

from orchestrade.api.routers.positions import PositionDocuments
from orchestrade.api.schemas.trading import PositionOut
from orchestrade.auth import Role
from orchestrade.domain import (
    BotId,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Signal,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.storage import PortfolioRepository, SignalDecision

from .conftest import Api
from .test_errors import assert_error

T = datetime(2024, 3, 4, 0, 30, tzinfo=UTC)
SAMSUNG, HYNIX = Symbol("005930"), Symbol("000660")


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def limit_buy(order_id: str, seconds: float, **changes: object) -> Order:
    fields: dict[str, object] = {
        "order_id": OrderId(order_id),
        "symbol": SAMSUNG,
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal(10),
        "created_at": at(seconds),
        "limit_price": Decimal("71000.5"),
        "bot_id": BotId("b-1"),
    }
    return Order(**{**fields, **changes})  # type: ignore[arg-type]


def record_two_orders_and_a_fill(api: Api) -> tuple[Order, Order]:
    journal = api.context.orders
    first = limit_buy("o-1", 0)
    second = limit_buy("o-2", 60, symbol=HYNIX, bot_id=BotId("b-2"))
    journal.record_order(first, at=at(0))
    accepted = first.with_status(OrderStatus.SUBMITTED).with_status(OrderStatus.ACCEPTED)
    journal.record_order(accepted, at=at(1), reason="accepted by paper")
    fill = Fill(
        FillId("f-1"),
        first.order_id,
        SAMSUNG,
        Side.BUY,
        Decimal(4),
        Decimal("71000.25"),
        at(2),
        Decimal("10.65"),
    )
    filled = accepted.with_fill(fill)
    journal.record_fill(fill, filled, at=at(2))
    journal.record_order(second, at=at(60))
    return filled, second


def test_orders_list_newest_first_with_exact_decimals(api: Api) -> None:
    record_two_orders_and_a_fill(api)
    viewer = api.headers(Role.VIEWER)

    listed = api.client.get("/api/v1/orders", headers=viewer).json()

    assert [order["order_id"] for order in listed] == ["o-2", "o-1"]
    assert listed[1] == {
        "order_id": "o-1",
        "bot_id": "b-1",
        "symbol": "005930",
        "side": "buy",
        "order_type": "limit",
        "quantity": "10",
        "limit_price": "71000.5",
        "stop_price": None,
        "time_in_force": "day",
        "status": "partially_filled",
        "filled_quantity": "4",
        "average_fill_price": "71000.25",
        "broker_order_id": None,
        "created_at": iso(at(0)),
    }


def test_orders_filter_by_bot_symbol_status_and_time(api: Api) -> None:
    record_two_orders_and_a_fill(api)
    viewer = api.headers(Role.VIEWER)

    def ids(**params: str) -> list[str]:
        response = api.client.get("/api/v1/orders", params=params, headers=viewer)
        assert response.status_code == 200, response.text
        return [order["order_id"] for order in response.json()]

    assert ids(bot_id="b-1") == ["o-1"]
    assert ids(symbol="000660") == ["o-2"]
    assert ids(status="new") == ["o-2"]
    assert ids(status="partially_filled") == ["o-1"]
    assert ids(since=iso(at(30))) == ["o-2"]
    assert ids(since="2024-03-04T09:30:00+09:00") == ["o-2", "o-1"]
    assert ids(limit="1") == ["o-2"]


def test_one_order_comes_with_its_history_and_fills(api: Api) -> None:
    record_two_orders_and_a_fill(api)

    detail = api.client.get("/api/v1/orders/o-1", headers=api.headers(Role.VIEWER)).json()

    assert detail["order"]["status"] == "partially_filled"
    assert [(event["status"], event["reason"]) for event in detail["events"]] == [
        ("new", ""),
        ("accepted", "accepted by paper"),
        ("partially_filled", "fill f-1"),
    ]
    assert detail["fills"] == [
        {
            "fill_id": "f-1",
            "order_id": "o-1",
            "symbol": "005930",
            "side": "buy",
            "quantity": "4",
            "price": "71000.25",
            "fee": "10.65",
            "tax": "0",
            "filled_at": iso(at(2)),
        }
    ]


def test_positions_by_bot_and_account_without_flat_ones_unless_asked(api: Api) -> None:
    portfolio = api.context.portfolio
    # Bought 6 at 100 for bot b-1: cost 600, average 100; the account holds 3 at 40 each.
    portfolio.save_positions(
        [Position(SAMSUNG, Decimal(6), Decimal(600)), Position(HYNIX, realized_pnl=Decimal("38"))],
        at=T,
        bot_id=BotId("b-1"),
    )
    portfolio.save_positions([Position(SAMSUNG, Decimal(3), Decimal(120))], at=T)
    viewer = api.headers(Role.VIEWER)

    held = api.client.get("/api/v1/positions", headers=viewer).json()
    with_flat = api.client.get("/api/v1/positions?include_flat=true", headers=viewer).json()
    one_bot = api.client.get("/api/v1/positions?bot_id=b-1", headers=viewer).json()

    assert held == [
        {
            "bot_id": None,
            "symbol": "005930",
            "quantity": "3",
            "cost_basis": "120",
            "average_price": "40",
            "realized_pnl": "0",
        },
        {
            "bot_id": "b-1",
            "symbol": "005930",
            "quantity": "6",
            "cost_basis": "600",
            "average_price": "100",
            "realized_pnl": "0",
        },
    ]
    assert [(item["bot_id"], item["symbol"]) for item in with_flat] == [
        (None, "005930"),
        ("b-1", "000660"),
        ("b-1", "005930"),
    ]
    assert with_flat[1]["average_price"] is None
    assert with_flat[1]["realized_pnl"] == "38"
    assert [item["symbol"] for item in one_bot] == ["005930"]


def test_positions_json_is_the_document_of_the_positions_model(api: Api) -> None:
    # The route writes its JSON itself: it must be, byte for byte, what FastAPI would make
    # of the same positions through PositionOut (its declared response model).
    positions = [
        Position(SAMSUNG, Decimal(3), Decimal("213.5"), Decimal("-1.25")),  # average 71.1666...
        Position(HYNIX, Decimal("-2.5"), Decimal("-1E+2")),
    ]
    api.context.portfolio.save_positions(positions, at=T, bot_id=BotId("b-1"))
    api.context.portfolio.save_positions(positions[:1], at=T)

    answer = api.client.get("/api/v1/positions", headers=api.headers(Role.VIEWER))

    grouped = api.context.portfolio.positions_by_bot(include_flat=False)
    expected = TypeAdapter(list[PositionOut]).dump_json(
        [PositionOut.of(owner, p) for owner, held in grouped.items() for p in held.values()]
    )
    assert answer.headers["content-type"] == "application/json"
    assert answer.content == expected
    assert answer.json()[0]["average_price"] == str(Decimal("213.5") / 3)


def test_a_kept_positions_answer_is_never_served_after_a_save(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)
    api.context.portfolio.save_positions([Position(SAMSUNG, Decimal(1), Decimal(70))], at=T)
    first = api.client.get("/api/v1/positions", headers=viewer).json()
    mine = api.client.get("/api/v1/positions?bot_id=b-1", headers=viewer).json()
    # Saved through another repository on the store: another process, as far as the
    # route's kept answers know.
    PortfolioRepository(api.context.store).save_positions(
        [Position(SAMSUNG, Decimal(2), Decimal(150))], at=T, bot_id=BotId("b-1")
    )

    again = api.client.get("/api/v1/positions", headers=viewer).json()
    mine_again = api.client.get("/api/v1/positions?bot_id=b-1", headers=viewer).json()

    assert [item["quantity"] for item in first] == ["1"]
    assert mine == []
    assert [(item["bot_id"], item["quantity"]) for item in again] == [(None, "1"), ("b-1", "2")]
    assert [item["average_price"] for item in mine_again] == ["75"]


def test_position_documents_keep_answers_for_one_version_only() -> None:
    documents = PositionDocuments()

    assert documents.get(7, False, None) is None
    documents.keep(False, None, b"[1]")
    documents.keep(False, "b-1", b"[2]")

    assert documents.get(7, False, None) == b"[1]"
    assert documents.get(7, False, "b-1") == b"[2]"
    assert documents.get(7, True, None) is None
    assert documents.get(8, False, None) is None  # a save since: everything dropped
    assert documents.get(8, False, "b-1") is None


def test_signals_newest_first_filtered_by_verdict(api: Api) -> None:
    def signal(seconds: float, **changes: object) -> Signal:
        fields: dict[str, object] = {
            "time": at(seconds),
            "symbol": SAMSUNG,
            "side": SignalSide.BUY,
            "confidence": 0.7,
            "strategy_id": StrategyId("sma_cross"),
            "bot_id": BotId("b-1"),
            "reasons": ("sma 5 crossed above sma 20",),
            "reference_price": Decimal("71000.5"),
        }
        return Signal(**{**fields, **changes})  # type: ignore[arg-type]

    api.context.signals.record_many(
        [
            SignalDecision(signal(0), approved=True),
            SignalDecision(
                signal(60, confidence=0.5), approved=False, reason="confidence 0.50 < 0.65"
            ),
        ]
    )
    viewer = api.headers(Role.VIEWER)

    listed = api.client.get("/api/v1/signals", headers=viewer).json()
    rejected = api.client.get("/api/v1/signals?approved=false", headers=viewer).json()

    assert [item["confidence"] for item in listed] == [0.5, 0.7]
    assert rejected == [
        {
            "time": iso(at(60)),
            "bot_id": "b-1",
            "strategy_id": "sma_cross",
            "symbol": "005930",
            "side": "buy",
            "confidence": 0.5,
            "reasons": ["sma 5 crossed above sma 20"],
            "reference_price": "71000.5",
            "approved": False,
            "decision_reason": "confidence 0.50 < 0.65",
        }
    ]


def test_the_audit_log_pages_with_a_cursor_and_filters(api: Api) -> None:
    record_two_orders_and_a_fill(api)  # four journal writes: four audit lines
    viewer = api.headers(Role.VIEWER)

    first = api.client.get("/api/v1/audit?limit=3", headers=viewer).json()
    rest = api.client.get(
        f"/api/v1/audit?limit=3&cursor={first['next_cursor']}", headers=viewer
    ).json()
    fills = api.client.get("/api/v1/audit?kind=fill", headers=viewer).json()
    newest = api.client.get("/api/v1/audit?limit=1&newest_first=true", headers=viewer).json()
    b2 = api.client.get("/api/v1/audit", params={"bot_id": "b-2"}, headers=viewer).json()
    late = api.client.get("/api/v1/audit", params={"start": iso(at(2))}, headers=viewer).json()

    assert [item["kind"] for item in first["items"]] == ["order.new", "order.accepted", "fill"]
    assert first["next_cursor"] == first["items"][-1]["sequence"]
    assert [item["kind"] for item in rest["items"]] == ["order.new"]
    assert rest["next_cursor"] is None
    assert len(fills["items"]) == 1
    assert fills["items"][0]["quantity"] == "4"
    assert fills["items"][0]["price"] == "71000.25"
    assert fills["items"][0]["payload"]["fill"]["fill_id"] == "f-1"
    assert newest["items"][0]["bot_id"] == "b-2"
    assert [item["symbol"] for item in b2["items"]] == ["000660"]
    assert [item["kind"] for item in late["items"]] == ["fill", "order.new"]


def test_an_audit_cursor_past_the_database_s_integers_is_422_not_500(api: Api) -> None:
    # Found by schemathesis: SQLite's driver overflowed on the cursor (an unhandled 500).
    viewer = api.headers(Role.VIEWER)

    too_big = api.client.get("/api/v1/audit", params={"cursor": 2**63}, headers=viewer)
    largest = api.client.get("/api/v1/audit", params={"cursor": 2**63 - 1}, headers=viewer)

    assert assert_error(too_big, 422, "invalid_request") == (
        "query.cursor: Input should be less than or equal to 9223372036854775807"
    )
    assert largest.json() == {"items": [], "next_cursor": None}
