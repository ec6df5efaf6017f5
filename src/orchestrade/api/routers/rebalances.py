"""Rebalance proposals: list them, read one, and apply a proposed one (traders).

Applying sets the stored bots' allocations to the proposed weights and marks the proposal
applied, in one transaction; the running bots then get their new allocation through the
trading node's control, when one runs with the API.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from orchestrade.api.deps import ApiContext, Context
from orchestrade.api.errors import ApiError
from orchestrade.api.routers import API_PREFIX, MAX_ROW_ID
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.rebalances import RebalanceAppliedOut, RebalanceOut
from orchestrade.api.security import TraderUser, ViewerUser
from orchestrade.orchestration.control import ControlError
from orchestrade.portfolio.errors import RebalanceError
from orchestrade.portfolio.rebalancing import RebalanceStatus
from orchestrade.storage.rebalances import MAX_RECENT, RebalanceRecord

router = APIRouter(
    prefix=f"{API_PREFIX}/rebalances", tags=["rebalances"], responses=error_responses(401, 422)
)
log = logging.getLogger(__name__)
RebalanceId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@router.get("")
def list_rebalances(
    user: ViewerUser,
    context: Context,
    portfolio: Annotated[
        str | None, Query(min_length=1, description="Only this portfolio's (a node's name).")
    ] = None,
    status: RebalanceStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT)] = 20,
) -> list[RebalanceOut]:
    """The latest proposals, newest first."""
    records = context.rebalances.recent(limit=limit, portfolio=portfolio, status=status)
    return [RebalanceOut.of(record) for record in records]


@router.get("/{rebalance_id}", responses=error_responses(404))
def get_rebalance(rebalance_id: RebalanceId, user: ViewerUser, context: Context) -> RebalanceOut:
    """One proposal with its reasoning and outcome."""
    return RebalanceOut.of(_recorded(context, rebalance_id))


@router.post("/{rebalance_id}/apply", responses=error_responses(403, 404, 409))
async def apply_rebalance(
    rebalance_id: RebalanceId, user: TraderUser, context: Context
) -> RebalanceAppliedOut:
    """Apply a proposed rebalance: the bots' allocations become its weights (409 when it
    was applied or skipped already)."""
    record = await run_in_threadpool(_recorded, context, rebalance_id)
    if record.status is not RebalanceStatus.PROPOSED:
        raise ApiError(409, "conflict", f"rebalance {rebalance_id} is {record.status} already")
    try:
        updated = await run_in_threadpool(
            context.rebalances.apply,
            rebalance_id,
            decision=f"applied by {user.name} through the API",
            at=context.clock(),
        )
    except RebalanceError as error:  # decided by someone else in the meantime
        raise ApiError(409, "conflict", str(error)) from None
    if context.control is not None:
        weights = {item.bot_id: item.weight for item in record.proposal.proposed}
        for bot_id in updated:
            try:
                await context.control.set_allocation(bot_id, weights[bot_id])
            except ControlError as error:
                # The stored allocation is set: the bot takes it when it starts again.
                log.warning(
                    "rebalance %d: bot %s keeps its allocation until it restarts: %s",
                    rebalance_id,
                    bot_id,
                    error,
                )
    applied = await run_in_threadpool(_recorded, context, rebalance_id)
    return RebalanceAppliedOut(rebalance=RebalanceOut.of(applied), updated_bots=list(updated))


def _recorded(context: ApiContext, rebalance_id: int) -> RebalanceRecord:
    record = context.rebalances.get(rebalance_id)
    if record is None:
        raise ApiError(404, "not_found", f"no rebalance {rebalance_id}")
    return record
