"""Anomalies and circuit-breaker trips as recorded, newest first, filtered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.anomalies import AnomalyOut
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import ViewerUser
from orchestrade.domain import BotId, Severity
from orchestrade.storage.anomalies import MAX_RECENT

router = APIRouter(
    prefix=f"{API_PREFIX}/anomalies", tags=["anomalies"], responses=error_responses(401, 422)
)


@router.get("")
def list_anomalies(
    user: ViewerUser,
    context: Context,
    since: Annotated[
        datetime | None, Query(description="Detected at or after (ISO 8601 with offset).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Detected before.")] = None,
    severity: Annotated[
        Severity | None, Query(description="This severity and worse (trips are critical).")
    ] = None,
    bot_id: Annotated[str | None, Query(min_length=1)] = None,
    detector: Annotated[
        str | None, Query(min_length=1, description="A detector, or a breaker's name.")
    ] = None,
    kind: Literal["anomaly", "circuit_breaker"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT)] = 100,
) -> list[AnomalyOut]:
    """The latest findings, newest first."""
    found = context.anomalies.recent(
        since=since,
        until=until,
        limit=limit,
        min_severity=severity,
        bot_id=None if bot_id is None else BotId(bot_id),
        detector=detector,
        kind=kind,
    )
    return [AnomalyOut.of(item) for item in found]
