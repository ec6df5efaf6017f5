"""Signals the strategies produced and the rules' decisions on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.trading import SignalOut
from orchestrade.api.security import ViewerUser
from orchestrade.domain import BotId, Symbol
from orchestrade.storage.signals import MAX_RECENT

router = APIRouter(
    prefix=f"{API_PREFIX}/signals", tags=["signals"], responses=error_responses(401, 422)
)


@router.get("")
def list_signals(
    user: ViewerUser,
    context: Context,
    bot_id: Annotated[str | None, Query(min_length=1)] = None,
    symbol: Annotated[str | None, Query(min_length=1)] = None,
    approved: Annotated[bool | None, Query(description="Only approved (or rejected).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT)] = 100,
) -> list[SignalOut]:
    """The latest decisions on signals, newest first."""
    decisions = context.signals.recent(
        limit=limit,
        bot_id=None if bot_id is None else BotId(bot_id),
        symbol=None if symbol is None else Symbol(symbol),
        approved=approved,
    )
    return [SignalOut.of(decision) for decision in decisions]
