"""The account-wide limits of `RiskSettings`, one check each, built by `limit_checks`.

They follow the backtest kernel's reading of the same settings so that both paths decide
alike: order value, position value and daily loss are compared with strict `>`, exits
(position-reducing orders) pass every limit but the fat-finger one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from orchestrade.domain import Order
from orchestrade.risk.checks import Check, fraction_limit, is_reducing, valuation_price
from orchestrade.risk.decisions import APPROVED, Decision, Denied, format_amount, format_percent
from orchestrade.risk.errors import RiskConfigurationError
from orchestrade.risk.ports import PositionBook
from orchestrade.settings import RiskSettings


def limit_checks(settings: RiskSettings) -> tuple[Check, ...]:
    """The checks for every limit `settings` switches on, cheapest first.

    `enabled=False` is handled by the engine, not here.
    """
    checks: list[Check] = []
    if settings.max_daily_loss_pct is not None:
        checks.append(
            DailyLossCheck(fraction_limit("max_daily_loss_pct", settings.max_daily_loss_pct))
        )
    if settings.max_price_deviation_pct is not None:
        checks.append(
            PriceDeviationCheck(
                fraction_limit("max_price_deviation_pct", settings.max_price_deviation_pct)
            )
        )
    if settings.max_open_positions is not None:
        checks.append(MaxOpenPositionsCheck(settings.max_open_positions))
    if settings.max_position_pct is not None:
        checks.append(
            MaxPositionCheck(fraction_limit("max_position_pct", settings.max_position_pct))
        )
    if settings.max_order_notional is not None:
        checks.append(
            MaxOrderNotionalCheck(fraction_limit("max_order_notional", settings.max_order_notional))
        )
    return tuple(checks)


@dataclass(frozen=True, slots=True)
class MaxOrderNotionalCheck:
    """Deny a new-exposure order whose value (quantity x price) exceeds `max_notional`."""

    name: ClassVar[str] = "max_order_notional"
    max_notional: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_notional", fraction_limit(self.name, self.max_notional))

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        if is_reducing(order, book.quantity(order.symbol)):
            return APPROVED
        price = valuation_price(order, book)
        if price is None:
            return _no_price(self.name, order)
        value = order.quantity * price
        if value > self.max_notional:
            return Denied(
                self.name,
                f"{self.name}: order value {format_amount(value)} "
                f"({format_amount(order.quantity)} x {format_amount(price)}), "
                f"limit {format_amount(self.max_notional)}",
            )
        return APPROVED


@dataclass(frozen=True, slots=True)
class MaxPositionCheck:
    """Deny an order after which one symbol's position is worth more than `max_fraction` of equity.

    The position is valued at the order's price (`valuation_price`).
    """

    name: ClassVar[str] = "max_position"
    max_fraction: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_fraction", fraction_limit(self.name, self.max_fraction))

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        held = book.quantity(order.symbol)
        if is_reducing(order, held):
            return APPROVED
        price = valuation_price(order, book)
        if price is None:
            return _no_price(self.name, order)
        equity = book.equity()
        if equity <= 0:
            return _no_equity(self.name, equity)
        after = held + order.signed_quantity
        fraction = abs(after) * price / equity
        if fraction > self.max_fraction:
            return Denied(
                self.name,
                f"{self.name}: position would be {format_amount(after)} shares = "
                f"{format_percent(fraction)} of equity, limit {format_percent(self.max_fraction)}",
            )
        return APPROVED


@dataclass(frozen=True, slots=True)
class MaxOpenPositionsCheck:
    """Deny an order that opens a position in a new symbol when `max_positions` are held."""

    name: ClassVar[str] = "max_open_positions"
    max_positions: int

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_positions, bool)
            or not isinstance(self.max_positions, int)
            or self.max_positions < 1
        ):
            raise RiskConfigurationError(
                f"{self.name} must be an int >= 1, got {self.max_positions!r}"
            )

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        if book.quantity(order.symbol) != 0:
            return APPROVED
        held = len(book.positions())
        if held >= self.max_positions:
            return Denied(
                self.name,
                f"{self.name}: {order.symbol} would be position {held + 1}, "
                f"limit {self.max_positions}",
            )
        return APPROVED


@dataclass(frozen=True, slots=True)
class DailyLossCheck:
    """No new exposure once equity is more than `max_loss_fraction` below the day's start.

    Exits stay allowed. A day-start equity <= 0 disables the check (no base to measure from),
    like the kernel.
    """

    name: ClassVar[str] = "daily_loss"
    max_loss_fraction: Decimal

    def __post_init__(self) -> None:
        limit = fraction_limit(self.name, self.max_loss_fraction)
        if limit > 1:
            raise RiskConfigurationError(f"{self.name} must be <= 1, got {limit}")
        object.__setattr__(self, "max_loss_fraction", limit)

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        start = book.day_start_equity()
        if start <= 0:
            return APPROVED
        equity = book.equity()
        loss = start - equity
        if loss <= self.max_loss_fraction * start:
            return APPROVED
        if is_reducing(order, book.quantity(order.symbol)):
            return APPROVED
        return Denied(
            self.name,
            f"{self.name}: equity {format_amount(equity)} is {format_percent(loss / start)} "
            f"below the day's start {format_amount(start)}, limit "
            f"{format_percent(self.max_loss_fraction)}; only exits allowed",
        )


@dataclass(frozen=True, slots=True)
class PriceDeviationCheck:
    """Fat finger: deny an order whose price is further than `max_fraction` from the last trade.

    Every price the order carries is checked (limit and stop); a market order is checked
    through its reference price (the open it is expected to fill at) and passes when none is
    known (it fills at the market); a market order that only reduces a position passes. The
    backtest kernel applies the same rule to its entries (a market entry whose open is this
    far from the last close is not made).
    An order with a price but no last trade to compare with is denied.
    """

    name: ClassVar[str] = "price_deviation"
    max_fraction: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_fraction", fraction_limit(self.name, self.max_fraction))

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        if order.limit_price is None and order.stop_price is None:
            if is_reducing(order, book.quantity(order.symbol)):
                # A market exit carries no typed price to get wrong, and refusing it after a
                # gap would trap the position exactly when it must go.
                return APPROVED
            reference = book.reference_price(order.symbol)
            if reference is None:
                return APPROVED
            return self._compare("reference price", reference, order, book)
        decision: Decision = APPROVED
        if order.limit_price is not None:
            decision = self._compare("limit price", order.limit_price, order, book)
        if isinstance(decision, Denied) or order.stop_price is None:
            return decision
        return self._compare("stop price", order.stop_price, order, book)

    def _compare(self, label: str, price: Decimal, order: Order, book: PositionBook) -> Decision:
        last = book.last_price(order.symbol)
        if last is None:
            return Denied(
                self.name, f"{self.name}: no last trade of {order.symbol} to check {label} against"
            )
        deviation = abs(price - last) / last
        if deviation > self.max_fraction:
            return Denied(
                self.name,
                f"{self.name}: {label} {format_amount(price)} is {format_percent(deviation)} "
                f"from last trade {format_amount(last)}, limit {format_percent(self.max_fraction)}",
            )
        return APPROVED


def _no_price(name: str, order: Order) -> Denied:
    return Denied(name, f"{name}: no price known to value the order for {order.symbol}")


def _no_equity(name: str, equity: Decimal) -> Denied:
    return Denied(name, f"{name}: equity is {format_amount(equity)}, nothing may be added")
