"""Orders, fills, positions and signals as the API shows them. Money is a decimal string."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from orchestrade.domain import (
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    SignalSide,
    TimeInForce,
)
from orchestrade.storage import OrderEvent, SignalDecision


class OrderOut(BaseModel):
    """An order as last recorded by the OMS."""

    order_id: str
    bot_id: str | None
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    broker_order_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            order_id=order.order_id,
            bot_id=order.bot_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            quantity=order.quantity,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
            status=order.status,
            filled_quantity=order.filled_quantity,
            average_fill_price=order.average_fill_price,
            broker_order_id=order.broker_order_id,
            created_at=order.created_at,
        )


class OrderEventOut(BaseModel):
    """One recorded change of an order."""

    at: datetime
    status: OrderStatus
    reason: str
    filled_quantity: Decimal
    average_fill_price: Decimal | None

    @classmethod
    def of(cls, event: OrderEvent) -> OrderEventOut:
        return cls(
            at=event.at,
            status=event.status,
            reason=event.reason,
            filled_quantity=event.filled_quantity,
            average_fill_price=event.average_fill_price,
        )


class FillOut(BaseModel):
    """One execution of an order."""

    fill_id: str
    order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    tax: Decimal
    filled_at: datetime

    @classmethod
    def of(cls, fill: Fill) -> FillOut:
        return cls(
            fill_id=fill.fill_id,
            order_id=fill.order_id,
            symbol=fill.symbol,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            tax=fill.tax,
            filled_at=fill.filled_at,
        )


class OrderDetailOut(BaseModel):
    """An order with its history of changes and its fills, oldest first."""

    order: OrderOut
    events: list[OrderEventOut]
    fills: list[FillOut]


class PositionOut(BaseModel):
    """The last saved position of a bot (`bot_id` null: the whole account) in one symbol."""

    bot_id: str | None
    symbol: str
    quantity: Decimal
    cost_basis: Decimal
    average_price: Decimal | None
    realized_pnl: Decimal

    @classmethod
    def of(cls, bot_id: str | None, position: Position) -> PositionOut:
        return cls(
            bot_id=bot_id,
            symbol=position.symbol,
            quantity=position.quantity,
            cost_basis=position.cost_basis,
            average_price=position.average_price,
            realized_pnl=position.realized_pnl,
        )


class SignalOut(BaseModel):
    """A strategy's signal and what the rules decided on it."""

    time: datetime
    bot_id: str | None
    strategy_id: str
    symbol: str
    side: SignalSide
    confidence: float
    reasons: list[str]
    reference_price: Decimal | None
    approved: bool
    decision_reason: str

    @classmethod
    def of(cls, decision: SignalDecision) -> SignalOut:
        signal = decision.signal
        return cls(
            time=signal.time,
            bot_id=signal.bot_id,
            strategy_id=signal.strategy_id,
            symbol=signal.symbol,
            side=signal.side,
            confidence=signal.confidence,
            reasons=list(signal.reasons),
            reference_price=signal.reference_price,
            approved=decision.approved,
            decision_reason=decision.reason,
        )
