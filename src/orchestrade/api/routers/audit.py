"""The audit log, a page at a time, filtered by time, bot, kind and symbol."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX, MAX_ROW_ID
from orchestrade.api.schemas.audit import AuditEventOut, AuditPageOut
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import ViewerUser
from orchestrade.domain import BotId, Symbol
from orchestrade.storage.audit import MAX_PAGE

router = APIRouter(
    prefix=f"{API_PREFIX}/audit", tags=["audit"], responses=error_responses(401, 422)
)


@router.get("")
def audit_events(
    user: ViewerUser,
    context: Context,
    start: Annotated[datetime | None, Query(description="At or after (ISO 8601, offset).")] = None,
    end: Annotated[datetime | None, Query(description="Before (ISO 8601, offset).")] = None,
    bot_id: Annotated[str | None, Query(min_length=1)] = None,
    kind: Annotated[
        str | None, Query(min_length=1, description="e.g. order.filled, fill, AnomalyDetected")
    ] = None,
    symbol: Annotated[str | None, Query(min_length=1)] = None,
    cursor: Annotated[
        int | None, Query(ge=0, le=MAX_ROW_ID, description="`next_cursor` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    newest_first: bool = False,
) -> AuditPageOut:
    """Audit lines in the order they were appended (or newest first)."""
    page = context.audit.query(
        start=start,
        end=end,
        bot_id=None if bot_id is None else BotId(bot_id),
        kind=kind,
        symbol=None if symbol is None else Symbol(symbol),
        cursor=cursor,
        limit=limit,
        newest_first=newest_first,
    )
    return AuditPageOut(
        items=[AuditEventOut.of(record) for record in page.records], next_cursor=page.next_cursor
    )
