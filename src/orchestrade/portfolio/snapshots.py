"""Portfolio snapshots: a bot's (or the whole account's) cash, market value and equity at an
instant, and the port through which the portfolio agent keeps them and its positions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from orchestrade.domain import BotId, Position, ValidationError
from orchestrade.domain.validation import assign, optional_text, require_decimal, require_utc


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """Cash, market value and equity of one bot (None: the whole account) at `time`.

    Invariant, checked on construction: equity == cash + market_value, exactly.
    """

    time: datetime
    cash: Decimal
    market_value: Decimal
    equity: Decimal
    bot_id: BotId | None = None

    def __post_init__(self) -> None:
        assign(self, "time", require_utc("PortfolioSnapshot.time", self.time))
        cash = require_decimal("PortfolioSnapshot.cash", self.cash)
        market_value = require_decimal("PortfolioSnapshot.market_value", self.market_value)
        equity = require_decimal("PortfolioSnapshot.equity", self.equity)
        if equity != cash + market_value:
            raise ValidationError(
                f"PortfolioSnapshot: equity {equity} != cash {cash} + market value "
                f"{market_value} (= {cash + market_value})"
            )
        assign(self, "cash", cash)
        assign(self, "market_value", market_value)
        assign(self, "equity", equity)
        optional_text("PortfolioSnapshot.bot_id", self.bot_id)


class SnapshotJournal(Protocol):
    """Where snapshots and positions are kept (`storage.PortfolioRepository`)."""

    def record_snapshots(self, snapshots: Sequence[PortfolioSnapshot]) -> None:
        """Keep `snapshots` (one per bot and time: a later one for the same replaces it)."""
        ...

    def save_positions(
        self, positions: Iterable[Position], *, at: datetime, bot_id: BotId | None = None
    ) -> None:
        """Upsert one bot's positions (flat ones included: they carry the realized P&L)."""
        ...
