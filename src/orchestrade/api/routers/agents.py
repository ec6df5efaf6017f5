"""The agents of the running bots, as the health monitor sees them, and their restart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from orchestrade.api.deps import Control
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.bots import AgentOut
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import TraderUser, ViewerUser
from orchestrade.domain import BotId

router = APIRouter(
    prefix=f"{API_PREFIX}/agents", tags=["agents"], responses=error_responses(401, 503)
)


@router.get("", responses=error_responses(422))
async def list_agents(
    user: ViewerUser,
    control: Control,
    bot_id: Annotated[str | None, Query(min_length=1, description="Only this bot's.")] = None,
) -> list[AgentOut]:
    """Every agent of every running bot: status, last heartbeat, restarts."""
    return [
        AgentOut.of(info) for info in control.agents() if bot_id is None or info.bot_id == bot_id
    ]


@router.post("/{bot_id}/{name}/restart", responses=error_responses(403, 404, 409, 422))
async def restart_agent(bot_id: str, name: str, user: TraderUser, control: Control) -> AgentOut:
    """Restart one agent of a running bot (e.g. one the health monitor saw go silent)."""
    return AgentOut.of(await control.restart_agent(BotId(bot_id), name))
