"""Builders of orders, fills, bots and signals for the trading repository tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from orchestrade.domain import (
    Bot,
    BotId,
    BotState,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Signal,
    SignalSide,
    StrategyId,
    Symbol,
)

T0 = datetime(2024, 3, 4, 0, 30, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


def limit_buy(order_id: str = "o-1", **changes: Any) -> Order:
    """A NEW limit buy of 10 005930 at 71,000.5 for bot b-1."""
    fields: dict[str, Any] = {
        "order_id": OrderId(order_id),
        "symbol": Symbol("005930"),
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Decimal(10),
        "created_at": T0,
        "limit_price": Decimal("71000.5"),
        "bot_id": BotId("b-1"),
    }
    return Order(**{**fields, **changes})


def fill_of(order: Order, fill_id: str, quantity: str, price: str, *, seconds: float = 1) -> Fill:
    """A fill of `order` with the given id, quantity and price."""
    return Fill(
        fill_id=FillId(fill_id),
        order_id=order.order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        filled_at=at(seconds),
        fee=Decimal("10.65"),
        tax=Decimal(0),
    )


def accepted(order: Order) -> Order:
    """`order` submitted then accepted."""
    return order.with_status(OrderStatus.SUBMITTED).with_status(OrderStatus.ACCEPTED)


def bot(bot_id: str = "b-1", **changes: Any) -> Bot:
    """A running SMA-cross bot on two KRX symbols with a quarter of the capital."""
    fields: dict[str, Any] = {
        "bot_id": BotId(bot_id),
        "name": "SMA cross 5/20",
        "strategy": {
            "name": "sma_cross",
            "entry": {"all": [{"cross_above": ["sma_fast", "sma_slow"]}]},
            "params": {"fast": {"default": 5, "min": 2}},
        },
        "params": {"fast": 5, "slow": 20, "threshold": 0.25, "long_only": True, "note": None},
        "symbols": (Symbol("005930"), Symbol("000660")),
        "allocation": Decimal("0.25"),
        "state": BotState.RUNNING,
        "created_at": T0,
    }
    return Bot(**{**fields, **changes})


def signal(seconds: float = 0, **changes: Any) -> Signal:
    """A buy signal of bot b-1 on 005930 with confidence 0.7."""
    fields: dict[str, Any] = {
        "time": at(seconds),
        "symbol": Symbol("005930"),
        "side": SignalSide.BUY,
        "confidence": 0.7,
        "strategy_id": StrategyId("sma_cross"),
        "bot_id": BotId("b-1"),
        "reasons": ("sma 5 crossed above sma 20", "volume above average"),
        "reference_price": Decimal("71000.5"),
    }
    return Signal(**{**fields, **changes})
