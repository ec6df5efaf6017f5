"""AnomalyAgent: watches the bots and the market on the bus and reports what looks wrong.

It runs the detectors of `orchestrade.anomaly` over what passes on the bus and publishes
each finding as `AnomalyDetected` (the orchestrator's rules act on it: by default HIGH or
worse, or a broker error rate above 30%, stops the bot) and each trip of the daily-loss
circuit breaker as `CircuitBreakerTripped` (by default the bots losing today stop):

- every bar of each `BarsClosed` slice: price moves and volume spikes of its symbol;
- every `OrderFilled`: the bot's trade rate, the fill's slippage, and (through its own
  ledger, fed by the same opens, closes and fills as the orchestrator's) the trades it
  closes, for the loss streak;
- after each close slice: every bot's equity, for the daily-loss breaker, and the broker
  call counters (when given), for the API error rate;
- heartbeats of a bot's strategy agent, its signals, orders and fills: its activity; a timer
  reports running bots silent for too long (`BotStateChanged` says which bots run).

Every `AnomalyDetected` and `CircuitBreakerTripped` on the bus, its own and other agents'
(the system agent's), is kept in the anomaly log when one is given, once each.

Times: findings carry the time of the event that caused them (a bar's start, as the signals
decided at its close do; a fill's time; a slice's start for a trip), so a replay reports at
the replayed times. Silence and broker error rates are measured on the agent's clock, the
wall clock by default: heartbeats arrive in wall time even in a replay.

No event carries order books or funding rates yet: a feed that has them calls `on_book` and
`on_funding_rate`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal

from orchestrade.agents.base import Agent, AgentError, Clock, Sleep, utc_now
from orchestrade.anomaly import (
    AnomalyLog,
    AnomalyThresholds,
    ApiErrorRateDetector,
    BookImbalanceDetector,
    BrokerCallCounts,
    DailyLossBreaker,
    FundingRateDetector,
    InactivityDetector,
    LossStreakDetector,
    PriceMoveDetector,
    RoundTrips,
    SessionOf,
    SlippageDetector,
    TradeRateDetector,
    VolumeSpikeDetector,
    utc_session,
)
from orchestrade.bus import Bus
from orchestrade.domain import (
    AgentHeartbeat,
    AnomalyDetected,
    BarsClosed,
    BarsOpened,
    BotId,
    BotState,
    BotStateChanged,
    CircuitBreakerTripped,
    Envelope,
    OrderBook,
    OrderFilled,
    OrderSubmitted,
    SignalGenerated,
    Symbol,
)
from orchestrade.portfolio import Ledger

log = logging.getLogger(__name__)

ZERO = Decimal(0)
KEEP_INTERVAL_S = 0.25
"""Findings are written to the journal at most this often (wall time): often enough that
one write is short (it holds the event loop, which serves the API too), seldom enough that
a fast replay writes them in batches."""


class AnomalyAgent(Agent):
    """The detectors of `orchestrade.anomaly` on the bus.

    Args:
        thresholds: when each detector reports (default: the desk's defaults). Its
            `max_daily_loss_pct` is the breaker's limit (None: no breaker).
        ledger: the bots' accounts at their starting cash (`TradingNode.new_ledger()`),
            kept current from the bus. Needed for the loss streak, the breaker and the
            slippage of market orders; without it those are off.
        bots: the bots that run now (watched for inactivity). Default: the bots of the
            ledger's accounts.
        bot_agents: which bot each agent id belongs to, for heartbeats (default:
            ``strategy-<bot>`` for every bot).
        broker_calls: each bot's broker call counters (`ResilientBroker.stats`), read after
            every close slice and on the timer.
        journal: where every anomaly and trip on the bus is kept (None: nowhere).
        session_of: the trading session of an instant, for the breaker (default: UTC date).
        check_interval_s: seconds between two inactivity checks (and counter readings).
        clock: the wall clock (silence and broker error windows).
    """

    def __init__(
        self,
        bus: Bus,
        *,
        thresholds: AnomalyThresholds | None = None,
        ledger: Ledger | None = None,
        bots: Collection[BotId] | None = None,
        bot_agents: Mapping[str, BotId] | None = None,
        broker_calls: Mapping[BotId, BrokerCallCounts] | None = None,
        journal: AnomalyLog | None = None,
        session_of: SessionOf = utc_session,
        check_interval_s: float = 10.0,
        agent_id: str = "anomaly",
        heartbeat_interval_s: float = 1.0,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            agent_id, bus, heartbeat_interval_s=heartbeat_interval_s, clock=clock, sleep=sleep
        )
        if not check_interval_s > 0:
            raise AgentError(f"check_interval_s must be > 0, got {check_interval_s!r}")
        self.thresholds = thresholds or AnomalyThresholds()
        self.ledger = ledger
        self.journal = journal
        self.check_interval_s = check_interval_s
        self._accounts: dict[str, BotId] = {}
        if ledger is not None:
            self._accounts = _bots_of_accounts(ledger, bots)
        self.bots: tuple[BotId, ...] = tuple(
            dict.fromkeys(bots if bots is not None else self._accounts.values())
        )
        self.bot_agents = dict(
            bot_agents if bot_agents is not None else {f"strategy-{bot}": bot for bot in self.bots}
        )
        self._broker_calls = dict(broker_calls or {})
        self._calls_seen: dict[BotId, tuple[int, int]] = {}
        chosen = self.thresholds
        self.trade_rate = TradeRateDetector(chosen)
        self.loss_streak = LossStreakDetector(chosen)
        self.slippage = SlippageDetector(chosen)
        self.api_errors = ApiErrorRateDetector(chosen)
        self.inactivity = InactivityDetector(chosen)
        self.price_move = PriceMoveDetector(chosen)
        self.volume_spike = VolumeSpikeDetector(chosen)
        self.funding_rate = FundingRateDetector(chosen)
        self.book_imbalance = BookImbalanceDetector(chosen)
        self.breaker: DailyLossBreaker | None = None
        if ledger is not None and chosen.max_daily_loss_pct is not None:
            self.breaker = DailyLossBreaker(chosen.max_daily_loss_pct, session_of=session_of)
        self._round_trips = RoundTrips()
        self._to_keep: list[AnomalyDetected | CircuitBreakerTripped] = []
        self._marks: dict[str, Decimal] = {}
        """Each account's equity since its last close or fill (recomputed after either)."""
        self._kept_at = time.monotonic()
        self.found: Counter[str] = Counter()
        """Findings published so far, per detector (and per breaker)."""

    # -- lifecycle -------------------------------------------------------------------------

    async def on_start(self) -> None:
        group = self.agent_id
        await self.subscribe(BarsOpened, self.on_bars_opened, group=group)
        await self.subscribe(BarsClosed, self.on_bars_closed, group=group)
        await self.subscribe(OrderFilled, self.on_order_filled, group=group)
        await self.subscribe(OrderSubmitted, self.on_order_submitted, group=group)
        await self.subscribe(SignalGenerated, self.on_signal, group=group)
        await self.subscribe(AgentHeartbeat, self.on_heartbeat, group=group)
        await self.subscribe(BotStateChanged, self.on_bot_state_changed, group=group)
        if self.journal is not None:
            await self.subscribe(AnomalyDetected, self.on_finding, group=group)
            await self.subscribe(CircuitBreakerTripped, self.on_finding, group=group)
        now = self._clock()
        for bot in self.bots:
            self.inactivity.watch(bot, now)
        if self.breaker is not None:
            self.breaker.seed(self.equities())
        for bot, counts in self._broker_calls.items():
            self._calls_seen[bot] = _totals(counts)

    async def run(self) -> None:
        while True:
            await self._sleep(self.check_interval_s)
            await self.check()

    async def check(self) -> None:
        """The timer's work: report silent bots, read the broker call counters."""
        for finding in self.inactivity.check(self._clock()):
            await self._report(finding)
        await self._read_broker_calls()

    # -- the breaker, for whoever decides entries ------------------------------------------

    def blocks_entries(self, at: datetime) -> bool:
        """True when the daily-loss breaker forbids opening positions at `at`."""
        return self.breaker is not None and self.breaker.blocks_entries(at)

    def reset_circuit_breaker(self) -> None:
        """A person's reset of the daily-loss breaker (entries allowed again today)."""
        if self.breaker is not None:
            self.breaker.reset()
            log.warning("daily-loss circuit breaker reset by hand")

    def equities(self) -> dict[BotId, Decimal]:
        """Each bot's equity now, summed over its accounts (empty without a ledger)."""
        if self.ledger is None:
            return {}
        totals: dict[BotId, Decimal] = {}
        marks = self._marks
        for account_id, bot in self._accounts.items():
            equity = marks.get(account_id)
            if equity is None:
                equity = marks[account_id] = self.ledger.equity(account_id)
            totals[bot] = totals.get(bot, ZERO) + equity
        return totals

    # -- market ------------------------------------------------------------------------------

    async def on_bars_opened(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsOpened)
        if self.ledger is not None:
            on_open = self.ledger.on_open
            for bar in event.bars:
                on_open(bar)

    async def on_bars_closed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BarsClosed)
        ledger, marks = self.ledger, self._marks
        price_move, volume_spike = self.price_move.on_bar, self.volume_spike.on_bar
        for bar in event.bars:
            if ledger is not None:
                ledger.on_close(bar)
                if marks:  # equities computed since the last close or fill are stale
                    for state in ledger.accounts_of(bar.symbol):
                        marks.pop(state.account_id, None)
            finding = price_move(bar)
            if finding is not None:
                await self._report(finding)
            finding = volume_spike(bar)
            if finding is not None:
                await self._report(finding)
        if self.breaker is not None and event.bars:
            trip = self.breaker.update(event.start, self.equities())
            if trip is not None:
                self.found[trip.breaker] += 1
                log.warning("circuit breaker tripped: %s", trip.reason)
                await self.publish(trip)
        await self._read_broker_calls()

    async def on_book(self, book: OrderBook) -> None:
        """Judge an order-book snapshot (called by a feed that has books)."""
        finding = self.book_imbalance.on_book(book)
        if finding is not None:
            await self._report(finding)

    async def on_funding_rate(self, symbol: Symbol, at: datetime, rate: float) -> None:
        """Judge a perpetual's funding rate (called by a feed that has them)."""
        finding = self.funding_rate.update(symbol, at, rate)
        if finding is not None:
            await self._report(finding)

    # -- bots --------------------------------------------------------------------------------

    async def on_order_filled(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderFilled)
        order, fill = event.order, event.fill
        bot = order.bot_id
        market_price = None
        if self.ledger is not None:
            # A market order fills near the open it was sent at (or the close, when fills
            # happen at the close).
            market_price = self.ledger.current_open(fill.symbol)
            if market_price is None:
                market_price = self.ledger.last_close(fill.symbol)
        findings = [self.slippage.update(order, fill, market_price=market_price)]
        if bot is not None:
            self.inactivity.seen(bot, self._clock())
            findings.append(self.trade_rate.update(bot, fill))
            findings.append(self._closed_trade(bot, event))
        for finding in findings:
            if finding is not None:
                await self._report(finding)

    def _closed_trade(self, bot: BotId, event: OrderFilled) -> AnomalyDetected | None:
        if self.ledger is None:
            return None
        account_id = self.ledger.account_id(bot, event.fill.symbol)
        if account_id not in self.ledger.accounts:
            return None
        position = self.ledger.apply_fill(account_id, event.fill)
        self._marks.pop(account_id, None)
        trade = self._round_trips.update((account_id, event.fill.symbol), position, event.fill)
        return self.loss_streak.update(bot, trade) if trade is not None else None

    async def on_order_submitted(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, OrderSubmitted)
        if event.order.bot_id is not None:
            self.inactivity.seen(event.order.bot_id, self._clock())

    async def on_signal(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, SignalGenerated)
        if event.signal.bot_id is not None:
            self.inactivity.seen(event.signal.bot_id, self._clock())

    async def on_heartbeat(self, envelope: Envelope) -> None:
        beat = envelope.payload
        assert isinstance(beat, AgentHeartbeat)
        bot = self.bot_agents.get(beat.agent_id)
        if bot is not None:
            self.inactivity.seen(bot, self._clock())

    async def on_bot_state_changed(self, envelope: Envelope) -> None:
        event = envelope.payload
        assert isinstance(event, BotStateChanged)
        if event.state is BotState.RUNNING:
            self.inactivity.watch(event.bot_id, self._clock())
        else:
            self.inactivity.forget(event.bot_id)

    # -- keeping -----------------------------------------------------------------------------

    async def on_finding(self, envelope: Envelope) -> None:
        """Keep an anomaly or trip seen on the bus in the journal (written in batches, at
        most once per `KEEP_INTERVAL_S` of wall time, and at stop: a crash loses at most that
        interval's findings, which a resumed replay detects and keeps again)."""
        event = envelope.payload
        assert isinstance(event, AnomalyDetected | CircuitBreakerTripped)
        if self.journal is not None:
            self._to_keep.append(event)
            self._keep_when_due()

    def keep(self) -> None:
        """Write the findings waiting for the journal."""
        self._kept_at = time.monotonic()
        if self.journal is not None and self._to_keep:
            waiting, self._to_keep = self._to_keep, []
            self.journal.record_many(waiting)

    def _keep_when_due(self) -> None:
        if time.monotonic() - self._kept_at >= KEEP_INTERVAL_S:
            self.keep()

    async def on_stop(self) -> None:
        self.keep()
        await super().on_stop()

    async def _report(self, finding: AnomalyDetected) -> None:
        self.found[finding.detector] += 1
        log.info("anomaly %s on %s: %s", finding.detector, finding.subject, finding.reason)
        await self.publish(finding)

    async def _read_broker_calls(self) -> None:
        if not self._broker_calls:
            return
        now = self._clock()
        for bot, counts in self._broker_calls.items():
            calls, errors = _totals(counts)
            before_calls, before_errors = self._calls_seen.get(bot, (0, 0))
            self._calls_seen[bot] = (calls, errors)
            new_calls, new_errors = calls - before_calls, errors - before_errors
            if new_calls < 0 or new_errors < 0:  # the counters restarted (a new broker)
                new_calls, new_errors = calls, errors
            finding = self.api_errors.update(
                bot, now, calls=new_calls, errors=min(new_errors, new_calls), bot_id=bot
            )
            if finding is not None:
                await self._report(finding)


def _totals(counts: BrokerCallCounts) -> tuple[int, int]:
    """(calls, failed calls) so far; a call refused by an open breaker failed too."""
    refused = counts.short_circuited
    return counts.tries + refused, counts.failures + refused


def _bots_of_accounts(ledger: Ledger, bots: Collection[BotId] | None) -> dict[str, BotId]:
    """The bot of each ledger account: ``<bot>`` or ``<bot>/<symbol>`` (`Ledger.account_id`)."""
    owners: dict[str, BotId] = {}
    for account_id in ledger.accounts:
        if bots is not None:
            for bot in bots:
                if account_id == bot or account_id.startswith(f"{bot}/"):
                    owners[account_id] = bot
                    break
        else:
            owners[account_id] = BotId(account_id.split("/", 1)[0])
    return owners
