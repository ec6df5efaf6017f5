"""What every route reaches through one dependency: the services `create_app` wired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from orchestrade.api.metrics import ApiMetrics
from orchestrade.auth import AccountService, Authenticator
from orchestrade.storage import AuditLog, PortfolioRepository, SignalRepository, SqlOrderJournal
from orchestrade.storage.store import Store


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The services behind the routes, built once per app by `create_app`."""

    store: Store
    version: str
    accounts: AccountService
    authenticator: Authenticator
    orders: SqlOrderJournal
    portfolio: PortfolioRepository
    signals: SignalRepository
    audit: AuditLog
    metrics: ApiMetrics


def api_context(request: Request) -> ApiContext:
    """The app's `ApiContext` (kept in `app.state.context`)."""
    return cast(ApiContext, request.app.state.context)


Context = Annotated[ApiContext, Depends(api_context)]
