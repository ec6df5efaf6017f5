"""Notifications under a `BotSupervisor`: every node hands its notifiable events to the one
notification service, and the rules' notify effects reach it once, however many bots run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from orchestrade.domain import Message, OrderFilled, SignalGenerated, SignalSide
from orchestrade.orchestration.control import BotRequest
from orchestrade.orchestration.supervisor import BotSupervisor
from orchestrade.storage import SqlOrderJournal, Store, open_store

from .supervised import FAST_SLOW, store_market, until

pytestmark = pytest.mark.anyio

NOTIFY_ON_BUYS = {
    "name": "tell_on_buys",
    "description": "say so when a strategy wants to buy",
    "priority": 10,
    "event": "SignalGenerated",
    "when": {"field": "signal.side", "eq": "buy"},
    "action": "notify",
    "params": {"message": "a buy signal"},
}


class Sink:
    """Stands in for the notification service."""

    event_types = frozenset({"OrderFilled"})

    def __init__(self) -> None:
        self.events: list[Message] = []
        self.rules: list[tuple[str, str, str | None]] = []

    def notify(self, event: Message, *, at: datetime | None = None) -> None:
        self.events.append(event)

    def notify_rule(
        self, rule: str, text: str, *, at: datetime | None = None, bot_id: str | None = None
    ) -> None:
        self.rules.append((rule, text, bot_id))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:
        store_market(store)
        yield store


async def test_every_bots_events_and_each_rule_notification_reach_the_service_once(
    store: Store, tmp_path: Path
) -> None:
    sink = Sink()
    supervisor = BotSupervisor(store, home=tmp_path / "home", stop_grace_s=0.2, notifier=sink)
    try:
        await supervisor.add_rule(NOTIFY_ON_BUYS)
        bots = [
            await supervisor.create_bot(
                BotRequest(strategy="sma_cross", params=FAST_SLOW, market="krx", mode="replay")
            )
            for _ in range(2)
        ]
        for bot in bots:
            await supervisor.start_bot(bot.bot_id)
        for bot in bots:
            await supervisor.wait_stopped(bot.bot_id)
        fills = SqlOrderJournal(store).fills()
        await until(lambda: len(sink.events) >= len(fills), "every fill notified")
        buys = [
            event
            for event in supervisor.events_after(0, limit=100_000)
            if isinstance(event.payload, SignalGenerated)
            and event.payload.signal.side is SignalSide.BUY
        ]
    finally:
        await supervisor.close()

    assert len(fills) > 4
    notified = [event.fill for event in sink.events if isinstance(event, OrderFilled)]
    assert sorted(f.fill_id for f in notified) == sorted(f.fill_id for f in fills)
    # The rule fired once per buy signal, in whichever node: one bridge, no duplicates.
    assert len(buys) > 2
    assert [rule for rule, _, _ in sink.rules] == ["tell_on_buys"] * len(buys)
    assert all(text.startswith("a buy signal (") for _, text, _ in sink.rules)
    assert {bot for _, _, bot in sink.rules} == {bot.bot_id for bot in bots}
