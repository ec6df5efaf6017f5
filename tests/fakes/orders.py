"""Order builders and a settable clock for execution and broker tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orchestrade.domain import BotId, Order, OrderId, OrderType, Side, Symbol, TimeInForce

T0 = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)


class FakeClock:
    """Aware UTC time advanced by hand (`advance`) or set (`now`)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def order(
    order_id: str,
    side: Side = Side.BUY,
    quantity: int | str | Decimal = 10,
    *,
    symbol: str = "005930",
    order_type: OrderType = OrderType.MARKET,
    limit: int | str | Decimal | None = None,
    stop: int | str | Decimal | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    bot: str | None = "bot-1",
    created_at: datetime = T0,
) -> Order:
    """A NEW order; the type follows the prices given unless `order_type` says otherwise."""
    if order_type is OrderType.MARKET and limit is not None:
        order_type = OrderType.LIMIT
    if order_type is OrderType.MARKET and stop is not None:
        order_type = OrderType.STOP
    return Order(
        order_id=OrderId(order_id),
        symbol=Symbol(symbol),
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        created_at=created_at,
        limit_price=None if limit is None else Decimal(limit),
        stop_price=None if stop is None else Decimal(stop),
        time_in_force=tif,
        bot_id=None if bot is None else BotId(bot),
    )


def buy(order_id: str, quantity: int | str | Decimal = 10, **kwargs: object) -> Order:
    return order(order_id, Side.BUY, quantity, **kwargs)  # type: ignore[arg-type]


def sell(order_id: str, quantity: int | str | Decimal = 10, **kwargs: object) -> Order:
    return order(order_id, Side.SELL, quantity, **kwargs)  # type: ignore[arg-type]
