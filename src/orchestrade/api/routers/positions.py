"""Positions as the portfolio agent last saved them, per bot and for the whole account."""

from __future__ import annotations

from typing import Annotated
from weakref import WeakKeyDictionary

import msgspec
from fastapi import APIRouter, Query, Response

from orchestrade.api.deps import Context
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.schemas.trading import PositionOut
from orchestrade.api.security import ViewerUser
from orchestrade.storage import PortfolioRepository

router = APIRouter(
    prefix=f"{API_PREFIX}/positions", tags=["positions"], responses=error_responses(401, 422)
)


@router.get("", response_model=list[PositionOut])
async def list_positions(
    user: ViewerUser,
    context: Context,
    bot_id: Annotated[str | None, Query(min_length=1, description="Only this bot's.")] = None,
    include_flat: Annotated[
        bool, Query(description="Also flat positions (they carry realized P&L).")
    ] = False,
) -> Response:
    """Saved positions by bot (null: the account), then symbol.

    Dashboards and scripts poll this route hundreds of times a second while bots trade in
    the same process, so it is kept cheap: a coroutine (a plain function would cost two
    round trips through the worker threads, each waiting for the event loop to let go of
    the GIL); the JSON is written directly (the document `PositionOut` describes, byte for
    byte what FastAPI would make of it) instead of building a model per position and
    validating it again; and the answer is kept until a position is saved again
    (`PositionDocuments`).
    """
    portfolio = context.portfolio
    documents = _documents.get(portfolio)
    if documents is None:
        documents = _documents[portfolio] = PositionDocuments()
    body = documents.get(portfolio.positions_version(), include_flat, bot_id)
    if body is None:
        body = documents.keep(include_flat, bot_id, _encoded(portfolio, include_flat, bot_id))
    return Response(body, media_type="application/json")


class PositionDocuments:
    """The encoded answers of one repository's positions list at one `positions_version`.

    A poll costs one read of the version while no position was saved since the last one
    that had to be read (under a replay the portfolio saves a few times a second while
    dashboards poll hundreds of times). A new version drops every kept answer.
    """

    LIMIT = 256
    """Answers kept per version (one per filter asked); past it they are not kept."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._bodies: dict[tuple[bool, str | None], bytes] = {}

    def get(self, version: int, include_flat: bool, bot_id: str | None) -> bytes | None:
        """The answer kept for these filters if it is of `version` (which becomes the
        current one), else None."""
        if version != self._version:
            self._version = version
            self._bodies.clear()
            return None
        return self._bodies.get((include_flat, bot_id))

    def keep(self, include_flat: bool, bot_id: str | None, body: bytes) -> bytes:
        """Keep `body`, read after the current version was, as the answer for these filters;
        returns it. (Read after: it is at least as new as the version, so it is never
        served for a save it does not hold.)"""
        if len(self._bodies) < self.LIMIT:
            self._bodies[(include_flat, bot_id)] = body
        return body


_documents: WeakKeyDictionary[PortfolioRepository, PositionDocuments] = WeakKeyDictionary()


def _encoded(portfolio: PortfolioRepository, include_flat: bool, bot_id: str | None) -> bytes:
    grouped = portfolio.positions_by_bot(include_flat=include_flat)
    rows = [
        {
            "bot_id": owner,
            "symbol": position.symbol,
            "quantity": position.quantity,
            "cost_basis": position.cost_basis,
            "average_price": position.average_price,
            "realized_pnl": position.realized_pnl,
        }
        for owner, positions in grouped.items()
        if bot_id is None or owner == bot_id
        for position in positions.values()
    ]
    return _encode(rows)


_encode = msgspec.json.Encoder().encode
