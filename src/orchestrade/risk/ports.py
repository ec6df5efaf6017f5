"""What the risk engine needs to know about the account and the market, as a Protocol.

Portfolio (positions, equity) and the market-data cache (prices, instruments) satisfy it
together; tests use an in-memory twin (`tests/risk/fakes.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from orchestrade.domain import Instrument, Symbol


class PositionBook(Protocol):
    """The account and market state a pre-trade check reads; every method is a cheap lookup.

    Quantities are signed (short < 0); prices and equity are in the instrument's currency.
    """

    def quantity(self, symbol: Symbol) -> Decimal:
        """Signed quantity held in `symbol` (0 when flat)."""
        ...

    def positions(self) -> Mapping[Symbol, Decimal]:
        """Every non-flat position: symbol -> signed quantity."""
        ...

    def equity(self) -> Decimal:
        """Current equity: cash plus the market value of all positions."""
        ...

    def day_start_equity(self) -> Decimal:
        """Equity at the start of the trading day (the daily-loss base)."""
        ...

    def last_price(self, symbol: Symbol) -> Decimal | None:
        """Price of the last trade of `symbol`, None when none is known."""
        ...

    def reference_price(self, symbol: Symbol) -> Decimal | None:
        """Price a market order of `symbol` is expected to fill near (best quote, next open).

        None when unknown; a market order is then valued at the last trade.
        """
        ...

    def previous_close(self, symbol: Symbol) -> Decimal | None:
        """The previous session's close (KRX price-limit base), None when unknown."""
        ...

    def instrument(self, symbol: Symbol) -> Instrument | None:
        """The instrument traded as `symbol`, None when unknown."""
        ...


RiskContext = PositionBook
"""Alias: the whole context a check evaluates an order against."""
