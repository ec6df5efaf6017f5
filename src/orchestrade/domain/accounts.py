"""Cash plus positions in one currency: the ledger that fills update."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from orchestrade.domain.errors import MissingPriceError, ValidationError
from orchestrade.domain.fills import Fill
from orchestrade.domain.ids import Symbol
from orchestrade.domain.positions import Position
from orchestrade.domain.validation import assign, require_decimal, require_text


@dataclass(frozen=True, slots=True)
class Account:
    """Cash and positions. Flat positions stay in `positions`: they keep the realized P&L.

    Equity = cash + market value of the positions. Applying a fill moves its net cash flow
    (fees and taxes included) into cash and updates the symbol's position.
    """

    currency: str
    cash: Decimal
    positions: Mapping[Symbol, Position] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_text("Account.currency", self.currency)
        assign(self, "cash", require_decimal("Account.cash", self.cash))
        positions = dict(self.positions)
        for symbol, position in positions.items():
            if not isinstance(position, Position) or position.symbol != symbol:
                raise ValidationError(
                    f"Account.positions[{symbol!r}] must be the Position of {symbol}"
                )
        assign(self, "positions", MappingProxyType(positions))

    def position(self, symbol: Symbol) -> Position:
        """The position in `symbol` (flat when never traded)."""
        position = self.positions.get(symbol)
        return Position(symbol) if position is None else position

    @property
    def open_positions(self) -> Mapping[Symbol, Position]:
        """Positions that are not flat."""
        return {symbol: p for symbol, p in self.positions.items() if not p.is_flat}

    @property
    def realized_pnl(self) -> Decimal:
        """Realized P&L of all positions, fees and taxes deducted."""
        return sum((p.realized_pnl for p in self.positions.values()), Decimal(0))

    def apply(self, fill: Fill) -> Account:
        """The account after `fill`."""
        positions = dict(self.positions)
        positions[fill.symbol] = self.position(fill.symbol).apply(fill)
        return Account(self.currency, self.cash + fill.net_cash_flow, positions)

    def market_value(self, prices: Mapping[Symbol, Decimal]) -> Decimal:
        """Sum of quantity x price over open positions.

        Raises:
            MissingPriceError: an open position's symbol has no price in `prices`.
        """
        return sum(
            (p.market_value(self._price(prices, s)) for s, p in self.open_positions.items()),
            Decimal(0),
        )

    def unrealized_pnl(self, prices: Mapping[Symbol, Decimal]) -> Decimal:
        """Sum of unrealized P&L over open positions."""
        return sum(
            (p.unrealized_pnl(self._price(prices, s)) for s, p in self.open_positions.items()),
            Decimal(0),
        )

    def equity(self, prices: Mapping[Symbol, Decimal]) -> Decimal:
        """cash + market value."""
        return self.cash + self.market_value(prices)

    @staticmethod
    def _price(prices: Mapping[Symbol, Decimal], symbol: Symbol) -> Decimal:
        try:
            return prices[symbol]
        except KeyError:
            raise MissingPriceError(f"no price for open position {symbol}") from None
