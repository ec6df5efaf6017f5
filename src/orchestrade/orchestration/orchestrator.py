"""The orchestrator: owns the bots and runs the flow signal -> rules -> order request.

It listens to signals, applies the desk's rules (`RuleEngine`), remembers approved decisions
and, at the next open of each symbol, turns them into orders (`OrderPlanner`) that it asks
the risk agent to check, all the orders of one open in one `OrdersRequested`. Risk answers
with `SubmitOrders` (the approved ones, sent together) to execution and a `RiskRejected` for
each refused one; fills come back as `OrderFilled` and keep the orchestrator's own ledger
current. Paused and stopped bots send no orders.

The same rules watch the system: an `AnomalyDetected` or `CircuitBreakerTripped` whose
rules ask to stop a bot (or every bot, or only the bots losing money today) changes those
bots' state at once (`BotStateChanged`); `notify` effects are logged on the
"orchestrade.notify" logger (the notification senders subscribe there).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime

from orchestrade.agents.base import Agent
from orchestrade.bus import Bus
from orchestrade.domain import (
    AnomalyDetected,
    BarsClosed,
    BarsOpened,
    BotId,
    BotState,
    BotStateChanged,
    CircuitBreakerTripped,
    Envelope,
    OrderFilled,
    OrdersRequested,
    Signal,
    SignalApproved,
    SignalGenerated,
    SignalSide,
)
from orchestrade.orchestration.order_planning import OrderPlanner
from orchestrade.orchestration.rules import Action, RuleEngine, RuleOutcome, StopScope
from orchestrade.portfolio import Ledger
from orchestrade.storage import BotRepository, SignalDecision, SignalRepository

log = logging.getLogger(__name__)
notify_log = logging.getLogger("orchestrade.notify")

_NEVER = datetime.min.replace(tzinfo=UTC)
DECISION_FLUSH_INTERVAL_S = 0.25
"""Signal decisions are written to storage at most this often (wall time, by default): a
write holds the event loop (which serves the API too), so it is kept short..."""
DECISION_FLUSH_BATCH = 4096
"""...or as soon as this many are waiting."""


class Orchestrator(Agent):
    """Signals in, order requests out, for the bots of `planners` (one planner per bot)."""

    def __init__(
        self,
        bus: Bus,
        ledger: Ledger,
        planners: Mapping[BotId, OrderPlanner],
        rules: RuleEngine,
        *,
        bots: BotRepository | None = None,
        signals: SignalRepository | None = None,
        signals_recorded_until: Mapping[BotId, datetime] | None = None,
        agent_id: str = "orchestrator",
        heartbeat_interval_s: float = 1.0,
        decision_flush_interval_s: float = DECISION_FLUSH_INTERVAL_S,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        self.ledger = ledger
        self.planners = dict(planners)
        self.rules = rules
        self.bots = bots
        self.signals = signals
        # A resumed run decides its earlier bars again: those decisions are on record already.
        self._recorded_until = dict(signals_recorded_until or {})
        self._decided: list[SignalDecision] = []
        self._entries_blocked: dict[BotId | None, date] = {}
        """UTC day on which each tripped breaker blocks entries (None: every bot's)."""
        self.decision_flush_interval_s = decision_flush_interval_s
        self._flushed_at = time.monotonic()
        self.states: dict[BotId, BotState] = {bot: BotState.RUNNING for bot in self.planners}
        self.decisions: Counter[str] = Counter()

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(SignalGenerated, self.on_signal, group=group)
        await self.subscribe(BarsOpened, self.on_bars_opened, group=group)
        await self.subscribe(BarsClosed, self.on_bars_closed, group=group)
        await self.subscribe(OrderFilled, self.on_order_filled, group=group)
        await self.subscribe(AnomalyDetected, self.on_system_event, group=group)
        await self.subscribe(CircuitBreakerTripped, self.on_system_event, group=group)

    async def on_system_event(self, envelope: Envelope) -> None:
        """Apply the rules' effects (stop a bot, stop bots, notify) to a system event; a
        tripped circuit breaker also blocks new entries for the rest of its session."""
        event = envelope.payload
        if isinstance(event, CircuitBreakerTripped):
            self._entries_blocked[event.bot_id] = event.tripped_at.date()
            log.warning("entries blocked for %s: %s", event.tripped_at.date(), event.reason)
        outcome = self.rules.evaluate(event)
        await self.apply_effects(outcome)

    def reset_circuit_breaker(self) -> None:
        """A person's reset: entries are allowed again today."""
        self._entries_blocked.clear()
        log.warning("circuit breaker reset by hand: entries allowed again")

    def entries_blocked(self, bot_id: BotId | None, at: datetime) -> bool:
        """Whether a tripped circuit breaker (of `bot_id`'s, or of the whole portfolio)
        forbids opening positions at `at` (blocked for the UTC day of the trip)."""
        day = at.date()
        return self._entries_blocked.get(None) == day or (
            bot_id is not None and self._entries_blocked.get(bot_id) == day
        )

    async def apply_effects(self, outcome: RuleOutcome) -> None:
        """Carry out the stop and notify effects of `outcome`."""
        for match in outcome.effects:
            if match.action is Action.NOTIFY:
                notify_log.warning(
                    "%s: %s",
                    match.rule,
                    match.reason,
                    extra={
                        "rule": match.rule,
                        "notify_message": match.params.get("message", ""),
                        "bot_id": outcome.bot_id,
                    },
                )
            elif match.action is Action.STOP_BOT:
                bot = outcome.bot_id
                if bot is not None and bot in self.states:
                    await self.set_state(bot, BotState.STOPPED, f"{match.rule}: {match.reason}")
            elif match.action is Action.STOP_ALL_BOTS:
                for bot in list(self.states):
                    if match.scope is StopScope.ALL or self.day_pnl(bot) < 0:
                        await self.set_state(bot, BotState.STOPPED, f"{match.rule}: {match.reason}")

    def flush_decisions(self) -> None:
        """Write the signal decisions taken since the last flush, in one transaction."""
        self._flushed_at = time.monotonic()
        if self.signals is not None and self._decided:
            decided, self._decided = self._decided, []
            self.signals.record_many(decided)

    def _flush_decisions_when_due(self) -> None:
        """Flush at most once per `DECISION_FLUSH_INTERVAL_S` of wall time (or sooner when
        many are waiting), after a close, never on the way from a bar's open to its orders.

        The decisions are a record, not money state: a crash loses at most the last
        interval's, and a resumed run decides those bars again and records them then (it
        skips only what is already on record)."""
        due = time.monotonic() - self._flushed_at >= self.decision_flush_interval_s
        if due or len(self._decided) >= DECISION_FLUSH_BATCH:
            self.flush_decisions()

    async def on_stop(self) -> None:
        self.flush_decisions()
        await super().on_stop()

    def day_pnl(self, bot_id: BotId) -> float:
        """The bot's equity change since the start of its accounts' trading day."""
        total = 0.0
        for account_id, state in self.ledger.accounts.items():
            mine = account_id == bot_id or account_id.startswith(f"{bot_id}/")
            if mine and state.day is not None:
                total += float(self.ledger.equity(account_id) - state.day_start)
        return total

    async def set_state(self, bot_id: BotId, state: BotState, reason: str = "") -> None:
        """Run, pause or stop a bot; publishes `BotStateChanged` when the state changes."""
        previous = self.states[bot_id]
        if previous is state:
            return
        self.states[bot_id] = state
        now = self._clock()
        if self.bots is not None and self.bots.get(bot_id) is not None:
            self.bots.set_state(bot_id, state, at=now)
        if state is not BotState.RUNNING:
            planner = self.planners[bot_id]
            for symbol in list(planner.pending_symbols()):
                planner.discard(symbol)
        await self.publish(BotStateChanged(bot_id, now, previous, state, reason))

    async def on_signal(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, SignalGenerated)
        signal = event.signal
        planner = self.planners.get(signal.bot_id) if signal.bot_id is not None else None
        if planner is None or self.states[planner.bot_id] is not BotState.RUNNING:
            self.decisions["ignored"] += 1
            return
        if (
            self._entries_blocked
            and signal.side is SignalSide.BUY
            and self.entries_blocked(signal.bot_id, signal.time)
        ):
            reason = f"circuit_breaker: entries blocked for {signal.time.date().isoformat()}"
            self._keep_decision(signal, approved=False, reason=reason)
            self.decisions["rejected"] += 1
            return
        outcome = self.rules.evaluate(event)
        matched = bool(outcome.matches)
        reason = "; ".join(outcome.reasons) if matched else ""
        self._keep_decision(signal, approved=outcome.approved, reason=reason)
        if matched and outcome.effects:
            await self.apply_effects(outcome)
        if not outcome.approved:
            self.decisions["rejected"] += 1
            log.debug("signal rejected: %s %s %s", signal.symbol, signal.side, outcome.reasons)
            return
        self.decisions["approved"] += 1
        planner.note(signal)
        await self.publish(SignalApproved(signal, outcome.reasons if matched else ()))

    def _keep_decision(self, signal: Signal, *, approved: bool, reason: str) -> None:
        """Queue the decision for the signals table (unless a resumed run has it already)."""
        bot = signal.bot_id
        recorded = self._recorded_until.get(bot, _NEVER) if bot is not None else None
        if self.signals is not None and recorded is not None and signal.time > recorded:
            self._decided.append(SignalDecision(signal, approved, reason))

    async def on_bars_opened(self, envelope: Envelope) -> None:
        """Roll the ledger to the open, then turn the decisions waiting for these bars into
        orders, bar by bar in the slice's order and bot by bot (only the planners with a
        decision pending are asked)."""
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        self.ledger.on_bars_opened(event.bars)
        waiting = [
            (planner, planner.pending) for planner in self.planners.values() if planner.pending
        ]
        if not waiting:
            return
        orders = []
        for bar in event.bars:
            for planner, pending in waiting:
                if bar.symbol in pending:
                    planned = planner.at_open(bar)
                    if planned is not None:
                        orders.append(planned.order)
        if orders:
            await self.publish(OrdersRequested(tuple(orders)))

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        # Only planners with a daily-loss limit look at the closes (`OrderPlanner.at_close`).
        watching = [planner for planner in self.planners.values() if planner.watches_closes]
        if watching:
            for bar in event.bars:
                self.ledger.on_close(bar)
                for planner in watching:
                    if bar.symbol in planner.symbols:
                        planner.at_close(bar)
        else:
            self.ledger.on_bars_closed(event.bars)
        self._flush_decisions_when_due()

    async def on_order_filled(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderFilled)
        order = event.order
        if order.bot_id is None or order.bot_id not in self.planners:
            return
        self.ledger.apply_fill(self.ledger.account_id(order.bot_id, order.symbol), event.fill)
