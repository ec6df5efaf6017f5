"""The portfolio: equity over time, how it did, and how capital is shared among the bots.

Money is a decimal string, as recorded; statistics are JSON numbers, null where they are
undefined (a Sharpe ratio of fewer than two daily returns, of a flat curve).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from orchestrade.domain import BotState
from orchestrade.portfolio.analysis import Performance
from orchestrade.storage import PortfolioSnapshot


class EquityPointOut(BaseModel):
    """Cash, market value and equity (= cash + market value) at one time."""

    time: datetime
    cash: Decimal
    market_value: Decimal
    equity: Decimal

    @classmethod
    def of(cls, snapshot: PortfolioSnapshot) -> EquityPointOut:
        return cls(
            time=snapshot.time,
            cash=snapshot.cash,
            market_value=snapshot.market_value,
            equity=snapshot.equity,
        )


class EquityCurveOut(BaseModel):
    """The snapshots of one bot (`bot_id` null: the whole account), oldest first."""

    bot_id: str | None
    points: list[EquityPointOut]


class EquityHistoryOut(BaseModel):
    """The whole account's equity curve and each stored bot's."""

    total: EquityCurveOut
    bots: list[EquityCurveOut]


TradeRecord = tuple[int, int]
"""Closed round trips and how many of them made money."""


class PerformanceOut(BaseModel):
    """ROI, Sharpe ratio, max drawdown and annual volatility of one equity curve, from
    daily returns (last equity of each UTC day, 252 days a year, risk-free rate 0)."""

    roi: float | None = Field(description="Last equity / first equity - 1.")
    sharpe: float | None
    max_drawdown: float | None = Field(description="Deepest fall below the peak, <= 0.")
    volatility: float | None
    observations: int = Field(description="Daily returns behind the Sharpe and volatility.")
    closed_trades: int = Field(
        default=0, description="Round trips closed (flat -> position -> flat), from the fills."
    )
    win_rate: float | None = Field(
        default=None,
        description="Share of the closed round trips whose P&L after fees and taxes is > 0 "
        "(null before the first one closes).",
    )
    first_equity: Decimal
    last_equity: Decimal
    start: datetime
    end: datetime

    @classmethod
    def of(
        cls,
        record: Performance,
        snapshots: list[PortfolioSnapshot],
        trades: TradeRecord | None = None,
    ) -> PerformanceOut:
        closed, won = trades if trades is not None else (0, 0)
        return cls(
            closed_trades=closed,
            win_rate=won / closed if closed else None,
            roi=finite(record.roi),
            sharpe=finite(record.sharpe),
            max_drawdown=finite(record.max_drawdown),
            volatility=finite(record.volatility),
            observations=record.observations,
            first_equity=snapshots[0].equity,
            last_equity=snapshots[-1].equity,
            start=snapshots[0].time,
            end=snapshots[-1].time,
        )


class BotPerformanceOut(BaseModel):
    """One bot's record."""

    bot_id: str
    performance: PerformanceOut


class DiversificationOut(BaseModel):
    """How the bots' risks combine, on the days they all have equity (weights: each bot's
    share of their equity on the last of those days)."""

    weights: dict[str, float]
    risk_shares: dict[str, float | None] = Field(
        description="Each bot's fraction of the portfolio variance (they add up to 1)."
    )
    diversification_ratio: float | None = Field(
        description="sum w_i sigma_i / portfolio sigma: 1 when the bots move together."
    )
    correlation: dict[str, dict[str, float | None]] = Field(
        description="Correlation of the bots' daily returns."
    )


class PortfolioMetricsOut(BaseModel):
    """How the account and each bot did; how diversified the bots are (null under two bots
    with two common days of equity)."""

    total: PerformanceOut | None = Field(description="The account's curve (null: no snapshot).")
    bots: list[BotPerformanceOut]
    skipped: dict[str, str] = Field(
        description="Bots whose equity could not be analysed, and why (e.g. not positive)."
    )
    diversification: DiversificationOut | None


class AllocationOut(BaseModel):
    """A stored bot's share of capital, and its share of the bots' latest equity."""

    bot_id: str
    name: str
    state: BotState
    allocation: Decimal
    equity: Decimal | None = Field(description="Latest snapshot's (null: none yet).")
    equity_share: float | None = Field(
        description="equity / the sum of the listed bots' latest equity."
    )


class AllocationsOut(BaseModel):
    """Every stored bot's allocation, oldest bot first."""

    items: list[AllocationOut]
    total_allocation: Decimal
    total_equity: Decimal = Field(description="Sum of the bots' latest equity.")


def finite(value: float) -> float | None:
    """`value`, or None when it is NaN or infinite (JSON has neither)."""
    return value if math.isfinite(value) else None
