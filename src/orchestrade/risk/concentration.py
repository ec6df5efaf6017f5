"""Concentration limits: per-symbol caps and a cap on each sector's share of equity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import ClassVar

from orchestrade.domain import Order, Symbol
from orchestrade.risk.checks import fraction_limit, is_reducing, valuation_price
from orchestrade.risk.decisions import APPROVED, Decision, Denied, format_percent
from orchestrade.risk.errors import RiskConfigurationError
from orchestrade.risk.ports import PositionBook


@dataclass(frozen=True, slots=True)
class SymbolConcentrationCheck:
    """Per-symbol caps on position value as a fraction of equity (symbols not listed: no cap).

    Tighter than the account-wide `max_position` for the names listed, e.g. a thinly traded
    stock capped at 5%.
    """

    name: ClassVar[str] = "symbol_concentration"
    limits: Mapping[Symbol, Decimal]

    def __post_init__(self) -> None:
        checked = {
            symbol: fraction_limit(f"{self.name}[{symbol}]", limit)
            for symbol, limit in self.limits.items()
        }
        object.__setattr__(self, "limits", MappingProxyType(checked))

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        limit = self.limits.get(order.symbol)
        if limit is None:
            return APPROVED
        held = book.quantity(order.symbol)
        if is_reducing(order, held):
            return APPROVED
        price = valuation_price(order, book)
        equity = book.equity()
        if price is None or equity <= 0:
            return Denied(self.name, f"{self.name}: cannot value {order.symbol} against equity")
        fraction = abs(held + order.signed_quantity) * price / equity
        if fraction > limit:
            return Denied(
                self.name,
                f"{self.name}: {order.symbol} would be {format_percent(fraction)} of equity, "
                f"limit {format_percent(limit)}",
            )
        return APPROVED


@dataclass(frozen=True, slots=True)
class SectorConcentrationCheck:
    """Cap the gross value of all positions of one sector at `max_fraction` of equity.

    `sectors` maps symbol -> sector name; an order in a symbol without a sector is not
    limited. Other positions are valued at their last trade, the ordered symbol at the
    order's price. A position with no known price is an error of the caller's data and
    denies the order (naming the symbol).
    """

    name: ClassVar[str] = "sector_concentration"
    sectors: Mapping[Symbol, str]
    max_fraction: Decimal

    def __post_init__(self) -> None:
        for symbol, sector in self.sectors.items():
            if not isinstance(sector, str) or not sector:
                raise RiskConfigurationError(
                    f"{self.name}: sector of {symbol} must be a non-empty str, got {sector!r}"
                )
        object.__setattr__(self, "sectors", MappingProxyType(dict(self.sectors)))
        object.__setattr__(self, "max_fraction", fraction_limit(self.name, self.max_fraction))

    def evaluate(self, order: Order, book: PositionBook) -> Decision:
        sector = self.sectors.get(order.symbol)
        if sector is None:
            return APPROVED
        held = book.quantity(order.symbol)
        if is_reducing(order, held):
            return APPROVED
        price = valuation_price(order, book)
        equity = book.equity()
        if price is None or equity <= 0:
            return Denied(self.name, f"{self.name}: cannot value {order.symbol} against equity")
        exposure = abs(held + order.signed_quantity) * price
        for symbol, quantity in book.positions().items():
            if symbol == order.symbol or self.sectors.get(symbol) != sector:
                continue
            last = book.last_price(symbol)
            if last is None:
                return Denied(self.name, f"{self.name}: no last trade to value {symbol}")
            exposure += abs(quantity) * last
        fraction = exposure / equity
        if fraction > self.max_fraction:
            return Denied(
                self.name,
                f"{self.name}: sector {sector} would be {format_percent(fraction)} of equity, "
                f"limit {format_percent(self.max_fraction)}",
            )
        return APPROVED
