"""StrategyAgent: one bot's strategy on the bus, bars in and signals out.

It feeds every closed bar of the bot's symbols to the strategy's streaming engine (the same
conditions, confidence and reasons as the backtest's array form) and publishes each signal
as `SignalGenerated`, stamped with the bot id. Deciding what to do with a signal is the
orchestrator's job.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrade.agents.base import Agent
from orchestrade.bus import Bus
from orchestrade.domain import BarsClosed, BotId, Envelope, SignalGenerated
from orchestrade.strategies.streaming import StreamingSignalEngine


class StrategyAgent(Agent):
    """Runs `engine` over the closed bars of `symbols` for bot `bot_id`."""

    def __init__(
        self,
        bot_id: BotId,
        engine: StreamingSignalEngine,
        symbols: Iterable[str],
        bus: Bus,
        *,
        agent_id: str | None = None,
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(
            agent_id or f"strategy-{bot_id}", bus, heartbeat_interval_s=heartbeat_interval_s
        )
        self.bot_id = bot_id
        self.engine = engine
        self.symbols = frozenset(symbols)
        self.signals_sent = 0

    async def on_start(self) -> None:
        await self.subscribe(BarsClosed, self.on_bars_closed, group=self.agent_id)

    async def on_bars_closed(self, envelope: Envelope) -> None:
        """Update the engine with every bar of the slice that belongs to this bot."""
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        for signal in self.engine.signals(event.bars, symbols=self.symbols, bot_id=self.bot_id):
            self.signals_sent += 1
            await self.publish(SignalGenerated(signal))
