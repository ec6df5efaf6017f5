"""Builders of fills, orders, bars and positions for the anomaly tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orchestrade.domain import (
    Bar,
    BotId,
    Fill,
    FillId,
    Order,
    OrderId,
    OrderType,
    Side,
    Symbol,
)

T0 = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)
BOT = BotId("bot-1")


def at(seconds: float) -> datetime:
    """T0 plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


def order(
    order_id: str = "o-1",
    side: Side = Side.BUY,
    *,
    order_type: OrderType = OrderType.MARKET,
    quantity: str = "10",
    limit: str | None = None,
    stop: str | None = None,
    symbol: str = "005930",
    bot: str | None = BOT,
) -> Order:
    """A NEW order of `bot`."""
    return Order(
        order_id=OrderId(order_id),
        symbol=Symbol(symbol),
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        created_at=T0,
        limit_price=None if limit is None else Decimal(limit),
        stop_price=None if stop is None else Decimal(stop),
        bot_id=None if bot is None else BotId(bot),
    )


def fill(
    fill_id: str,
    seconds: float = 0,
    *,
    side: Side = Side.BUY,
    quantity: str = "10",
    price: str = "100",
    fee: str = "0",
    tax: str = "0",
    order_id: str = "o-1",
    symbol: str = "005930",
) -> Fill:
    """A fill at T0 + `seconds`."""
    return Fill(
        fill_id=FillId(fill_id),
        order_id=OrderId(order_id),
        symbol=Symbol(symbol),
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        filled_at=at(seconds),
        fee=Decimal(fee),
        tax=Decimal(tax),
    )


def bar(
    start: datetime,
    close: str,
    *,
    open_: str | None = None,
    high: str | None = None,
    low: str | None = None,
    volume: str = "100",
    symbol: str = "BTCUSDT",
    timeframe: str = "1m",
) -> Bar:
    """A bar; open defaults to the close, high and low to the extremes of open and close."""
    first = Decimal(open_ if open_ is not None else close)
    last = Decimal(close)
    return Bar(
        symbol=Symbol(symbol),
        timeframe=timeframe,
        start=start,
        open=first,
        high=Decimal(high) if high is not None else max(first, last),
        low=Decimal(low) if low is not None else min(first, last),
        close=last,
        volume=Decimal(volume),
    )
