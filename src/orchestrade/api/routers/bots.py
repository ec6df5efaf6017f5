"""Bots: create one from a strategy, list them, start, pause, stop, delete, re-weight.

Every route goes through the trading node's control (503 `no_trading_node` without one):
the node owns the bots while they run, and stores them.
"""

from __future__ import annotations

from fastapi import APIRouter

from orchestrade.api.deps import Control
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.bots import AllocationIn, BotDeletedOut, BotIn, BotOut
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import TraderUser, ViewerUser
from orchestrade.domain import BotId

router = APIRouter(prefix=f"{API_PREFIX}/bots", tags=["bots"], responses=error_responses(401, 503))
_ONE_BOT = error_responses(404)
_CHANGE = error_responses(403, 404, 409, 422)


@router.get("")
async def list_bots(user: ViewerUser, control: Control) -> list[BotOut]:
    """Every bot, stored ones included, oldest first."""
    return [BotOut.of(bot) for bot in control.bots()]


@router.post("", status_code=201, responses=error_responses(403, 422))
async def create_bot(body: BotIn, user: TraderUser, control: Control) -> BotOut:
    """Create a bot from a built-in strategy or a spec document; it starts paused."""
    return BotOut.of(await control.create_bot(body.to_request()))


@router.get("/{bot_id}", responses=_ONE_BOT)
async def get_bot(bot_id: str, user: ViewerUser, control: Control) -> BotOut:
    """One bot."""
    return BotOut.of(control.bot(BotId(bot_id)))


@router.post("/{bot_id}/start", responses=_CHANGE)
async def start_bot(bot_id: str, user: TraderUser, control: Control) -> BotOut:
    """Run the bot (a paused one resumes, a stopped one starts again)."""
    return BotOut.of(await control.start_bot(BotId(bot_id)))


@router.post("/{bot_id}/pause", responses=_CHANGE)
async def pause_bot(bot_id: str, user: TraderUser, control: Control) -> BotOut:
    """Stop taking new decisions; open orders and positions stay."""
    return BotOut.of(await control.pause_bot(BotId(bot_id)))


@router.post("/{bot_id}/stop", responses=_CHANGE)
async def stop_bot(bot_id: str, user: TraderUser, control: Control) -> BotOut:
    """Stop the bot's node cleanly, after the slice in progress."""
    return BotOut.of(await control.stop_bot(BotId(bot_id)))


@router.delete("/{bot_id}", responses=_CHANGE)
async def delete_bot(bot_id: str, user: TraderUser, control: Control) -> BotDeletedOut:
    """Forget a paused or stopped bot (409 while it runs)."""
    await control.delete_bot(BotId(bot_id))
    return BotDeletedOut(bot_id=bot_id)


@router.put("/{bot_id}/allocation", responses=_CHANGE)
async def set_allocation(
    bot_id: str, body: AllocationIn, user: TraderUser, control: Control
) -> BotOut:
    """Change the bot's share of capital, in [0, 1]."""
    return BotOut.of(await control.set_allocation(BotId(bot_id), body.allocation))
