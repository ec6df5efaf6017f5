"""The portfolio: equity history (the account and each bot), how it did, and allocations.

Read from what the portfolio agent stored (snapshots) and the stored bots, so these work
whether or not bots run with the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query

from orchestrade.anomaly import RoundTrips
from orchestrade.api.deps import ApiContext, Context
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.portfolio import (
    AllocationOut,
    AllocationsOut,
    BotPerformanceOut,
    DiversificationOut,
    EquityCurveOut,
    EquityHistoryOut,
    EquityPointOut,
    PerformanceOut,
    PortfolioMetricsOut,
    TradeRecord,
    finite,
)
from orchestrade.api.security import ViewerUser
from orchestrade.domain import BotId, Position
from orchestrade.portfolio.analysis import PortfolioAnalysis, analyse, daily_equity, performance
from orchestrade.portfolio.errors import OptimizationError
from orchestrade.storage import PortfolioSnapshot, SqlOrderJournal

router = APIRouter(
    prefix=f"{API_PREFIX}/portfolio", tags=["portfolio"], responses=error_responses(401, 422)
)
ACCOUNT = "account"
"""The key of the whole account in `PortfolioMetricsOut.skipped`."""
NOT_BLANK = r"\S"
"""A pattern of text with something besides white space in it."""
Start = Annotated[datetime | None, Query(description="At or after (ISO 8601 with offset).")]
End = Annotated[datetime | None, Query(description="Before (ISO 8601 with offset).")]


@router.get("/equity")
def equity_history(
    user: ViewerUser,
    context: Context,
    bot_id: Annotated[
        # No bot has a blank id, and the snapshot store refuses to look one up.
        str | None, Query(min_length=1, pattern=NOT_BLANK, description="Only this bot's.")
    ] = None,
    start: Start = None,
    end: End = None,
) -> EquityHistoryOut:
    """Cash, market value and equity over time: the account's, and each stored bot's."""
    owners = [BotId(bot_id)] if bot_id is not None else [bot.bot_id for bot in context.bots.list()]
    return EquityHistoryOut(
        total=_curve(None, context.portfolio.total_snapshots(start=start, end=end)),
        bots=[
            _curve(owner, context.portfolio.snapshots(bot_id=owner, start=start, end=end))
            for owner in owners
        ],
    )


@router.get("/metrics")
def portfolio_metrics(
    user: ViewerUser, context: Context, start: Start = None, end: End = None
) -> PortfolioMetricsOut:
    """ROI, Sharpe ratio, max drawdown and volatility of the account and of each stored bot
    with equity snapshots; how the bots' risks combine when two or more have some."""
    skipped: dict[str, str] = {}
    total = None
    bots = context.bots.list()
    trades = {bot.bot_id: _trade_record(context, bot.bot_id, start, end) for bot in bots}
    whole = (sum(t[0] for t in trades.values()), sum(t[1] for t in trades.values()))
    snapshots = context.portfolio.total_snapshots(start=start, end=end)
    if snapshots:
        try:
            total = PerformanceOut.of(performance(_series(snapshots, ACCOUNT)), snapshots, whole)
        except OptimizationError as error:
            skipped[ACCOUNT] = str(error)
    records: list[BotPerformanceOut] = []
    daily: dict[str, pd.Series] = {}
    for bot in bots:
        snapshots = context.portfolio.snapshots(bot_id=bot.bot_id, start=start, end=end)
        if not snapshots:
            continue
        series = _series(snapshots, bot.bot_id)
        try:
            record = performance(series)
        except OptimizationError as error:
            skipped[bot.bot_id] = str(error)
            continue
        records.append(
            BotPerformanceOut(
                bot_id=bot.bot_id,
                performance=PerformanceOut.of(record, snapshots, trades[bot.bot_id]),
            )
        )
        daily[bot.bot_id] = daily_equity(series).iloc[:, 0]
    return PortfolioMetricsOut(
        total=total, bots=records, skipped=skipped, diversification=_diversification(daily)
    )


@router.get("/allocations")
def allocations(user: ViewerUser, context: Context) -> AllocationsOut:
    """Each stored bot's allocation, latest equity and share of the bots' equity."""
    bots = context.bots.list()
    latest = {bot.bot_id: context.portfolio.latest_snapshot(bot.bot_id) for bot in bots}
    total_equity = sum(
        (snapshot.equity for snapshot in latest.values() if snapshot is not None), Decimal(0)
    )
    items = []
    for bot in bots:
        snapshot = latest[bot.bot_id]
        equity = None if snapshot is None else snapshot.equity
        items.append(
            AllocationOut(
                bot_id=bot.bot_id,
                name=bot.name,
                state=bot.state,
                allocation=bot.allocation,
                equity=equity,
                equity_share=(
                    float(equity / total_equity)
                    if equity is not None and total_equity > 0
                    else None
                ),
            )
        )
    return AllocationsOut(
        items=items,
        total_allocation=sum((bot.allocation for bot in bots), Decimal(0)),
        total_equity=total_equity,
    )


def _trade_record(
    context: ApiContext, bot_id: BotId, start: datetime | None, end: datetime | None
) -> TradeRecord:
    """The bot's round trips closed within [start, end) and how many made money, from its
    journaled fills (`RoundTrips`: P&L after every fee and tax of the trade)."""
    journal = SqlOrderJournal(context.store, bot_ids=[bot_id])
    positions: dict[str, Position] = {}
    trips = RoundTrips()
    closed = won = 0
    for fill in journal.fills():
        position = positions.get(fill.symbol) or Position(fill.symbol)
        position = positions[fill.symbol] = position.apply(fill)
        trade = trips.update(fill.symbol, position, fill)
        if trade is None:
            continue
        if (start is None or trade.closed_at >= start) and (end is None or trade.closed_at < end):
            closed += 1
            won += trade.pnl > 0
    return closed, won


def _curve(owner: BotId | None, snapshots: list[PortfolioSnapshot]) -> EquityCurveOut:
    return EquityCurveOut(bot_id=owner, points=[EquityPointOut.of(item) for item in snapshots])


def _series(snapshots: list[PortfolioSnapshot], name: str) -> pd.Series:
    """The equity curve, named for the messages of the analysis."""
    return pd.Series(
        [float(item.equity) for item in snapshots],
        index=pd.DatetimeIndex([item.time.astimezone(UTC) for item in snapshots]),
        dtype="float64",
        name=name,
    )


def _diversification(daily: dict[str, pd.Series]) -> DiversificationOut | None:
    """The cross-bot statistics on the days every bot has equity (None under two bots or
    three such days)."""
    if len(daily) < 2:
        return None
    try:
        analysis = analyse(pd.DataFrame(daily))
    except OptimizationError:
        return None
    return DiversificationOut(
        weights=dict(analysis.weights),
        risk_shares=_risk_shares(analysis),
        diversification_ratio=finite(analysis.diversification_ratio),
        correlation={
            str(column): {str(row): finite(float(value)) for row, value in values.items()}
            for column, values in analysis.correlation.to_dict().items()
        },
    )


def _risk_shares(analysis: PortfolioAnalysis) -> dict[str, float | None]:
    variance = analysis.portfolio_variance
    if not variance > 0:
        return dict.fromkeys(analysis.risk_contributions, None)
    return {name: finite(value) for name, value in analysis.risk_shares.items()}
