"""`create_app`: the FastAPI application over a store, with every service wired in.

The app is built from its parts (store, settings, clocks, the trading node's control) so
tests can hand it a scratch database, fake clocks and a fake control, and `orchestrade
serve` the real ones. It owns no resource but its backtest workers (stopped with the app):
the caller opens and closes the store and runs the trading node.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from orchestrade import __version__
from orchestrade.api.backtest_jobs import BacktestJobs, StoreBacktestRunner
from orchestrade.api.deps import ApiContext
from orchestrade.api.errors import UnhandledErrors, error_response, install_error_handlers
from orchestrade.api.metrics import ApiMetrics, RequestMetrics
from orchestrade.api.routers import (
    API_PREFIX,
    agents,
    anomalies,
    audit,
    auth,
    backtests,
    bots,
    health,
    metrics,
    orders,
    portfolio,
    positions,
    rebalances,
    risk,
    rules,
    signals,
    stream,
    users,
)
from orchestrade.api.security import document_security
from orchestrade.auth import (
    AccountService,
    Authenticator,
    Clock,
    CredentialCache,
    LoginRateLimiter,
    MonotonicClock,
    PasswordHasher,
    TokenIssuer,
    load_jwt_secret,
)
from orchestrade.dashboard import mount_dashboard
from orchestrade.orchestration.control import (
    ControlConflictError,
    ControlError,
    TradingControl,
    UnknownBotError,
)
from orchestrade.settings import ApiSettings
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
from orchestrade.storage.users import UserRepository

OPENAPI_URL = f"{API_PREFIX}/openapi.json"
DOCS_URL = f"{API_PREFIX}/docs"


def create_app(
    store: Store,
    settings: ApiSettings | None = None,
    *,
    passwords: PasswordHasher | None = None,
    clock: Clock | None = None,
    monotonic: MonotonicClock = time.monotonic,
    registry: CollectorRegistry | None = None,
    control: TradingControl | None = None,
    backtest_jobs: BacktestJobs | None = None,
) -> FastAPI:
    """The API over `store`.

    Args:
        store: an open, migrated store (the caller closes it).
        settings: JWT key, token lifetime, CORS origins, login attempts (default: defaults,
            i.e. a random per-process JWT key and no cross-origin access).
        passwords: the argon2 hasher (tests pass cheap parameters).
        clock: aware UTC now, for token expiry and record times (default: the wall clock).
        monotonic: seconds for the login rate limiter and the credential cache.
        registry: where the metrics go (default: a registry of this app's own).
        control: the bots running in this process (None: the routes that need them answer
            503 `no_trading_node`).
        backtest_jobs: the backtest job queue (default: one of the app's own over `store`,
            one job at a time, stopped when the app stops).

    Raises:
        AuthConfigurationError: the JWT secret setting is unusable.
    """
    settings = settings if settings is not None else ApiSettings()
    passwords = passwords if passwords is not None else PasswordHasher()
    clock = clock if clock is not None else _utc_now
    user_store = UserRepository(store)
    tokens = TokenIssuer(
        load_jwt_secret(settings), lifetime_s=settings.token_lifetime_s, clock=clock
    )
    limiter = LoginRateLimiter(attempts=settings.login_attempts_per_minute, clock=monotonic)
    # Every request shows a credential: one accepted within the last second is not decoded
    # and looked up again (the account service drops a user's entries when it changes them).
    credentials = CredentialCache(clock=clock, monotonic=monotonic)
    api_metrics = ApiMetrics(registry)
    if control is not None:
        api_metrics.watch_trading(control)  # orders, fills, rejections, queue depths
    own_backtests = backtest_jobs is None
    if backtest_jobs is None:
        backtest_jobs = BacktestJobs(StoreBacktestRunner(store), clock=clock)
    context = ApiContext(
        store=store,
        version=__version__,
        clock=clock,
        accounts=AccountService(user_store, passwords, clock=clock, credentials=credentials),
        authenticator=Authenticator(user_store, passwords, tokens, limiter, cache=credentials),
        orders=SqlOrderJournal(store),
        portfolio=PortfolioRepository(store),
        signals=SignalRepository(store),
        audit=AuditLog(store),
        bots=BotRepository(store),
        anomalies=AnomalyRepository(store, clock=clock),
        rebalances=RebalanceRepository(store),
        backtests=backtest_jobs,
        metrics=api_metrics,
        control=control,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_backtests:
            context.backtests.close()

    app = FastAPI(
        title="orchestrade",
        version=__version__,
        summary="Multi-agent algorithmic trading: bots, orders, positions, signals, audit.",
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    install_error_handlers(app)
    app.add_exception_handler(ControlError, _control_error)
    for router in (
        health.router,
        auth.router,
        users.router,
        orders.router,
        positions.router,
        portfolio.router,
        signals.router,
        anomalies.router,
        rebalances.router,
        bots.router,
        agents.router,
        rules.router,
        risk.router,
        backtests.router,
        audit.router,
        metrics.router,
        stream.router,
    ):
        app.include_router(router)
    document_security(app)
    mount_dashboard(app)  # `/` and `/static`, after the API so it never shadows a route
    # Added inside out: the last added is the outermost.
    app.add_middleware(UnhandledErrors)
    app.add_middleware(RequestMetrics, metrics=api_metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    return app


async def _control_error(request: Request, error: Exception) -> JSONResponse:
    """The trading node refused: an unknown bot (404), a conflict with its state (409), or
    a bad request (422); its messages name what is wrong and are meant for the caller."""
    match error:
        case UnknownBotError():
            return error_response(404, "not_found", str(error))
        case ControlConflictError():
            return error_response(409, "conflict", str(error))
    return error_response(422, "invalid_request", str(error))


def _utc_now() -> datetime:
    return datetime.now(UTC)
