"""Helpers for tests that run bots under a `BotSupervisor`: a small stored market, waiting
for something to happen (with a generous limit, never a timing assertion), and the stream's
events of one bot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from orchestrade.data.importing import store_synthetic
from orchestrade.data.synthetic import synthesize_market
from orchestrade.domain import Market
from orchestrade.orchestration.control import StreamEvent
from orchestrade.orchestration.supervisor import BotSupervisor
from orchestrade.storage import Store

KRX_SYMBOLS = ("SYN0001", "SYN0002")
US_SYMBOL = "SYNU0001"
DAYS = 120
FAST_SLOW = {"fast": 5, "slow": 20}
"""sma_cross parameters that trade several times in `DAYS` days."""
WAIT_LIMIT_S = 60.0


def store_market(store: Store, *, days: int = DAYS) -> None:
    """Two synthetic KRX stocks and one US stock, `days` daily bars each."""
    store_synthetic(synthesize_market(len(KRX_SYMBOLS), days, 11, market=Market.KRX), store)
    store_synthetic(synthesize_market(1, days, 12, market=Market.US), store)


async def until(condition: Callable[[], bool], what: str, *, limit_s: float = WAIT_LIMIT_S) -> None:
    """Wait until `condition()` holds; fail naming `what` after `limit_s` (a safety net for
    a broken run, far above what a working one takes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {limit_s:g} s")
        await asyncio.sleep(0.01)


def stream_of(supervisor: BotSupervisor, bot_id: str, type_name: str) -> list[StreamEvent]:
    """The buffered events of one type of one bot, oldest first."""
    return [
        event
        for event in supervisor.events_after(0, limit=100_000)
        if event.bot_id == bot_id and event.type_name == type_name
    ]
