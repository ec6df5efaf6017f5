"""Bar builders for broker and runtime tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orchestrade.domain import Bar, Symbol

DAY0 = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)

Number = int | float | str | Decimal


def _decimal(value: Number) -> Decimal:
    return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)


def daily_bar(
    day: int,
    open: Number,
    high: Number | None = None,
    low: Number | None = None,
    close: Number | None = None,
    volume: Number = 1_000_000,
    *,
    symbol: str = "005930",
) -> Bar:
    """The daily bar of `day` days after 2024-01-02; high/low/close default to the open."""
    return Bar(
        symbol=Symbol(symbol),
        timeframe="1d",
        start=DAY0 + timedelta(days=day),
        open=_decimal(open),
        high=_decimal(open if high is None else high),
        low=_decimal(open if low is None else low),
        close=_decimal(open if close is None else close),
        volume=_decimal(volume),
    )
