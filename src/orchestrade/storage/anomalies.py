"""AnomalyRepository: the anomalies the detectors reported and the circuit breakers' trips.

Both kinds share one table so that `orchestrade anomalies` shows them in one timeline. A
finding is written once: recording it again (a resumed replay detects its past again, two
agents keep the same event) changes nothing. Values are stored exactly: an anomaly's float
value as the shortest decimal that reads back as the same float, a trip's Decimal as is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Row

from orchestrade.data.errors import QueryError
from orchestrade.domain import (
    AnomalyDetected,
    BotId,
    CircuitBreakerTripped,
    Severity,
    ValidationError,
)
from orchestrade.storage.store import Store
from orchestrade.storage.tables import ACCOUNT_KEY, AnomalyRow
from orchestrade.storage.times import as_utc, utc_bound
from orchestrade.storage.upserts import dialect_insert

ANOMALIES: Table = AnomalyRow.__table__  # type: ignore[assignment]
MAX_RECENT = 10_000
ANOMALY = "anomaly"
CIRCUIT_BREAKER = "circuit_breaker"
TRIP_SUBJECT = "portfolio"
"""The subject a trip is kept under (a breaker watches the whole portfolio)."""
SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)

Finding = AnomalyDetected | CircuitBreakerTripped


@dataclass(frozen=True, slots=True)
class StoredAnomaly:
    """A kept finding, with its row id and when it was written."""

    id: int
    event: Finding
    recorded_at: datetime

    @property
    def kind(self) -> str:
        """``anomaly`` or ``circuit_breaker``."""
        return ANOMALY if isinstance(self.event, AnomalyDetected) else CIRCUIT_BREAKER

    @property
    def detected_at(self) -> datetime:
        """When the anomaly was detected or the breaker tripped."""
        event = self.event
        return event.detected_at if isinstance(event, AnomalyDetected) else event.tripped_at

    @property
    def detector(self) -> str:
        """The detector, or the breaker's name for a trip."""
        event = self.event
        return event.detector if isinstance(event, AnomalyDetected) else event.breaker

    @property
    def severity(self) -> Severity:
        """The anomaly's severity; a trip is CRITICAL."""
        event = self.event
        return event.severity if isinstance(event, AnomalyDetected) else Severity.CRITICAL

    @property
    def subject(self) -> str:
        """The bot, symbol or agent concerned; ``portfolio`` for a trip."""
        event = self.event
        return event.subject if isinstance(event, AnomalyDetected) else TRIP_SUBJECT

    @property
    def threshold(self) -> float | Decimal:
        """The threshold crossed (a trip's limit)."""
        event = self.event
        return event.threshold if isinstance(event, AnomalyDetected) else event.limit

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601, numbers as JSON numbers)."""
        event = self.event
        return {
            "id": self.id,
            "kind": self.kind,
            "detected_at": self.detected_at.isoformat(),
            "detector": self.detector,
            "severity": self.severity.value,
            "subject": self.subject,
            "bot_id": event.bot_id,
            "value": float(event.value),
            "threshold": float(self.threshold),
            "reason": event.reason,
            "recorded_at": self.recorded_at.isoformat(),
        }


class AnomalyRepository:
    """Keep findings and read them back, newest first; every call is its own transaction.

    Args:
        store: the open store.
        clock: stamps `recorded_at` (aware UTC; the wall clock by default).
    """

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def record(self, event: Finding) -> bool:
        """Keep one finding; False when it was kept already."""
        return self.record_many([event]) == 1

    def record_many(self, events: Iterable[Finding]) -> int:
        """Keep several findings in one transaction; how many were new."""
        now = self._clock()
        rows = [to_row(event, recorded_at=now) for event in events]
        if not rows:
            return 0
        with self._store.transaction() as transaction:
            connection = transaction.connection
            # One execution over all the rows: the statement (ON CONFLICT) has no cache key,
            # so SQLAlchemy compiles it at each execution; the summed rowcount counts only
            # the rows that were new (the conflicting ones insert nothing).
            statement = (
                dialect_insert(connection, ANOMALIES)
                .on_conflict_do_nothing(
                    index_elements=["kind", "detector", "subject", "bot_key", "detected_at"]
                )
                .execution_options(preserve_rowcount=True)
            )
            added: int = connection.execute(statement, rows).rowcount
        return added

    def recent(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        min_severity: Severity | None = None,
        bot_id: BotId | None = None,
        detector: str | None = None,
        kind: str | None = None,
    ) -> list[StoredAnomaly]:
        """The latest findings with since <= detected_at < until, newest first.

        Args:
            min_severity: only this severity and worse (trips count as CRITICAL).
            bot_id: only findings about this bot.
            detector: only this detector (or breaker).
            kind: only ``anomaly`` or only ``circuit_breaker``.

        Raises:
            QueryError: a bound is not an aware datetime, `limit` is not within 1..10000,
                or `kind` is unknown.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RECENT:
            raise QueryError(f"anomaly limit must be within 1..{MAX_RECENT}, got {limit!r}")
        table = ANOMALIES
        query = select(table).order_by(table.c.detected_at.desc(), table.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(table.c.detected_at >= utc_bound("since", since))
        if until is not None:
            query = query.where(table.c.detected_at < utc_bound("until", until))
        if min_severity is not None:
            level = Severity(min_severity)
            worse = SEVERITY_ORDER[SEVERITY_ORDER.index(level) :]
            query = query.where(table.c.severity.in_([item.value for item in worse]))
        if bot_id is not None:
            query = query.where(table.c.bot_key == bot_id)
        if detector is not None:
            query = query.where(table.c.detector == detector)
        if kind is not None:
            if kind not in (ANOMALY, CIRCUIT_BREAKER):
                raise QueryError(f"kind must be {ANOMALY} or {CIRCUIT_BREAKER}, got {kind!r}")
            query = query.where(table.c.kind == kind)
        with self._store.reading() as read:
            return [from_row(row) for row in read.connection.execute(query)]


def to_row(event: Finding, *, recorded_at: datetime) -> dict[str, Any]:
    """The column values of `event`.

    Raises:
        ValidationError: `event` is neither an anomaly nor a trip.
    """
    if isinstance(event, AnomalyDetected):
        return {
            "detected_at": event.detected_at,
            "kind": ANOMALY,
            "detector": event.detector,
            "severity": event.severity.value,
            "subject": event.subject,
            "bot_key": event.bot_id or ACCOUNT_KEY,
            "value": Decimal(repr(event.value)),
            "threshold": Decimal(repr(event.threshold)),
            "reason": event.reason,
            "recorded_at": recorded_at,
        }
    if isinstance(event, CircuitBreakerTripped):
        return {
            "detected_at": event.tripped_at,
            "kind": CIRCUIT_BREAKER,
            "detector": event.breaker,
            "severity": Severity.CRITICAL.value,
            "subject": TRIP_SUBJECT,
            "bot_key": event.bot_id or ACCOUNT_KEY,
            "value": event.value,
            "threshold": event.limit,
            "reason": event.reason,
            "recorded_at": recorded_at,
        }
    raise ValidationError(
        f"only AnomalyDetected and CircuitBreakerTripped are kept, got {type(event).__name__}"
    )


def from_row(row: Row[Any]) -> StoredAnomaly:
    """The finding stored in an `anomalies` row."""
    bot_id = None if row.bot_key == ACCOUNT_KEY else BotId(row.bot_key)
    event: Finding
    if row.kind == CIRCUIT_BREAKER:
        event = CircuitBreakerTripped(
            tripped_at=as_utc(row.detected_at),
            breaker=row.detector,
            value=row.value,
            limit=row.threshold,
            reason=row.reason,
            bot_id=bot_id,
        )
    else:
        event = AnomalyDetected(
            detected_at=as_utc(row.detected_at),
            detector=row.detector,
            severity=Severity(row.severity),
            subject=row.subject,
            value=float(row.value),
            threshold=float(row.threshold),
            reason=row.reason,
            bot_id=bot_id,
        )
    return StoredAnomaly(int(row.id), event, as_utc(row.recorded_at))
