"""SystemAgent: the machine's health (CPU, memory, disk, database) and configuration reload.

Every `interval_s` it samples the process's CPU and memory, the free disk space of the
node's home folder and a round trip to the database (`probe`), keeps the latest `SystemHealth`
for anyone who asks (the API's readiness, the status view), and reports a resource that
crosses its threshold as an `AnomalyDetected` (detector ``system_<resource>``: MEDIUM at
the threshold, HIGH when the database does not answer), once per crossing.

It also watches the risk settings file, when one is given: a changed file is read and
checked (`load_risk_settings`), then published as `RiskLimitsChanged`, so that the risk
agent changes its limits at run time; an invalid file is logged with the reason and the
limits stay as they were.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from orchestrade.agents.base import Agent, AgentError
from orchestrade.bus import Bus
from orchestrade.domain import AnomalyDetected, RiskLimitsChanged, Severity
from orchestrade.settings import SettingsError, load_risk_settings

log = logging.getLogger(__name__)

MIN_CPU_WINDOW_S = 1.0
"""Shortest span a CPU reading is taken over."""

DatabaseProbe = Callable[[], None]
"""Runs one trivial query; raises when the database does not answer."""


@dataclass(frozen=True, slots=True)
class SystemThresholds:
    """When a resource is unhealthy: CPU busy above `cpu_pct` percent, resident memory
    above `memory_mb`, free disk below `disk_free_mb`, a database round trip slower than
    `database_ms` milliseconds (or failing)."""

    cpu_pct: float = 90.0
    memory_mb: float = 4096.0
    disk_free_mb: float = 1024.0
    database_ms: float = 500.0


@dataclass(frozen=True, slots=True)
class SystemHealth:
    """One sample of the machine's health."""

    cpu_pct: float
    memory_mb: float
    disk_free_mb: float
    database_ms: float | None  # None when there is no database or it did not answer
    database_ok: bool
    problems: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        """True when no resource crossed its threshold."""
        return not self.problems


class SystemAgent(Agent):
    """Samples the machine and reloads the risk settings file when it changes.

    Args:
        home: the folder whose disk is watched (the node's home).
        probe: a database round trip (None: no database check).
        risk_file: the risk settings file to watch (None: no reload).
        thresholds: when a resource is unhealthy.
        interval_s: seconds between two samples.
    """

    def __init__(
        self,
        bus: Bus,
        *,
        home: Path,
        probe: DatabaseProbe | None = None,
        risk_file: Path | None = None,
        thresholds: SystemThresholds | None = None,
        interval_s: float = 5.0,
        agent_id: str = "system",
        heartbeat_interval_s: float = 1.0,
    ) -> None:
        super().__init__(agent_id, bus, heartbeat_interval_s=heartbeat_interval_s)
        if not interval_s > 0:
            raise AgentError(f"interval_s must be > 0, got {interval_s!r}")
        self.home = home
        self.probe = probe
        self.risk_file = risk_file
        self.thresholds = thresholds or SystemThresholds()
        self.interval_s = interval_s
        self.health: SystemHealth | None = None
        self._process = psutil.Process()
        self._cpu_mark = (time.monotonic(), _cpu_seconds(self._process))
        self._cpu_pct = 0.0
        self._reported: set[str] = set()
        self._risk_mtime = self._mtime()

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval_s)

    async def check(self) -> SystemHealth:
        """Take one sample, report new problems, reload a changed risk file."""
        health = self.sample()
        self.health = health
        for problem in health.problems:
            resource = problem.split(" ", 1)[0]
            if resource not in self._reported:
                self._reported.add(resource)
                await self._report(resource, problem, health)
        cleared = {p.split(" ", 1)[0] for p in health.problems}
        self._reported &= cleared
        await self.reload_if_changed()
        return health

    def sample(self) -> SystemHealth:
        """The machine now (no events)."""
        limits = self.thresholds
        cpu = self._cpu_busy()
        memory = self._process.memory_info().rss / 2**20
        disk = shutil.disk_usage(self.home if self.home.exists() else Path.cwd()).free / 2**20
        database_ms: float | None = None
        database_ok = True
        if self.probe is not None:
            started = time.perf_counter()
            try:
                self.probe()
            except Exception as error:  # noqa: BLE001 - any failure of the probe is the finding
                database_ok = False
                log.warning("database probe failed: %s", error)
            else:
                database_ms = (time.perf_counter() - started) * 1000
        problems = []
        if cpu > limits.cpu_pct:
            problems.append(f"cpu {cpu:.0f}% busy, threshold {limits.cpu_pct:.0f}%")
        if memory > limits.memory_mb:
            problems.append(f"memory {memory:,.0f} MB resident, threshold {limits.memory_mb:,.0f}")
        if disk < limits.disk_free_mb:
            problems.append(f"disk {disk:,.0f} MB free, threshold {limits.disk_free_mb:,.0f}")
        if not database_ok:
            problems.append("database did not answer")
        elif database_ms is not None and database_ms > limits.database_ms:
            problems.append(
                f"database round trip {database_ms:,.0f} ms, threshold {limits.database_ms:,.0f}"
            )
        return SystemHealth(cpu, memory, disk, database_ms, database_ok, tuple(problems))

    async def reload_if_changed(self) -> bool:
        """Publish the risk file's limits when the file changed; True when it did."""
        if self.risk_file is None:
            return False
        mtime = self._mtime()
        if mtime == self._risk_mtime:
            return False
        self._risk_mtime = mtime
        try:
            settings = load_risk_settings(self.risk_file)
        except SettingsError as error:
            log.error("risk settings not reloaded, the old limits stay: %s", error)
            return False
        await self.publish(
            RiskLimitsChanged(self._clock(), str(self.risk_file), settings.model_dump_json())
        )
        log.info("risk settings reloaded from %s", self.risk_file)
        return True

    async def _report(self, resource: str, problem: str, health: SystemHealth) -> None:
        limits = self.thresholds
        value, threshold = {
            "cpu": (health.cpu_pct, limits.cpu_pct),
            "memory": (health.memory_mb, limits.memory_mb),
            "disk": (health.disk_free_mb, limits.disk_free_mb),
            "database": (health.database_ms or 0.0, limits.database_ms),
        }[resource]
        severity = Severity.HIGH if problem == "database did not answer" else Severity.MEDIUM
        await self.publish(
            AnomalyDetected(
                detected_at=self._clock(),
                detector=f"system_{resource}",
                severity=severity,
                subject=str(self.agent_id),
                value=float(value),
                threshold=float(threshold),
                reason=problem,
            )
        )

    def _cpu_busy(self) -> float:
        """CPU time used per wall-clock second since the last reading, in percent.

        Measured over at least `MIN_CPU_WINDOW_S`: over a shorter window a few milliseconds
        of work read as thousands of percent, so the previous reading stands until then.
        """
        now, used = time.monotonic(), _cpu_seconds(self._process)
        then, before = self._cpu_mark
        if now - then >= MIN_CPU_WINDOW_S:
            self._cpu_pct = 100.0 * (used - before) / (now - then)
            self._cpu_mark = (now, used)
        return self._cpu_pct

    def _mtime(self) -> float | None:
        if self.risk_file is None:
            return None
        try:
            return self.risk_file.stat().st_mtime
        except OSError:
            return None


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)
