"""Anomalies the detectors reported and circuit-breaker trips, in one timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from orchestrade.domain import Severity
from orchestrade.storage.anomalies import StoredAnomaly


class AnomalyOut(BaseModel):
    """One finding: a detector's anomaly or a circuit breaker's trip (always critical)."""

    id: int
    kind: Literal["anomaly", "circuit_breaker"]
    detected_at: datetime
    detector: str = Field(description="The detector, or the breaker's name for a trip.")
    severity: Severity
    subject: str = Field(description="The bot, symbol or agent; `portfolio` for a trip.")
    bot_id: str | None
    value: float
    threshold: float = Field(description="The threshold crossed (a trip's limit).")
    reason: str
    recorded_at: datetime

    @classmethod
    def of(cls, stored: StoredAnomaly) -> AnomalyOut:
        return cls(
            id=stored.id,
            kind="anomaly" if stored.kind == "anomaly" else "circuit_breaker",
            detected_at=stored.detected_at,
            detector=stored.detector,
            severity=stored.severity,
            subject=stored.subject,
            bot_id=stored.event.bot_id,
            value=float(stored.event.value),
            threshold=float(stored.threshold),
            reason=stored.event.reason,
            recorded_at=stored.recorded_at,
        )
