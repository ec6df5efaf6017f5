"""Facts that agents publish on the bus, one class per event type, named in the past tense."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.fills import Fill
from orchestrade.domain.ids import AgentId, BotId
from orchestrade.domain.market_data import Bar
from orchestrade.domain.orders import Order, OrderStatus
from orchestrade.domain.positions import Position
from orchestrade.domain.signals import Signal
from orchestrade.domain.validation import (
    assign,
    optional_text,
    require_decimal,
    require_enum,
    require_float,
    require_int,
    require_str,
    require_text,
    require_texts,
    require_utc,
)


class Severity(StrEnum):
    """How bad an anomaly is; HIGH and above usually stop the bot."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class BotState(StrEnum):
    """Whether a bot trades."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class BarClosed:
    """A bar is complete; strategies may act on it."""

    bar: Bar


@dataclass(frozen=True, slots=True)
class BarsOpened:
    """The bars of every symbol that trades at `start` have opened (one market-data slice).

    Deciders may read only each bar's `open`: the rest of the bar is the market's future.
    The whole bar travels with it so that a simulated market (the paper broker in replay)
    can fill the orders sent at this open against the bar's range and volume, as the
    backtest does. One message per slice, not per symbol, keeps replay cheap.
    """

    start: datetime
    bars: tuple[Bar, ...]

    def __post_init__(self) -> None:
        assign(self, "start", require_utc("BarsOpened.start", self.start))
        assign(self, "bars", _slice_bars("BarsOpened", self.start, self.bars))


@dataclass(frozen=True, slots=True)
class BarsTraded:
    """The market traded through these bars' ranges, before their closes are announced.

    A simulated market (the paper broker in replay) fills resting stops and limits against
    each bar's low and high now, so that what they change (positions, cash) is booked before
    the closes are marked and the next decisions are taken, as in the backtest kernel.
    """

    start: datetime
    bars: tuple[Bar, ...]

    def __post_init__(self) -> None:
        assign(self, "start", require_utc("BarsTraded.start", self.start))
        assign(self, "bars", _slice_bars("BarsTraded", self.start, self.bars))

    @classmethod
    def of(cls, opened: BarsOpened) -> BarsTraded:
        """The next phase of `opened`'s slice: its bars were checked when it was built."""
        return _same_slice(cls, opened)


@dataclass(frozen=True, slots=True)
class BarsClosed:
    """The bars of every symbol that traded at `start` are complete; strategies act on them."""

    start: datetime
    bars: tuple[Bar, ...]

    def __post_init__(self) -> None:
        assign(self, "start", require_utc("BarsClosed.start", self.start))
        assign(self, "bars", _slice_bars("BarsClosed", self.start, self.bars))

    @classmethod
    def of(cls, opened: BarsOpened) -> BarsClosed:
        """The next phase of `opened`'s slice: its bars were checked when it was built."""
        return _same_slice(cls, opened)


_Phase = TypeVar("_Phase", "BarsTraded", "BarsClosed")


def _same_slice(cls: type[_Phase], opened: BarsOpened) -> _Phase:
    event = object.__new__(cls)
    object.__setattr__(event, "start", opened.start)
    object.__setattr__(event, "bars", opened.bars)
    return event


def _slice_bars(owner: str, start: datetime, bars: object) -> tuple[Bar, ...]:
    if not isinstance(bars, tuple | list):
        raise ValidationError(f"{owner}.bars must be a tuple of Bar, got {type(bars).__name__}")
    seen: set[str] = set()
    for bar in bars:
        if not isinstance(bar, Bar):
            raise ValidationError(f"{owner}.bars must hold Bar values, got {type(bar).__name__}")
        if bar.start != start:
            raise ValidationError(
                f"{owner}: bar of {bar.symbol} starts at {bar.start.isoformat()}, "
                f"not at the slice's {start.isoformat()}"
            )
        if bar.symbol in seen:
            raise ValidationError(f"{owner}: two bars of {bar.symbol} in one slice")
        seen.add(bar.symbol)
    return tuple(bars)


@dataclass(frozen=True, slots=True)
class SignalGenerated:
    """A strategy produced a signal."""

    signal: Signal


@dataclass(frozen=True, slots=True)
class SignalApproved:
    """The orchestrator's rules let a signal through to sizing and risk."""

    signal: Signal
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assign(self, "reasons", require_texts("SignalApproved.reasons", self.reasons))


@dataclass(frozen=True, slots=True)
class OrderRequested:
    """A sized order asks to be checked by risk and sent."""

    order: Order


@dataclass(frozen=True, slots=True)
class OrdersRequested:
    """The sized orders decided at one bar open, to be checked by risk and sent together."""

    orders: tuple[Order, ...]

    def __post_init__(self) -> None:
        orders = tuple(self.orders)
        if not orders:
            raise ValidationError("OrdersRequested: no orders")
        for order in orders:
            if not isinstance(order, Order):
                raise ValidationError(f"OrdersRequested: {order!r} is not an Order")
        if len({order.order_id for order in orders}) != len(orders):
            raise ValidationError("OrdersRequested: an order id is listed twice")
        assign(self, "orders", orders)


@dataclass(frozen=True, slots=True)
class RiskRejected:
    """A pre-trade check refused an order; `check` names it."""

    order: Order
    check: str
    reason: str

    def __post_init__(self) -> None:
        require_text("RiskRejected.check", self.check)
        require_text("RiskRejected.reason", self.reason)


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    """The OMS sent an order to the broker (after writing it to storage)."""

    order: Order


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """A fill arrived; `order` is the order after the fill."""

    order: Order
    fill: Fill

    def __post_init__(self) -> None:
        if self.fill.order_id != self.order.order_id:
            raise ValidationError(
                f"OrderFilled: fill {self.fill.fill_id} is for order {self.fill.order_id}, "
                f"not {self.order.order_id}"
            )


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """An order ended without (completely) filling: cancelled, rejected by the broker or expired."""

    order: Order
    reason: str = ""

    def __post_init__(self) -> None:
        require_str("OrderCancelled.reason", self.reason)
        if self.order.status not in (
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
            OrderStatus.REJECTED,
        ):
            raise ValidationError(
                f"OrderCancelled: order {self.order.order_id} is {self.order.status.value}, "
                "not cancelled, expired or rejected"
            )


@dataclass(frozen=True, slots=True)
class PositionChanged:
    """A fill changed a position; `position` is the position after `fill`."""

    position: Position
    fill: Fill
    bot_id: BotId | None = None

    def __post_init__(self) -> None:
        optional_text("PositionChanged.bot_id", self.bot_id)
        if self.fill.symbol != self.position.symbol:
            raise ValidationError(
                f"PositionChanged: fill is for {self.fill.symbol}, position for "
                f"{self.position.symbol}"
            )


@dataclass(frozen=True, slots=True)
class AnomalyDetected:
    """A detector saw `value` cross `threshold` on `subject` (a symbol, bot, agent or feed)."""

    detected_at: datetime
    detector: str
    severity: Severity
    subject: str
    value: float
    threshold: float
    reason: str
    bot_id: BotId | None = None

    def __post_init__(self) -> None:
        assign(self, "detected_at", require_utc("AnomalyDetected.detected_at", self.detected_at))
        require_text("AnomalyDetected.detector", self.detector)
        assign(self, "severity", require_enum("AnomalyDetected.severity", Severity, self.severity))
        require_text("AnomalyDetected.subject", self.subject)
        assign(self, "value", require_float("AnomalyDetected.value", self.value))
        assign(self, "threshold", require_float("AnomalyDetected.threshold", self.threshold))
        require_text("AnomalyDetected.reason", self.reason)
        optional_text("AnomalyDetected.bot_id", self.bot_id)


@dataclass(frozen=True, slots=True)
class CircuitBreakerTripped:
    """A money limit was breached (e.g. daily loss); trading stops for `bot_id` or everyone."""

    tripped_at: datetime
    breaker: str
    value: Decimal
    limit: Decimal
    reason: str
    bot_id: BotId | None = None

    def __post_init__(self) -> None:
        assign(self, "tripped_at", require_utc("CircuitBreakerTripped.tripped_at", self.tripped_at))
        require_text("CircuitBreakerTripped.breaker", self.breaker)
        assign(self, "value", require_decimal("CircuitBreakerTripped.value", self.value))
        assign(self, "limit", require_decimal("CircuitBreakerTripped.limit", self.limit))
        require_text("CircuitBreakerTripped.reason", self.reason)
        optional_text("CircuitBreakerTripped.bot_id", self.bot_id)


@dataclass(frozen=True, slots=True)
class Allocation:
    """The weight of one bot in the portfolio (fraction of capital; 0 switches it off)."""

    bot_id: BotId
    weight: Decimal

    def __post_init__(self) -> None:
        require_text("Allocation.bot_id", self.bot_id)
        weight = require_decimal("Allocation.weight", self.weight)
        if weight < 0:
            raise ValidationError(f"Allocation.weight must be >= 0, got {weight}")
        assign(self, "weight", weight)


@dataclass(frozen=True, slots=True)
class RebalanceDue:
    """The schedule says the portfolio should be re-weighted now."""

    due_at: datetime
    reason: str = ""
    sharpe_improvement: float | None = None
    """Relative gain in Sharpe ratio the proposed weights promise over the current ones
    ((new - old) / |old|; 0.05 = 5%), or None when it was not estimated. The default rules
    skip a rebalance that improves Sharpe by less than 5%."""

    def __post_init__(self) -> None:
        assign(self, "due_at", require_utc("RebalanceDue.due_at", self.due_at))
        require_str("RebalanceDue.reason", self.reason)
        if self.sharpe_improvement is not None:
            assign(
                self,
                "sharpe_improvement",
                require_float("RebalanceDue.sharpe_improvement", self.sharpe_improvement),
            )


@dataclass(frozen=True, slots=True)
class RebalanceApplied:
    """The portfolio moved from `previous` to `allocations` (each bot at most once)."""

    applied_at: datetime
    allocations: tuple[Allocation, ...]
    previous: tuple[Allocation, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        assign(self, "applied_at", require_utc("RebalanceApplied.applied_at", self.applied_at))
        for name in ("allocations", "previous"):
            allocations = tuple(getattr(self, name))
            bots = [allocation.bot_id for allocation in allocations]
            if len(set(bots)) != len(bots):
                raise ValidationError(f"RebalanceApplied.{name} lists a bot twice: {bots}")
            assign(self, name, allocations)
        require_str("RebalanceApplied.reason", self.reason)


@dataclass(frozen=True, slots=True)
class RiskLimitsChanged:
    """The risk limits in force changed (a reloaded settings file, an operator's update).

    `limits_json` is the JSON object of the new `RiskSettings` (checked by the risk agent,
    which keeps its old limits when they are invalid); `source` says where they came from.
    """

    changed_at: datetime
    source: str
    limits_json: str

    def __post_init__(self) -> None:
        assign(self, "changed_at", require_utc("RiskLimitsChanged.changed_at", self.changed_at))
        require_text("RiskLimitsChanged.source", self.source)
        require_str("RiskLimitsChanged.limits_json", self.limits_json)
        try:
            parsed = json.loads(self.limits_json)
        except ValueError as error:
            raise ValidationError(f"RiskLimitsChanged.limits_json is not JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise ValidationError("RiskLimitsChanged.limits_json must be a JSON object")


@dataclass(frozen=True, slots=True)
class AgentHeartbeat:
    """An agent is alive; `sequence` increases by one per beat."""

    agent_id: AgentId
    sent_at: datetime
    sequence: int

    def __post_init__(self) -> None:
        require_text("AgentHeartbeat.agent_id", self.agent_id)
        assign(self, "sent_at", require_utc("AgentHeartbeat.sent_at", self.sent_at))
        require_int("AgentHeartbeat.sequence", self.sequence, minimum=0)


@dataclass(frozen=True, slots=True)
class AgentFailed:
    """An agent crashed or went silent; `restart_attempt` counts restarts so far (0: none)."""

    agent_id: AgentId
    failed_at: datetime
    error: str
    restart_attempt: int = 0

    def __post_init__(self) -> None:
        require_text("AgentFailed.agent_id", self.agent_id)
        assign(self, "failed_at", require_utc("AgentFailed.failed_at", self.failed_at))
        require_text("AgentFailed.error", self.error)
        require_int("AgentFailed.restart_attempt", self.restart_attempt, minimum=0)


@dataclass(frozen=True, slots=True)
class AgentRestarted:
    """The health monitor restarted a crashed or silent agent after waiting `delay_s`.

    `attempt` counts restarts since the agent was last healthy for long enough (1: first);
    `reason` is the failure that caused the restart.
    """

    agent_id: AgentId
    restarted_at: datetime
    attempt: int
    delay_s: float
    reason: str

    def __post_init__(self) -> None:
        require_text("AgentRestarted.agent_id", self.agent_id)
        assign(self, "restarted_at", require_utc("AgentRestarted.restarted_at", self.restarted_at))
        require_int("AgentRestarted.attempt", self.attempt, minimum=1)
        delay = require_float("AgentRestarted.delay_s", self.delay_s)
        if delay < 0:
            raise ValidationError(f"AgentRestarted.delay_s must be >= 0, got {delay}")
        assign(self, "delay_s", delay)
        require_text("AgentRestarted.reason", self.reason)


@dataclass(frozen=True, slots=True)
class BotStateChanged:
    """A bot started, paused or stopped."""

    bot_id: BotId
    changed_at: datetime
    previous: BotState
    state: BotState
    reason: str = ""

    def __post_init__(self) -> None:
        require_text("BotStateChanged.bot_id", self.bot_id)
        assign(self, "changed_at", require_utc("BotStateChanged.changed_at", self.changed_at))
        assign(self, "previous", require_enum("BotStateChanged.previous", BotState, self.previous))
        assign(self, "state", require_enum("BotStateChanged.state", BotState, self.state))
        require_str("BotStateChanged.reason", self.reason)


Event = (
    BarClosed
    | BarsOpened
    | BarsTraded
    | BarsClosed
    | SignalGenerated
    | SignalApproved
    | OrderRequested
    | OrdersRequested
    | RiskRejected
    | OrderSubmitted
    | OrderFilled
    | OrderCancelled
    | PositionChanged
    | AnomalyDetected
    | CircuitBreakerTripped
    | RebalanceDue
    | RebalanceApplied
    | AgentHeartbeat
    | AgentFailed
    | AgentRestarted
    | RiskLimitsChanged
    | BotStateChanged
)
"""Any event."""
