"""What a notification says: one short line per event (what happened, bot, symbol, numbers).

`notification_of` turns a bus event into a `Notification`, or None when the event type is
not worth a message (market data and heartbeats arrive far too often). The text starts with
the severity, then says what happened with the numbers that matter, e.g.

    [HIGH] anomaly price_jump on 005930 (bot bot-1): 0.12 vs threshold 0.08 - price moved 12%
    [LOW] bot bot-1 bought 10 005930 at 71,200 (order o-1, filled 10 of 10, fee 10.68)
    [CRITICAL] circuit breaker daily_loss tripped for every bot: 0.12 beyond limit 0.1

Only `AnomalyDetected` carries its own severity; the others get the one in `SEVERITIES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from orchestrade.domain import (
    AgentFailed,
    AgentRestarted,
    Allocation,
    AnomalyDetected,
    BotState,
    BotStateChanged,
    CircuitBreakerTripped,
    Message,
    Order,
    OrderCancelled,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    PositionChanged,
    RebalanceApplied,
    RebalanceDue,
    RiskLimitsChanged,
    RiskRejected,
    Severity,
    Side,
    SignalApproved,
)
from orchestrade.domain.validation import optional_text, require_enum, require_text, require_utc
from orchestrade.notify.errors import NotifyError

RULE = "rule"
"""The kind of a notification a rule of the orchestrator asked for (its ``notify`` action)."""

TEST = "test"
"""The kind of the message `orchestrade notify test` sends (never routed)."""

MAX_TEXT = 1000
"""Longest text sent; longer reasons are cut (Telegram refuses more than 4096 characters)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to send.

    Attributes:
        kind: the event type name (``AnomalyDetected``), `RULE` or `TEST`; routes select on it.
        severity: routes select on it too (a route has a minimum severity).
        text: the message people read, at most `MAX_TEXT` characters.
        at: when it happened (aware UTC).
        bot_id: the bot it is about, if any.
        symbol: the symbol it is about, if any.
        event: the event itself, for channels that send its fields (the generic webhook).
    """

    kind: str
    severity: Severity
    text: str
    at: datetime
    bot_id: str | None = None
    symbol: str | None = None
    event: Message | None = None

    def __post_init__(self) -> None:
        try:
            require_text("Notification.kind", self.kind)
            object.__setattr__(
                self, "severity", require_enum("Notification.severity", Severity, self.severity)
            )
            text = require_text("Notification.text", self.text)
            object.__setattr__(self, "at", require_utc("Notification.at", self.at))
            optional_text("Notification.bot_id", self.bot_id)
            optional_text("Notification.symbol", self.symbol)
        except ValueError as error:
            raise NotifyError(str(error)) from None
        if len(text) > MAX_TEXT:
            object.__setattr__(self, "text", text[: MAX_TEXT - 1] + "…")


SEVERITIES: Mapping[str, Severity] = MappingProxyType(
    {
        "CircuitBreakerTripped": Severity.CRITICAL,
        "AgentFailed": Severity.HIGH,
        "AgentRestarted": Severity.MEDIUM,
        "RiskRejected": Severity.MEDIUM,
        "RiskLimitsChanged": Severity.MEDIUM,
        "OrderFilled": Severity.LOW,
        "OrderSubmitted": Severity.LOW,
        "PositionChanged": Severity.LOW,
        "SignalApproved": Severity.LOW,
        "RebalanceDue": Severity.LOW,
        "RebalanceApplied": Severity.LOW,
    }
)
"""The severity of each event type that has no severity of its own. Exceptions:
`AnomalyDetected` uses its own; `BotStateChanged` is HIGH for a stop, MEDIUM for a pause and
LOW for a (re)start; `OrderCancelled` is MEDIUM when the broker rejected the order, LOW
otherwise; a rule's notification is HIGH (the desk asked for it explicitly)."""


def notification_of(event: Message, at: datetime) -> Notification | None:
    """The notification for `event` (None when its type is not notifiable).

    Args:
        event: a bus event.
        at: when it was published (the envelope's time), used when the event has no time
            of its own.
    """
    describe = _DESCRIBERS.get(type(event).__name__)
    if describe is None:
        return None
    severity, body, when, bot, symbol = describe(event)
    return Notification(
        kind=type(event).__name__,
        severity=severity,
        text=f"[{severity.name}] {body}",
        at=when or at,
        bot_id=bot,
        symbol=symbol,
        event=event,
    )


def rule_notification(
    rule: str, text: str, at: datetime, *, bot_id: str | None = None
) -> Notification:
    """The notification a rule's ``notify`` action asks for (`text`: its message or reason)."""
    return Notification(
        kind=RULE,
        severity=Severity.HIGH,
        text=f"[{Severity.HIGH.name}] rule {rule}: {text or 'matched'}",
        at=at,
        bot_id=bot_id,
    )


def probe_notification(channel: str, kind: str, at: datetime) -> Notification:
    """What `orchestrade notify test` sends to check a channel end to end."""
    return Notification(
        kind=TEST,
        severity=Severity.LOW,
        text=f"orchestrade test message: channel {channel} ({kind}) works "
        f"({at.strftime('%Y-%m-%d %H:%M:%S')} UTC)",
        at=at,
    )


# -- one describer per event type ------------------------------------------------------------

_Described = tuple[Severity, str, datetime | None, str | None, str | None]
"""severity, text without the severity tag, the event's own time, bot, symbol."""


def _anomaly(event: AnomalyDetected) -> _Described:
    bot = _bot(event.bot_id)
    body = (
        f"anomaly {event.detector} on {event.subject}{bot}: {_number(event.value)} vs "
        f"threshold {_number(event.threshold)} - {event.reason}"
    )
    return event.severity, body, event.detected_at, event.bot_id, None


def _breaker(event: CircuitBreakerTripped) -> _Described:
    who = f"bot {event.bot_id}" if event.bot_id else "every bot"
    body = (
        f"circuit breaker {event.breaker} tripped for {who}: {_decimal(event.value)} beyond "
        f"limit {_decimal(event.limit)} - {event.reason}"
    )
    return Severity.CRITICAL, body, event.tripped_at, event.bot_id, None


def _filled(event: OrderFilled) -> _Described:
    order, fill = event.order, event.fill
    verb = "bought" if fill.side is Side.BUY else "sold"
    costs = f", fee {_decimal(fill.fee)}" if fill.fee else ""
    costs += f", tax {_decimal(fill.tax)}" if fill.tax else ""
    body = (
        f"{_who(order.bot_id)}{verb} {_decimal(fill.quantity)} {fill.symbol} at "
        f"{_decimal(fill.price)} (order {order.order_id}, filled "
        f"{_decimal(order.filled_quantity)} of {_decimal(order.quantity)}{costs})"
    )
    return Severity.LOW, body, fill.filled_at, order.bot_id, fill.symbol


def _cancelled(event: OrderCancelled) -> _Described:
    order = event.order
    rejected = order.status is OrderStatus.REJECTED
    word = {OrderStatus.REJECTED: "rejected by the broker", OrderStatus.EXPIRED: "expired"}.get(
        order.status, "cancelled"
    )
    reason = f": {event.reason}" if event.reason else ""
    body = (
        f"{_who(order.bot_id)}order {order.order_id} ({_describe_order(order)}) {word}{reason} "
        f"(filled {_decimal(order.filled_quantity)} of {_decimal(order.quantity)})"
    )
    severity = Severity.MEDIUM if rejected else Severity.LOW
    return severity, body, None, order.bot_id, order.symbol


def _risk_rejected(event: RiskRejected) -> _Described:
    order = event.order
    body = (
        f"{_who(order.bot_id)}risk refused order {order.order_id} ({_describe_order(order)}): "
        f"{event.check} - {event.reason}"
    )
    return Severity.MEDIUM, body, None, order.bot_id, order.symbol


def _submitted(event: OrderSubmitted) -> _Described:
    order = event.order
    body = f"{_who(order.bot_id)}order {order.order_id} sent: {_describe_order(order)}"
    return Severity.LOW, body, order.created_at, order.bot_id, order.symbol


def _position(event: PositionChanged) -> _Described:
    position = event.position
    average = position.average_price
    held = (
        "flat"
        if average is None
        else f"{_decimal(position.quantity)} at average {_decimal(_round(average))}"
    )
    body = (
        f"{_who(event.bot_id)}position in {position.symbol} now {held} "
        f"(realized P&L {_decimal(position.realized_pnl)})"
    )
    return Severity.LOW, body, event.fill.filled_at, event.bot_id, position.symbol


def _signal_approved(event: SignalApproved) -> _Described:
    signal = event.signal
    price = f" at {_decimal(signal.reference_price)}" if signal.reference_price else ""
    body = (
        f"{_who(signal.bot_id)}signal {signal.side.value} {signal.symbol}{price} approved "
        f"(confidence {signal.confidence:.2f}, strategy {signal.strategy_id})"
    )
    return Severity.LOW, body, signal.time, signal.bot_id, signal.symbol


def _bot_state(event: BotStateChanged) -> _Described:
    severity = {BotState.STOPPED: Severity.HIGH, BotState.PAUSED: Severity.MEDIUM}.get(
        event.state, Severity.LOW
    )
    reason = f": {event.reason}" if event.reason else ""
    body = f"bot {event.bot_id} {event.state.value} (was {event.previous.value}){reason}"
    return severity, body, event.changed_at, event.bot_id, None


def _agent_failed(event: AgentFailed) -> _Described:
    restarts = f" (restarts so far: {event.restart_attempt})" if event.restart_attempt else ""
    body = f"agent {event.agent_id} failed: {event.error}{restarts}"
    return Severity.HIGH, body, event.failed_at, None, None


def _agent_restarted(event: AgentRestarted) -> _Described:
    body = (
        f"agent {event.agent_id} restarted (attempt {event.attempt}, after "
        f"{_number(event.delay_s)} s): {event.reason}"
    )
    return Severity.MEDIUM, body, event.restarted_at, None, None


def _rebalance_due(event: RebalanceDue) -> _Described:
    gain = event.sharpe_improvement
    estimate = "" if gain is None else f" (Sharpe +{_number(gain * 100)}%)"
    reason = f": {event.reason}" if event.reason else ""
    return Severity.LOW, f"rebalance due{estimate}{reason}", event.due_at, None, None


def _rebalance_applied(event: RebalanceApplied) -> _Described:
    before: dict[str, Decimal] = {item.bot_id: item.weight for item in event.previous}
    moves = ", ".join(_move(allocation, before) for allocation in event.allocations)
    reason = f" - {event.reason}" if event.reason else ""
    body = f"rebalance applied: {moves or 'no allocation'}{reason}"
    return Severity.LOW, body, event.applied_at, None, None


def _risk_limits(event: RiskLimitsChanged) -> _Described:
    body = f"risk limits changed ({event.source}): {event.limits_json}"
    return Severity.MEDIUM, body, event.changed_at, None, None


_DESCRIBERS: Mapping[str, Callable[[Any], _Described]] = MappingProxyType(
    {
        "AnomalyDetected": _anomaly,
        "CircuitBreakerTripped": _breaker,
        "OrderFilled": _filled,
        "OrderCancelled": _cancelled,
        "RiskRejected": _risk_rejected,
        "OrderSubmitted": _submitted,
        "PositionChanged": _position,
        "SignalApproved": _signal_approved,
        "BotStateChanged": _bot_state,
        "AgentFailed": _agent_failed,
        "AgentRestarted": _agent_restarted,
        "RebalanceDue": _rebalance_due,
        "RebalanceApplied": _rebalance_applied,
        "RiskLimitsChanged": _risk_limits,
    }
)

NOTIFIABLE: frozenset[str] = frozenset(_DESCRIBERS)
"""Event types that make a notification; a route's ``*`` means all of them and `RULE`."""


# -- numbers and words -----------------------------------------------------------------------


def _decimal(value: Decimal) -> str:
    """71200.00 -> '71,200'; 0.500 -> '0.5' (no exponent, thousands separated)."""
    return format(value.normalize(), ",f")


def _round(value: Decimal) -> Decimal:
    """An average price to 4 decimal places (a division can have many)."""
    return value.quantize(Decimal("0.0001"))


def _number(value: float) -> str:
    """0.12 -> '0.12'; 1234567.8 -> '1,234,568'; four significant digits below 1,000."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _describe_order(order: Order) -> str:
    """'buy 10 005930 market', 'sell 5 005930 stop 65,000 limit 64,900'."""
    text = f"{order.side.value} {_decimal(order.quantity)} {order.symbol}"
    if order.stop_price is not None:
        text += f" stop {_decimal(order.stop_price)}"
    if order.limit_price is not None:
        text += f" limit {_decimal(order.limit_price)}"
    if order.stop_price is None and order.limit_price is None:
        text += " market"
    return text


def _who(bot_id: str | None) -> str:
    return f"bot {bot_id} " if bot_id else ""


def _bot(bot_id: str | None) -> str:
    return f" (bot {bot_id})" if bot_id else ""


def _move(allocation: Allocation, before: Mapping[str, Decimal]) -> str:
    old = before.get(allocation.bot_id)
    start = "new" if old is None else _percent(old)
    return f"{allocation.bot_id} {start} -> {_percent(allocation.weight)}"


def _percent(weight: Decimal) -> str:
    return _decimal((weight * 100).quantize(Decimal("0.01"))) + "%"
