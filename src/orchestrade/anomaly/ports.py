"""What the anomaly agent needs from outside: somewhere to keep its findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from orchestrade.domain import AnomalyDetected, CircuitBreakerTripped


class AnomalyLog(Protocol):
    """Keeps anomalies and breaker trips (storage's `AnomalyRepository` in a node).

    Recording the same finding twice (a resumed run detects its past again) keeps one.
    """

    def record(self, event: AnomalyDetected | CircuitBreakerTripped) -> bool:
        """Keep `event`; False when it was kept already."""
        ...

    def record_many(self, events: Iterable[AnomalyDetected | CircuitBreakerTripped]) -> int:
        """Keep several in one transaction; how many were new."""
        ...


class BrokerCallCounts(Protocol):
    """Running totals of broker calls (`ResilienceStats` of a `ResilientBroker`)."""

    @property
    def tries(self) -> int:
        """Calls actually made to the broker, retries included."""
        ...

    @property
    def failures(self) -> int:
        """Tries that failed, with any error."""
        ...

    @property
    def short_circuited(self) -> int:
        """Calls refused at once by an open circuit breaker (the broker is down)."""
        ...
