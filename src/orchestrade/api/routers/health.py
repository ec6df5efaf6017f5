"""Liveness and readiness: the only routes besides login that need no credentials."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from orchestrade.api.deps import Context
from orchestrade.api.errors import ApiError
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.health import HealthOut, ReadyOut
from orchestrade.data.errors import StoreError

log = logging.getLogger(__name__)
router = APIRouter(prefix=API_PREFIX, tags=["health"])


@router.get("/health")
def health(context: Context) -> HealthOut:
    """The process is up (no database access)."""
    return HealthOut(version=context.version)


@router.get("/ready", responses=error_responses(503))
def ready(context: Context) -> ReadyOut:
    """The process is up and its database answers; 503 `not_ready` otherwise."""
    try:
        context.store.ping()
    except StoreError as error:
        log.warning("not ready: %s", error)
        raise ApiError(503, "not_ready", "the database does not answer") from None
    return ReadyOut()
