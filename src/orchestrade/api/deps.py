"""What every route reaches through one dependency: the services `create_app` wired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from orchestrade.api.backtest_jobs import BacktestJobs
from orchestrade.api.errors import ApiError
from orchestrade.api.metrics import ApiMetrics
from orchestrade.auth import AccountService, Authenticator, Clock
from orchestrade.orchestration.control import TradingControl
from orchestrade.storage import (
    AuditLog,
    BotRepository,
    PortfolioRepository,
    SignalRepository,
    SqlOrderJournal,
)
from orchestrade.storage.anomalies import AnomalyRepository
from orchestrade.storage.rebalances import RebalanceRepository
from orchestrade.storage.store import Store


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The services behind the routes, built once per app by `create_app`.

    `control` reaches the bots running in this process; None when the API serves the
    store alone (the routes that need it answer 503 `no_trading_node`).
    """

    store: Store
    version: str
    clock: Clock
    accounts: AccountService
    authenticator: Authenticator
    orders: SqlOrderJournal
    portfolio: PortfolioRepository
    signals: SignalRepository
    audit: AuditLog
    bots: BotRepository
    anomalies: AnomalyRepository
    rebalances: RebalanceRepository
    backtests: BacktestJobs
    metrics: ApiMetrics
    control: TradingControl | None = None


async def api_context(request: Request) -> ApiContext:
    """The app's `ApiContext` (kept in `app.state.context`)."""
    return cast(ApiContext, request.app.state.context)


Context = Annotated[ApiContext, Depends(api_context)]


def trading_control(context: Context) -> TradingControl:
    """The running bots' control.

    Raises:
        ApiError: 503 `no_trading_node` when this API runs without bots.
    """
    if context.control is None:
        raise ApiError(
            503,
            "no_trading_node",
            "no trading node runs with this API: bots, agents, rules and risk limits "
            "need one (orchestrade serve starts it)",
        )
    return context.control


Control = Annotated[TradingControl, Depends(trading_control)]
"""Declare it after the user's role, so that 401 and 403 come before 503."""
