"""`create_app`: the FastAPI application over a store, with every service wired in.

The app is built from its parts (store, settings, clocks) so tests can hand it a scratch
database and fake clocks, and `orchestrade serve` the real ones. It owns no resource: the
caller opens and closes the store.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry

from orchestrade import __version__
from orchestrade.api.deps import ApiContext
from orchestrade.api.errors import UnhandledErrors, install_error_handlers
from orchestrade.api.metrics import ApiMetrics, RequestMetrics
from orchestrade.api.routers import (
    API_PREFIX,
    audit,
    auth,
    health,
    metrics,
    orders,
    positions,
    signals,
    users,
)
from orchestrade.auth import (
    AccountService,
    Authenticator,
    Clock,
    LoginRateLimiter,
    MonotonicClock,
    PasswordHasher,
    TokenIssuer,
    load_jwt_secret,
)
from orchestrade.settings import ApiSettings
from orchestrade.storage import AuditLog, PortfolioRepository, SignalRepository, SqlOrderJournal
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
) -> FastAPI:
    """The API over `store`.

    Args:
        store: an open, migrated store (the caller closes it).
        settings: JWT key, token lifetime, CORS origins, login attempts (default: defaults,
            i.e. a random per-process JWT key and no cross-origin access).
        passwords: the argon2 hasher (tests pass cheap parameters).
        clock: aware UTC now, for token expiry and record times (default: the wall clock).
        monotonic: seconds for the login rate limiter.
        registry: where the metrics go (default: a registry of this app's own).

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
    api_metrics = ApiMetrics(registry)
    context = ApiContext(
        store=store,
        version=__version__,
        accounts=AccountService(user_store, passwords, clock=clock),
        authenticator=Authenticator(user_store, passwords, tokens, limiter),
        orders=SqlOrderJournal(store),
        portfolio=PortfolioRepository(store),
        signals=SignalRepository(store),
        audit=AuditLog(store),
        metrics=api_metrics,
    )
    app = FastAPI(
        title="orchestrade",
        version=__version__,
        summary="Multi-agent algorithmic trading: bots, orders, positions, signals, audit.",
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.context = context
    install_error_handlers(app)
    for router in (
        health.router,
        auth.router,
        users.router,
        orders.router,
        positions.router,
        signals.router,
        audit.router,
        metrics.router,
    ):
        app.include_router(router)
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


def _utc_now() -> datetime:
    return datetime.now(UTC)
