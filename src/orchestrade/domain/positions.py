"""Holdings in one symbol, valued by the average cost method."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.fills import Fill
from orchestrade.domain.ids import Symbol
from orchestrade.domain.validation import assign, require_decimal, require_positive, require_text


@dataclass(frozen=True, slots=True)
class Position:
    """Signed quantity (short < 0), its cost basis, and the P&L realized so far.

    Accounting (average cost):

    - `cost_basis` is the signed amount paid for the open quantity (received, for a short),
      fees excluded; `average_price` = cost_basis / quantity.
    - Reducing a position releases cost_basis pro rata; realized P&L grows by the closing
      cash flow minus the released cost. A fill that crosses zero first closes the whole
      position, then opens the remainder on the other side at the fill price.
    - Fees and taxes are charged to realized P&L on the fill that pays them, opening fills
      included (they are never folded into the cost basis).

    The released cost is the one division; it is rounded to 10 decimal places (or the cost
    basis' own, when finer), so every later sum is exact and the books always balance:
    realized + unrealized P&L == net cash flows of all fills + market value. Once a position
    is closed, its realized P&L is exactly the sum of its fills' net cash flows.
    """

    symbol: Symbol
    quantity: Decimal = Decimal(0)
    cost_basis: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        require_text("Position.symbol", self.symbol)
        quantity = require_decimal("Position.quantity", self.quantity)
        cost = require_decimal("Position.cost_basis", self.cost_basis)
        assign(self, "quantity", quantity)
        assign(self, "cost_basis", cost)
        assign(self, "realized_pnl", require_decimal("Position.realized_pnl", self.realized_pnl))
        if _sign(cost) != _sign(quantity):
            raise ValidationError(
                f"Position {self.symbol}: cost_basis {cost} must have the sign of quantity "
                f"{quantity} (zero when flat)"
            )

    @classmethod
    def trusted(
        cls, symbol: Symbol, quantity: Decimal, cost_basis: Decimal, realized_pnl: Decimal
    ) -> Position:
        """A position built without the checks of the constructor.

        Only for values that were checked already: positions read back from the store,
        which saved them from checked Positions (the API lists them hundreds of times a
        second). The caller guarantees what `__post_init__` would check.
        """
        position = object.__new__(cls)
        set_symbol, set_quantity, set_cost_basis, set_realized_pnl = _POSITION_SLOTS
        set_symbol(position, symbol)
        set_quantity(position, quantity)
        set_cost_basis(position, cost_basis)
        set_realized_pnl(position, realized_pnl)
        return position

    @property
    def is_flat(self) -> bool:
        """True when nothing is held."""
        return self.quantity == 0

    @property
    def average_price(self) -> Decimal | None:
        """Average entry price (positive for longs and shorts), None when flat."""
        return None if self.quantity == 0 else self.cost_basis / self.quantity

    def market_value(self, price: Decimal) -> Decimal:
        """quantity x price (negative for a short)."""
        return self.quantity * require_positive("price", price)

    def unrealized_pnl(self, price: Decimal) -> Decimal:
        """What closing at `price` would add to realized P&L, before fees."""
        return self.market_value(price) - self.cost_basis

    def apply(self, fill: Fill) -> Position:
        """The position after `fill` (see the class docstring for the accounting)."""
        if fill.symbol != self.symbol:
            raise ValidationError(f"fill {fill.fill_id} is for {fill.symbol}, not {self.symbol}")
        quantity, cost = self.quantity, self.cost_basis
        change, price = fill.signed_quantity, fill.price
        realized = self.realized_pnl - fill.fee - fill.tax
        if quantity != 0 and _sign(change) != _sign(quantity):
            closing = min(abs(change), abs(quantity)) * _sign(change)
            released = cost if closing == -quantity else _release(cost, -closing / quantity)
            realized += -closing * price - released
            quantity += closing
            cost = cost - released if quantity else Decimal(0)
            change -= closing
        cost += change * price
        quantity += change
        return Position(self.symbol, quantity, cost, realized)


_POSITION_SLOTS = tuple(
    getattr(Position, name).__set__ for name in ("symbol", "quantity", "cost_basis", "realized_pnl")
)
"""The slot setters of `Position`, for `Position.trusted` (frozen: setattr refuses)."""


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


_RELEASE_PLACES = 10


def _release(cost: Decimal, fraction: Decimal) -> Decimal:
    """cost x fraction on a fixed decimal grid, so that the sums it enters stay exact."""
    exponent = cost.as_tuple().exponent
    if not isinstance(exponent, int):  # pragma: no cover - cost is finite, checked on construction
        raise ValidationError(f"cost basis {cost} is not finite")
    return (cost * fraction).quantize(Decimal(1).scaleb(min(exponent, -_RELEASE_PLACES)))
