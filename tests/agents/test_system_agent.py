"""SystemAgent: resource thresholds become anomalies once per crossing; a changed risk file
becomes `RiskLimitsChanged`, which the risk agent puts in force (or refuses, keeping its
limits)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orchestrade.agents.risk import RiskAgent
from orchestrade.agents.system import SystemAgent, SystemThresholds
from orchestrade.bus import InMemoryBus
from orchestrade.domain import AnomalyDetected, Envelope, RiskLimitsChanged, Severity
from orchestrade.portfolio import Ledger
from orchestrade.risk import RiskEngine
from orchestrade.settings import RiskSettings

pytestmark = pytest.mark.anyio


class Inbox:
    def __init__(self) -> None:
        self.events: list[object] = []

    async def __call__(self, envelope: Envelope) -> None:
        self.events.append(envelope.payload)


async def collect(bus: InMemoryBus, *types: type) -> Inbox:
    inbox = Inbox()
    for kind in types:
        await bus.subscribe(kind, inbox)
    return inbox


def failing_probe() -> None:
    raise ConnectionError("connection refused")


async def test_a_dead_database_is_a_high_anomaly_reported_once(
    bus: InMemoryBus, tmp_path: Path
) -> None:
    inbox = await collect(bus, AnomalyDetected)
    agent = SystemAgent(bus, home=tmp_path, probe=failing_probe)

    first = await agent.check()
    await agent.check()  # still down: not reported again
    await bus.wait_idle()

    assert not first.healthy
    assert first.database_ok is False
    assert first.problems == ("database did not answer",)
    assert len(inbox.events) == 1
    anomaly = inbox.events[0]
    assert isinstance(anomaly, AnomalyDetected)
    assert (anomaly.detector, anomaly.severity) == ("system_database", Severity.HIGH)


async def test_thresholds_crossed_are_medium_anomalies_with_value_and_threshold(
    bus: InMemoryBus, tmp_path: Path
) -> None:
    inbox = await collect(bus, AnomalyDetected)
    # Every real process uses more than 0 MB and every disk has less than 10^12 MB free.
    thresholds = SystemThresholds(cpu_pct=100.0, memory_mb=0.0, disk_free_mb=1e12)
    agent = SystemAgent(bus, home=tmp_path, thresholds=thresholds)

    health = await agent.check()
    await bus.wait_idle()

    detectors = {e.detector: e for e in inbox.events if isinstance(e, AnomalyDetected)}
    assert set(detectors) == {"system_memory", "system_disk"}
    memory = detectors["system_memory"]
    assert memory.severity is Severity.MEDIUM
    assert memory.value == pytest.approx(health.memory_mb)
    assert memory.threshold == 0.0
    assert detectors["system_disk"].threshold == 1e12


async def test_a_healthy_machine_reports_nothing(bus: InMemoryBus, tmp_path: Path) -> None:
    inbox = await collect(bus, AnomalyDetected)
    agent = SystemAgent(
        bus, home=tmp_path, probe=lambda: None, thresholds=SystemThresholds(cpu_pct=1000.0)
    )

    health = await agent.check()
    await bus.wait_idle()

    assert health.healthy
    assert health.database_ok
    assert health.database_ms is not None
    assert health.database_ms >= 0
    assert inbox.events == []


async def test_a_changed_risk_file_is_published_and_put_in_force(
    bus: InMemoryBus, tmp_path: Path
) -> None:
    risk_file = tmp_path / "risk.yaml"
    risk_file.write_text("max_position_pct: 0.5\n", encoding="utf-8")
    inbox = await collect(bus, RiskLimitsChanged)
    engine = RiskEngine(RiskSettings())
    risk = RiskAgent(bus, engine, Ledger(), heartbeat_interval_s=3600)
    await risk.start()
    agent = SystemAgent(bus, home=tmp_path, risk_file=risk_file)

    assert await agent.reload_if_changed() is False  # unchanged since the agent started
    risk_file.write_text("max_position_pct: 0.25\nmax_daily_loss_pct: 0.05\n", encoding="utf-8")
    os.utime(risk_file, (1, 1))  # a new modification time, whatever the clock's resolution
    assert await agent.reload_if_changed() is True
    await bus.wait_idle()
    await risk.stop()

    assert len(inbox.events) == 1
    event = inbox.events[0]
    assert isinstance(event, RiskLimitsChanged)
    assert json.loads(event.limits_json)["max_position_pct"] == 0.25
    assert engine.settings.max_position_pct == 0.25
    assert engine.settings.max_daily_loss_pct == 0.05


async def test_an_invalid_risk_file_changes_nothing(bus: InMemoryBus, tmp_path: Path) -> None:
    risk_file = tmp_path / "risk.yaml"
    risk_file.write_text("max_position_pct: 0.5\n", encoding="utf-8")
    inbox = await collect(bus, RiskLimitsChanged)
    agent = SystemAgent(bus, home=tmp_path, risk_file=risk_file)

    risk_file.write_text("max_position_pct: -3\n", encoding="utf-8")
    os.utime(risk_file, (2, 2))

    assert await agent.reload_if_changed() is False
    await bus.wait_idle()
    assert inbox.events == []


async def test_the_risk_agent_refuses_invalid_limits_and_keeps_its_own(
    bus: InMemoryBus,
) -> None:
    engine = RiskEngine(RiskSettings(max_position_pct=0.5))
    risk = RiskAgent(bus, engine, Ledger(), heartbeat_interval_s=3600)
    await risk.start()

    await bus.publish(
        RiskLimitsChanged(
            changed_at=datetime(2024, 1, 2, tzinfo=UTC),
            source="operator",
            limits_json=json.dumps({"max_position_pct": -1}),
        )
    )
    await bus.wait_idle()
    await risk.stop()

    assert engine.settings.max_position_pct == 0.5
    assert Decimal("0.5") == Decimal(str(engine.settings.max_position_pct))


def test_interval_must_be_positive(tmp_path: Path) -> None:
    from orchestrade.agents.base import AgentError

    with pytest.raises(AgentError, match="interval_s must be > 0"):
        SystemAgent(InMemoryBus(), home=tmp_path, interval_s=0)


def test_cpu_is_read_over_at_least_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orchestrade.agents.system as system

    clock = iter([100.0, 100.01, 102.0, 102.5])
    used = iter([5.0, 5.5, 6.0, 6.4])
    monkeypatch.setattr(system.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(system, "_cpu_seconds", lambda _process: next(used))
    agent = SystemAgent(InMemoryBus(), home=tmp_path)  # reads (100.0 s, 5.0 cpu s)

    assert agent.sample().cpu_pct == 0.0  # 10 ms later: too short to read, nothing yet
    assert agent.sample().cpu_pct == pytest.approx(50.0)  # 1 cpu s over 2 s
    assert agent.sample().cpu_pct == pytest.approx(50.0)  # 0.5 s later: the last reading
