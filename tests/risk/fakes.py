"""In-memory twin of `orchestrade.risk.PositionBook`, plus order builders for the risk tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from orchestrade.domain import BotId, Instrument, Order, OrderId, OrderType, Side, Symbol

T0 = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)


@dataclass
class FakePositionBook:
    """Positions, equity and prices set directly by the test."""

    held: dict[str, Decimal] = field(default_factory=dict)
    equity_value: Decimal = Decimal(20_000_000)
    day_start: Decimal = Decimal(20_000_000)
    last: dict[str, Decimal] = field(default_factory=dict)
    reference: dict[str, Decimal] = field(default_factory=dict)
    close: dict[str, Decimal] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)

    def quantity(self, symbol: Symbol) -> Decimal:
        return self.held.get(symbol, Decimal(0))

    def positions(self) -> Mapping[Symbol, Decimal]:
        return {Symbol(s): q for s, q in self.held.items() if q != 0}

    def equity(self) -> Decimal:
        return self.equity_value

    def day_start_equity(self) -> Decimal:
        return self.day_start

    def last_price(self, symbol: Symbol) -> Decimal | None:
        return self.last.get(symbol)

    def reference_price(self, symbol: Symbol) -> Decimal | None:
        return self.reference.get(symbol)

    def previous_close(self, symbol: Symbol) -> Decimal | None:
        return self.close.get(symbol)

    def instrument(self, symbol: Symbol) -> Instrument | None:
        return self.instruments.get(symbol)


def order(
    side: Side,
    symbol: str,
    quantity: int,
    *,
    limit: int | str | None = None,
    stop: int | str | None = None,
    bot: str | None = None,
) -> Order:
    """A NEW order; the type follows from the prices given."""
    if limit is not None and stop is not None:
        order_type = OrderType.STOP_LIMIT
    elif limit is not None:
        order_type = OrderType.LIMIT
    elif stop is not None:
        order_type = OrderType.STOP
    else:
        order_type = OrderType.MARKET
    return Order(
        order_id=OrderId(f"o-{symbol}-{side.value}-{quantity}"),
        symbol=Symbol(symbol),
        side=side,
        order_type=order_type,
        quantity=Decimal(quantity),
        created_at=T0,
        limit_price=None if limit is None else Decimal(limit),
        stop_price=None if stop is None else Decimal(stop),
        bot_id=None if bot is None else BotId(bot),
    )


def buy(
    symbol: str,
    quantity: int,
    *,
    limit: int | str | None = None,
    stop: int | str | None = None,
    bot: str | None = None,
) -> Order:
    """A buy order (market unless `limit`/`stop` given)."""
    return order(Side.BUY, symbol, quantity, limit=limit, stop=stop, bot=bot)


def sell(
    symbol: str,
    quantity: int,
    *,
    limit: int | str | None = None,
    stop: int | str | None = None,
    bot: str | None = None,
) -> Order:
    """A sell order (market unless `limit`/`stop` given)."""
    return order(Side.SELL, symbol, quantity, limit=limit, stop=stop, bot=bot)


class FakeClock:
    """Monotonic seconds advanced by hand."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
