"""Audit log pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from orchestrade.domain.bots import thaw
from orchestrade.storage import AuditRecord


class AuditEventOut(BaseModel):
    """One audit line: what happened, when, to which bot and symbol, and why."""

    sequence: int = Field(description="Increases in the order lines were appended.")
    at: datetime
    kind: str
    bot_id: str | None
    symbol: str | None
    side: str | None
    quantity: Decimal | None
    price: Decimal | None
    reason: str
    payload: dict[str, Any] = Field(description="The full fact as JSON.")

    @classmethod
    def of(cls, record: AuditRecord) -> AuditEventOut:
        entry = record.entry
        return cls(
            sequence=record.sequence,
            at=entry.at,
            kind=entry.kind,
            bot_id=entry.bot_id,
            symbol=entry.symbol,
            side=entry.side,
            quantity=entry.quantity,
            price=entry.price,
            reason=entry.reason,
            payload=thaw(entry.payload),
        )


class AuditPageOut(BaseModel):
    """One page of audit lines; pass `next_cursor` as `cursor` for the next (null: the end)."""

    items: list[AuditEventOut]
    next_cursor: int | None
