"""Positions as the portfolio agent last saved them, per bot and for the whole account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.trading import PositionOut
from orchestrade.api.security import ViewerUser

router = APIRouter(
    prefix=f"{API_PREFIX}/positions", tags=["positions"], responses=error_responses(401, 422)
)


@router.get("")
async def list_positions(
    user: ViewerUser,
    context: Context,
    bot_id: Annotated[str | None, Query(min_length=1, description="Only this bot's.")] = None,
    include_flat: Annotated[
        bool, Query(description="Also flat positions (they carry realized P&L).")
    ] = False,
) -> list[PositionOut]:
    """Saved positions by bot (null: the account), then symbol.

    A coroutine on purpose: dashboards poll this route, and a plain function would cost two
    round trips through the worker threads (the call and the check of its answer), each
    waiting for the event loop to let go of the GIL while bots run in it; the read itself
    is one short query on a small table.
    """
    grouped = context.portfolio.positions_by_bot(include_flat=include_flat)
    return [
        PositionOut.of(owner, position)
        for owner, positions in grouped.items()
        if bot_id is None or owner == bot_id
        for position in positions.values()
    ]
