"""The text of each notification: what happened, bot, symbol and numbers, worked out by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from fakes import buy, daily_bar, sell
from notify.builders import T, anomaly, filled
from orchestrade.domain import (
    AgentFailed,
    AgentHeartbeat,
    AgentId,
    AgentRestarted,
    Allocation,
    BarClosed,
    BotId,
    BotState,
    BotStateChanged,
    CircuitBreakerTripped,
    Fill,
    FillId,
    Message,
    OrderCancelled,
    OrderFilled,
    OrderId,
    OrderStatus,
    OrderSubmitted,
    Position,
    PositionChanged,
    RebalanceApplied,
    RebalanceDue,
    RiskLimitsChanged,
    RiskRejected,
    Severity,
    Side,
    Signal,
    SignalApproved,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.notify import NOTIFIABLE, Notification, notification_of
from orchestrade.notify.messages import MAX_TEXT, RULE, SEVERITIES, rule_notification

D = Decimal
LATER = T + timedelta(minutes=5)
BOT = BotId("bot-1")


def text_of(event: Message) -> str:
    notification = notification_of(event, LATER)
    assert notification is not None
    return notification.text


def test_an_anomaly_keeps_its_own_severity_time_and_bot() -> None:
    notification = notification_of(anomaly(Severity.MEDIUM), LATER)

    assert notification == Notification(
        kind="AnomalyDetected",
        severity=Severity.MEDIUM,
        text="[MEDIUM] anomaly price_jump on 005930 (bot bot-1): 0.12 vs threshold 0.08 - "
        "price moved 12% in one bar",
        at=T,
        bot_id="bot-1",
        event=anomaly(Severity.MEDIUM),
    )


def test_a_fill_says_who_bought_what_at_which_price_and_its_costs() -> None:
    notification = notification_of(filled(), LATER)

    assert notification is not None
    assert notification.text == (
        "[LOW] bot bot-1 bought 10 005930 at 71,200 (order o-1, filled 10 of 10, fee 106.8)"
    )
    assert (notification.bot_id, notification.symbol, notification.at) == ("bot-1", "005930", T)


def test_a_partial_sell_fill_with_tax() -> None:
    fill = Fill(
        FillId("f-9"), OrderId("o-9"), Symbol("005930"), Side.SELL, D(4), D("70500.5"), T,
        fee=D("42.30"), tax=D("564"),
    )  # fmt: skip
    order = sell("o-9", 10).with_status(OrderStatus.SUBMITTED).with_fill(fill)
    assert text_of(OrderFilled(order, fill)) == (
        "[LOW] bot bot-1 sold 4 005930 at 70,500.5 (order o-9, filled 4 of 10, fee 42.3, tax 564)"
    )


def test_a_circuit_breaker_for_everyone_is_critical() -> None:
    event = CircuitBreakerTripped(T, "daily_loss", D("0.12"), D("0.10"), "day loss 12% of equity")

    assert text_of(event) == (
        "[CRITICAL] circuit breaker daily_loss tripped for every bot: 0.12 beyond limit 0.1 - "
        "day loss 12% of equity"
    )


def test_an_order_the_broker_rejected_is_medium_a_cancelled_one_low() -> None:
    rejected = buy("o-2", 5, limit=70000).with_status(OrderStatus.REJECTED)
    cancelled = sell("o-3", 3, stop=65000).with_status(OrderStatus.CANCELLED)

    assert text_of(OrderCancelled(rejected, "insufficient cash")) == (
        "[MEDIUM] bot bot-1 order o-2 (buy 5 005930 limit 70,000) rejected by the broker: "
        "insufficient cash (filled 0 of 5)"
    )
    assert text_of(OrderCancelled(cancelled)) == (
        "[LOW] bot bot-1 order o-3 (sell 3 005930 stop 65,000) cancelled (filled 0 of 3)"
    )


def test_a_risk_rejection_names_the_check_and_its_reason() -> None:
    event = RiskRejected(buy("o-1", 10), "max_position_pct", "position would be 30%, limit 25%")

    assert text_of(event) == (
        "[MEDIUM] bot bot-1 risk refused order o-1 (buy 10 005930 market): max_position_pct - "
        "position would be 30%, limit 25%"
    )


def test_a_submitted_order_and_an_approved_signal() -> None:
    signal = Signal(
        T, Symbol("005930"), SignalSide.BUY, 0.8, StrategyId("sma_cross"), BOT,
        reference_price=D("71200"),
    )  # fmt: skip

    assert text_of(OrderSubmitted(buy("o-1", 10))) == (
        "[LOW] bot bot-1 order o-1 sent: buy 10 005930 market"
    )
    assert text_of(SignalApproved(signal)) == (
        "[LOW] bot bot-1 signal buy 005930 at 71,200 approved (confidence 0.80, strategy sma_cross)"
    )


def test_a_position_shows_its_average_price() -> None:
    # 10 at 100 then 10 at 110: cost 2,100 for 20 shares, average 105.
    position = Position(Symbol("005930"), D(20), D(2100), D("-15.5"))
    fill = Fill(FillId("f-2"), OrderId("o-2"), Symbol("005930"), Side.BUY, D(10), D(110), T)

    assert text_of(PositionChanged(position, fill, BOT)) == (
        "[LOW] bot bot-1 position in 005930 now 20 at average 105 (realized P&L -15.5)"
    )
    flat = PositionChanged(Position(Symbol("005930"), realized_pnl=D(230)), fill, BOT)
    assert text_of(flat) == "[LOW] bot bot-1 position in 005930 now flat (realized P&L 230)"


@pytest.mark.parametrize(
    ("state", "severity"),
    [(BotState.STOPPED, "HIGH"), (BotState.PAUSED, "MEDIUM"), (BotState.RUNNING, "LOW")],
)
def test_a_bot_stop_is_high_a_pause_medium_a_start_low(state: BotState, severity: str) -> None:
    previous = BotState.PAUSED if state is BotState.RUNNING else BotState.RUNNING
    event = BotStateChanged(BOT, T, previous, state, "stop_bot_on_high_anomaly: severity high")

    assert text_of(event) == (
        f"[{severity}] bot bot-1 {state.value} (was {previous.value}): "
        "stop_bot_on_high_anomaly: severity high"
    )


def test_agent_failures_and_restarts() -> None:
    failed = AgentFailed(AgentId("risk"), T, "ZeroDivisionError: division by zero", 2)
    restarted = AgentRestarted(AgentId("risk"), T, 3, 4.0, "silent for 3 s")

    assert text_of(failed) == (
        "[HIGH] agent risk failed: ZeroDivisionError: division by zero (restarts so far: 2)"
    )
    assert text_of(restarted) == (
        "[MEDIUM] agent risk restarted (attempt 3, after 4 s): silent for 3 s"
    )


def test_rebalances_show_each_bots_weight_move_in_percent() -> None:
    applied = RebalanceApplied(
        T,
        (
            Allocation(BOT, D("0.4")),
            Allocation(BotId("bot-2"), D("0.6")),
            Allocation(BotId("bot-3"), D("0.3333333")),
        ),
        (Allocation(BOT, D("0.5")), Allocation(BotId("bot-2"), D("0.5"))),
        "monthly",
    )

    assert text_of(applied) == (
        "[LOW] rebalance applied: bot-1 50% -> 40%, bot-2 50% -> 60%, bot-3 new -> 33.33% - monthly"
    )
    assert text_of(RebalanceDue(T, "weekly", 0.08)) == "[LOW] rebalance due (Sharpe +8%): weekly"


def test_risk_limit_changes_show_the_new_limits() -> None:
    event = RiskLimitsChanged(T, "risk.yaml", '{"max_position_pct": 0.2}')

    assert text_of(event) == ('[MEDIUM] risk limits changed (risk.yaml): {"max_position_pct": 0.2}')


def test_market_data_and_heartbeats_make_no_notification() -> None:
    assert notification_of(BarClosed(daily_bar(0, 100)), LATER) is None
    assert notification_of(AgentHeartbeat(AgentId("risk"), T, 1), LATER) is None


def test_every_notifiable_type_without_its_own_rule_has_a_default_severity() -> None:
    own = {"AnomalyDetected", "BotStateChanged", "OrderCancelled"}

    assert set(SEVERITIES) == NOTIFIABLE - own


def test_a_rule_notification_is_high_and_says_which_rule() -> None:
    notification = rule_notification("stop_on_loss", "daily loss 12%", T, bot_id="bot-1")

    assert (notification.kind, notification.severity) == (RULE, Severity.HIGH)
    assert notification.text == "[HIGH] rule stop_on_loss: daily loss 12%"


def test_a_long_reason_is_cut_to_max_text() -> None:
    notification = rule_notification("r", "y" * 5000, T)

    assert len(notification.text) == MAX_TEXT
    assert notification.text.endswith("y…")
