"""Portfolio snapshots: a bot's (or the whole account's) cash, market value and equity at an
instant, and the port through which the portfolio agent keeps them and its positions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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

    @classmethod
    def of(cls, time: datetime, cash: Decimal, equity: Decimal, bot_id: BotId) -> PortfolioSnapshot:
        """The snapshot of `bot_id` with `cash` and `equity` (market value: their difference).

        Equal to the constructor's, which it calls unless the values are plainly valid (a
        UTC time, Decimals, a bot id, equity == cash + market value): the portfolio takes a
        snapshot per bot at every close, and the checks would be most of its cost.
        """
        if (
            type(time) is datetime
            and time.tzinfo is UTC
            and type(cash) is Decimal
            and type(equity) is Decimal
            and cash.is_finite()
            and equity.is_finite()
            and type(bot_id) is str
            and bot_id.strip()
        ):
            market_value = equity - cash
            if cash + market_value == equity:
                snapshot = object.__new__(cls)
                set_time, set_cash, set_market_value, set_equity, set_bot_id = _SNAPSHOT_SLOTS
                set_time(snapshot, time)
                set_cash(snapshot, cash)
                set_market_value(snapshot, market_value)
                set_equity(snapshot, equity)
                set_bot_id(snapshot, bot_id)
                return snapshot
        return cls(time, cash, equity - cash, equity, bot_id)


_SNAPSHOT_SLOTS = tuple(
    getattr(PortfolioSnapshot, name).__set__
    for name in ("time", "cash", "market_value", "equity", "bot_id")
)
"""The slot setters of `PortfolioSnapshot`, for `PortfolioSnapshot.of` (frozen: the
constructor's setattr refuses)."""


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
