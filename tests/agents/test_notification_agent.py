"""NotificationAgent: the sink's event types go from the bus to the sink with their
publication time; the orchestrator's rule notifications reach it through their logger."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from agents.support import T0, FakeTime, settle
from orchestrade.agents.base import AgentError
from orchestrade.agents.notifier import RULE_LOGGER, NotificationAgent
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    AgentHeartbeat,
    AgentId,
    AnomalyDetected,
    BotId,
    Message,
    Severity,
)
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.rules import Action, Rule, RuleEngine
from orchestrade.portfolio import Ledger

pytestmark = pytest.mark.anyio


class RecordingSink:
    def __init__(self, event_types: frozenset[str]) -> None:
        self.event_types = event_types
        self.events: list[tuple[Message, datetime | None]] = []
        self.rules: list[tuple[str, str, str | None]] = []

    def notify(self, event: Message, *, at: datetime | None = None) -> None:
        self.events.append((event, at))

    def notify_rule(
        self, rule: str, text: str, *, at: datetime | None = None, bot_id: str | None = None
    ) -> None:
        self.rules.append((rule, text, bot_id))


def anomaly(severity: Severity = Severity.HIGH) -> AnomalyDetected:
    return AnomalyDetected(T0, "price_jump", severity, "005930", 0.12, 0.08, "jump", BotId("b"))


async def test_the_sinks_event_types_are_forwarded_with_their_publication_time(
    bus: InMemoryBus, time: FakeTime
) -> None:
    sink = RecordingSink(frozenset({"AnomalyDetected"}))
    agent = NotificationAgent(bus, sink, heartbeat_interval_s=3600, clock=time.clock)
    await agent.start()

    envelope = await bus.publish(anomaly())
    await bus.publish(AgentHeartbeat(AgentId("risk"), T0, 1))
    await settle()
    await agent.stop()

    assert sink.events == [(anomaly(), envelope.timestamp)]
    assert agent.forwarded == 1


async def test_an_unknown_event_type_fails_the_start(bus: InMemoryBus) -> None:
    agent = NotificationAgent(bus, RecordingSink(frozenset({"Nope"})), heartbeat_interval_s=3600)

    with pytest.raises(AgentError, match="unknown event type"):
        await agent.start()


async def test_records_of_the_rule_logger_become_rule_notifications_while_running(
    bus: InMemoryBus,
) -> None:
    sink = RecordingSink(frozenset())
    agent = NotificationAgent(bus, sink, heartbeat_interval_s=3600)
    rules_log = logging.getLogger(RULE_LOGGER)
    await agent.start()

    rules_log.warning("%s: %s", "big_loss", "big_loss: loss 12% > 10%")
    rules_log.warning(
        "anything", extra={"rule": "r2", "notify_message": "call the desk", "bot_id": "bot-1"}
    )
    logging.getLogger(f"{RULE_LOGGER}.delivery").warning("a delivery line, not a rule")
    await agent.stop()
    rules_log.warning("%s: %s", "after", "after stop")

    assert sink.rules == [
        ("big_loss", "loss 12% > 10%", None),
        ("r2", "call the desk (anything)", "bot-1"),
    ]


async def test_the_orchestrators_notify_effect_reaches_the_sink(bus: InMemoryBus) -> None:
    rules = RuleEngine(
        [
            Rule(
                "tell_the_desk",
                "AnomalyDetected",
                Action.NOTIFY,
                params={"reason": "price jump seen"},
            )
        ]
    )
    orchestrator = Orchestrator(bus, Ledger(mode="isolated"), {}, rules, heartbeat_interval_s=3600)
    sink = RecordingSink(frozenset())
    agent = NotificationAgent(bus, sink, heartbeat_interval_s=3600)
    await orchestrator.start()
    await agent.start()

    await bus.publish(anomaly())
    await settle()
    await agent.stop()
    await orchestrator.stop()

    # The orchestrator hands over the rule's facts: the bot is the anomaly's.
    assert sink.rules == [("tell_the_desk", "price jump seen", "b")]
