"""SignalRepository: every signal the strategies produced and what the rules decided on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Row

from orchestrade.data.errors import QueryError
from orchestrade.domain import BotId, Signal, SignalSide, StrategyId, Symbol, ValidationError
from orchestrade.domain.validation import require_str
from orchestrade.storage.prepared import insert_statement
from orchestrade.storage.store import Store
from orchestrade.storage.tables import SignalRow
from orchestrade.storage.times import as_utc

SIGNALS: Table = SignalRow.__table__  # type: ignore[assignment]
_SIGNAL_COLUMNS = (
    *("time", "bot_id", "strategy_id", "symbol", "side", "confidence", "reasons"),
    *("reference_price", "approved", "decision_reason"),
)
"""The columns `to_row` fills, in the order of `record_many`'s statement."""
MAX_RECENT = 10_000


@dataclass(frozen=True, slots=True)
class SignalDecision:
    """A signal and the rules' verdict: approved, or rejected with the reason why."""

    signal: Signal
    approved: bool
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.signal, Signal):
            raise ValidationError(f"SignalDecision.signal must be a Signal, got {self.signal!r}")
        if not isinstance(self.approved, bool):
            raise ValidationError(f"SignalDecision.approved must be a bool, got {self.approved!r}")
        require_str("SignalDecision.reason", self.reason)


class SignalRepository:
    """Append decisions and read the recent ones; every call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._insert = insert_statement(store.engine.dialect, SIGNALS, _SIGNAL_COLUMNS)

    def record(self, decision: SignalDecision) -> None:
        """Append one decision."""
        with self._store.transaction() as transaction:
            transaction.connection.execute(insert(SIGNALS).values(to_row(decision)))

    def record_many(self, decisions: Sequence[SignalDecision]) -> None:
        """Append several decisions in one transaction, in order (nothing for none).

        The orchestrator writes its decisions this way several times a second in the event
        loop that also serves the API, so the rows go through a `prepared` statement on the
        store's own connection (SQLAlchemy's execution cost several times the insert)."""
        if not decisions:
            return
        statement = self._insert
        rows = [
            statement.parameters([row[name] for name in _SIGNAL_COLUMNS])
            for row in map(to_row, decisions)
        ]
        with self._store.driver_transaction() as cursor:
            cursor.executemany(statement.sql, rows)

    def recent(
        self,
        *,
        limit: int = 100,
        bot_id: BotId | None = None,
        symbol: Symbol | None = None,
        approved: bool | None = None,
    ) -> list[SignalDecision]:
        """The latest decisions (of one bot, symbol or verdict when given), newest first.

        Raises:
            QueryError: `limit` is not within 1..10000.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RECENT:
            raise QueryError(f"signal limit must be within 1..{MAX_RECENT}, got {limit!r}")
        query = select(SIGNALS).order_by(SIGNALS.c.time.desc(), SIGNALS.c.id.desc()).limit(limit)
        if bot_id is not None:
            query = query.where(SIGNALS.c.bot_id == bot_id)
        if symbol is not None:
            query = query.where(SIGNALS.c.symbol == symbol)
        if approved is not None:
            query = query.where(SIGNALS.c.approved == approved)
        with self._store.reading() as read:
            return [from_row(row) for row in read.connection.execute(query)]


def to_row(decision: SignalDecision) -> dict[str, Any]:
    """The column values of `decision`."""
    signal = decision.signal
    return {
        "time": signal.time,
        "bot_id": signal.bot_id,
        "strategy_id": signal.strategy_id,
        "symbol": signal.symbol,
        "side": signal.side.value,
        "confidence": signal.confidence,
        "reasons": list(signal.reasons),
        "reference_price": signal.reference_price,
        "approved": decision.approved,
        "decision_reason": decision.reason,
    }


def from_row(row: Row[Any]) -> SignalDecision:
    """The decision stored in a `signals` row."""
    signal = Signal(
        time=as_utc(row.time),
        symbol=Symbol(row.symbol),
        side=SignalSide(row.side),
        confidence=row.confidence,
        strategy_id=StrategyId(row.strategy_id),
        bot_id=None if row.bot_id is None else BotId(row.bot_id),
        reasons=tuple(row.reasons),
        reference_price=row.reference_price,
    )
    return SignalDecision(signal, bool(row.approved), row.decision_reason)
