"""Market data as values: OHLCV bars, trade prints, top-of-book quotes and order book snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.ids import Symbol
from orchestrade.domain.sides import Side
from orchestrade.domain.validation import (
    assign,
    require_enum,
    require_int,
    require_non_negative,
    require_positive,
    require_text,
    require_utc,
)

TIMEFRAME_SECONDS: dict[str, int] = {
    "1m": 60,
    "5m": 5 * 60,
    "15m": 15 * 60,
    "30m": 30 * 60,
    "1h": 3600,
    "4h": 4 * 3600,
    "1d": 86_400,
    "1w": 7 * 86_400,
}
"""Bar lengths the system stores, shortest first, in seconds."""

TIMEFRAMES: tuple[str, ...] = tuple(TIMEFRAME_SECONDS)
"""Bar lengths the system knows, shortest first."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; `start` is the bar's opening time (daily: 00:00 UTC of the trading date).

    Only types and signs are enforced: real feeds deliver bars whose high is below the close
    and the like, and quality checks need to see them. Use `is_consistent` to test the OHLC
    ordering.
    """

    symbol: Symbol
    timeframe: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        require_text("Bar.symbol", self.symbol)
        if self.timeframe not in TIMEFRAMES:
            raise ValidationError(
                f"Bar.timeframe must be one of {TIMEFRAMES}, got {self.timeframe!r}"
            )
        assign(self, "start", require_utc("Bar.start", self.start))
        for name in ("open", "high", "low", "close"):
            assign(self, name, require_positive(f"Bar.{name}", getattr(self, name)))
        assign(self, "volume", require_non_negative("Bar.volume", self.volume))

    @classmethod
    def trusted(
        cls,
        symbol: Symbol,
        timeframe: str,
        start: datetime,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        volume: Decimal,
    ) -> Bar:
        """A bar built without the checks of the constructor.

        Only for values that were validated already, in bulk (a replay of a checked panel
        builds a hundred thousand bars a second; the checks would be a fifth of its time).
        The caller guarantees what `__post_init__` would check.
        """
        bar = object.__new__(cls)
        set_symbol, set_timeframe, set_start, set_open, set_high, set_low, set_close, set_volume = (
            _BAR_SLOTS
        )
        set_symbol(bar, symbol)
        set_timeframe(bar, timeframe)
        set_start(bar, start)
        set_open(bar, open)
        set_high(bar, high)
        set_low(bar, low)
        set_close(bar, close)
        set_volume(bar, volume)
        return bar

    @property
    def is_consistent(self) -> bool:
        """True when low <= open, close <= high (a well-formed bar)."""
        return self.low <= min(self.open, self.close) and max(self.open, self.close) <= self.high


_BAR_SLOTS = tuple(
    getattr(Bar, name).__set__
    for name in ("symbol", "timeframe", "start", "open", "high", "low", "close", "volume")
)
"""The slot setters of `Bar`, for `Bar.trusted` (frozen: the constructor's setattr refuses)."""


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade print; `aggressor` is the taker's side when the venue reports it."""

    symbol: Symbol
    time: datetime
    price: Decimal
    quantity: Decimal
    aggressor: Side | None = None

    def __post_init__(self) -> None:
        require_text("Tick.symbol", self.symbol)
        assign(self, "time", require_utc("Tick.time", self.time))
        assign(self, "price", require_positive("Tick.price", self.price))
        assign(self, "quantity", require_positive("Tick.quantity", self.quantity))
        if self.aggressor is not None:
            assign(self, "aggressor", require_enum("Tick.aggressor", Side, self.aggressor))


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and ask at one instant. A crossed quote (bid >= ask) is kept, not rejected."""

    symbol: Symbol
    time: datetime
    bid_price: Decimal
    bid_quantity: Decimal
    ask_price: Decimal
    ask_quantity: Decimal

    def __post_init__(self) -> None:
        require_text("Quote.symbol", self.symbol)
        assign(self, "time", require_utc("Quote.time", self.time))
        assign(self, "bid_price", require_positive("Quote.bid_price", self.bid_price))
        assign(self, "ask_price", require_positive("Quote.ask_price", self.ask_price))
        assign(self, "bid_quantity", require_non_negative("Quote.bid_quantity", self.bid_quantity))
        assign(self, "ask_quantity", require_non_negative("Quote.ask_quantity", self.ask_quantity))

    @property
    def mid(self) -> Decimal:
        """(bid + ask) / 2."""
        return (self.bid_price + self.ask_price) / 2

    @property
    def spread(self) -> Decimal:
        """ask - bid (negative when crossed)."""
        return self.ask_price - self.bid_price

    @property
    def is_crossed(self) -> bool:
        """True when bid >= ask, which a healthy feed never shows."""
        return self.bid_price >= self.ask_price


@dataclass(frozen=True, slots=True)
class BookLevel:
    """Resting quantity at one price."""

    price: Decimal
    quantity: Decimal

    def __post_init__(self) -> None:
        assign(self, "price", require_positive("BookLevel.price", self.price))
        assign(self, "quantity", require_positive("BookLevel.quantity", self.quantity))


@dataclass(frozen=True, slots=True)
class OrderBook:
    """An L2 snapshot: bids best (highest) first, asks best (lowest) first.

    Levels must be strictly ordered so that `bids[0]` is the best bid; a reader that gets
    levels in another order sorts them before building the snapshot.
    """

    symbol: Symbol
    time: datetime
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]

    def __post_init__(self) -> None:
        require_text("OrderBook.symbol", self.symbol)
        assign(self, "time", require_utc("OrderBook.time", self.time))
        for name in ("bids", "asks"):
            levels = getattr(self, name)
            if not isinstance(levels, tuple | list) or not all(
                isinstance(level, BookLevel) for level in levels
            ):
                raise ValidationError(f"OrderBook.{name} must be a tuple of BookLevel")
            assign(self, name, tuple(levels))
        _require_strictly_ordered("bids", [level.price for level in self.bids], descending=True)
        _require_strictly_ordered("asks", [level.price for level in self.asks], descending=False)

    @property
    def best_bid(self) -> BookLevel | None:
        """The highest bid, None when the bid side is empty."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        """The lowest ask, None when the ask side is empty."""
        return self.asks[0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        """(best bid + best ask) / 2, None when a side is empty."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2

    @property
    def spread(self) -> Decimal | None:
        """best ask - best bid, None when a side is empty."""
        if not self.bids or not self.asks:
            return None
        return self.asks[0].price - self.bids[0].price

    @property
    def is_crossed(self) -> bool:
        """True when both sides exist and best bid >= best ask."""
        return bool(self.bids and self.asks and self.bids[0].price >= self.asks[0].price)

    def imbalance(self, top_n: int = 5) -> Decimal | None:
        """(bid qty - ask qty) / (bid qty + ask qty) over the best `top_n` levels per side.

        +1 means only bids, -1 only asks; None for an empty book.
        """
        require_int("top_n", top_n, minimum=1)
        bid_quantity = sum((level.quantity for level in self.bids[:top_n]), Decimal(0))
        ask_quantity = sum((level.quantity for level in self.asks[:top_n]), Decimal(0))
        total = bid_quantity + ask_quantity
        if total == 0:
            return None
        return (bid_quantity - ask_quantity) / total


def _require_strictly_ordered(side: str, prices: list[Decimal], *, descending: bool) -> None:
    for index, (first, second) in enumerate(pairwise(prices)):
        if (first <= second) if descending else (first >= second):
            order = "descending" if descending else "ascending"
            raise ValidationError(
                f"OrderBook.{side} must be strictly {order} by price: level {index} is {first}, "
                f"level {index + 1} is {second}"
            )
