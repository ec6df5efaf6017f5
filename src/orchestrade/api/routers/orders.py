"""Orders as the OMS recorded them: filtered lists, one order with its history, and
cancelling an open one (through the trading node that holds it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from orchestrade.api.deps import Context, Control
from orchestrade.api.errors import ApiError
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.trading import FillOut, OrderDetailOut, OrderEventOut, OrderOut
from orchestrade.api.security import TraderUser, ViewerUser
from orchestrade.domain import BotId, OrderId, OrderStatus, Symbol
from orchestrade.storage.orders import MAX_LISTED

router = APIRouter(
    prefix=f"{API_PREFIX}/orders", tags=["orders"], responses=error_responses(401, 422)
)


@router.get("")
def list_orders(
    user: ViewerUser,
    context: Context,
    bot_id: Annotated[str | None, Query(min_length=1, description="Only this bot's.")] = None,
    symbol: Annotated[str | None, Query(min_length=1)] = None,
    status: OrderStatus | None = None,
    since: Annotated[
        datetime | None, Query(description="Created at or after (ISO 8601 with offset).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
) -> list[OrderOut]:
    """Recorded orders, newest first."""
    orders = context.orders.list_orders(
        bot_id=None if bot_id is None else BotId(bot_id),
        symbol=None if symbol is None else Symbol(symbol),
        status=status,
        since=since,
        limit=limit,
    )
    return [OrderOut.of(order) for order in orders]


@router.get("/{order_id}", responses=error_responses(404))
def get_order(order_id: str, user: ViewerUser, context: Context) -> OrderDetailOut:
    """One order with its recorded changes and fills, oldest first."""
    order = context.orders.get_order(OrderId(order_id))
    if order is None:
        raise ApiError(404, "not_found", f"no order {order_id!r}")
    return OrderDetailOut(
        order=OrderOut.of(order),
        events=[OrderEventOut.of(event) for event in context.orders.order_events(order.order_id)],
        fills=[FillOut.of(fill) for fill in context.orders.fills(order.order_id)],
    )


@router.post("/{order_id}/cancel", responses=error_responses(403, 404, 409, 503))
async def cancel_order(
    order_id: str, user: TraderUser, context: Context, control: Control
) -> OrderOut:
    """Ask the broker to cancel an open order; returns the order as the OMS holds it then
    (cancel_requested, or cancelled at once; 409 when it is finished already)."""
    order = await run_in_threadpool(context.orders.get_order, OrderId(order_id))
    if order is None:
        raise ApiError(404, "not_found", f"no order {order_id!r}")
    if order.status.is_terminal:
        raise ApiError(409, "order_finished", f"order {order_id!r} is {order.status} already")
    return OrderOut.of(await control.cancel_order(order.order_id))
