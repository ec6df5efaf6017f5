"""BotRepository: the orchestrator's bots, persisted so that they survive a restart."""

from __future__ import annotations

import builtins
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.engine import Row

from orchestrade.domain import Bot, BotId, BotState, Symbol
from orchestrade.domain.bots import require_allocation, thaw
from orchestrade.domain.validation import require_enum, require_utc
from orchestrade.storage.errors import UnknownBotError
from orchestrade.storage.store import Store
from orchestrade.storage.tables import BotRow
from orchestrade.storage.times import as_utc
from orchestrade.storage.upserts import dialect_insert

BOTS: Table = BotRow.__table__  # type: ignore[assignment]


class BotRepository:
    """Bots keyed by `bot_id`; every call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, bot: Bot) -> None:
        """Insert `bot`, or overwrite the stored bot with the same id (every field)."""
        row = to_row(bot)
        with self._store.transaction() as transaction:
            statement = dialect_insert(transaction.connection, BOTS).values(row)
            statement = statement.on_conflict_do_update(
                index_elements=["bot_id"],
                set_={name: statement.excluded[name] for name in row if name != "bot_id"},
            )
            transaction.connection.execute(statement)

    def get(self, bot_id: BotId) -> Bot | None:
        """The stored bot, or None."""
        with self._store.reading() as read:
            row = read.connection.execute(select(BOTS).where(BOTS.c.bot_id == bot_id)).first()
        return None if row is None else from_row(row)

    def list(self, *, state: BotState | None = None) -> builtins.list[Bot]:
        """Every stored bot (only those in `state` when given), oldest first."""
        query = select(BOTS).order_by(BOTS.c.created_at, BOTS.c.bot_id)
        if state is not None:
            query = query.where(BOTS.c.state == require_enum("state", BotState, state).value)
        with self._store.reading() as read:
            return [from_row(row) for row in read.connection.execute(query)]

    def delete(self, bot_id: BotId) -> bool:
        """Forget a bot; True when it was stored. Its orders, signals and audit lines stay."""
        with self._store.transaction() as transaction:
            result = transaction.connection.execute(delete(BOTS).where(BOTS.c.bot_id == bot_id))
            return result.rowcount > 0

    def set_state(self, bot_id: BotId, state: BotState, *, at: datetime) -> Bot:
        """Move a stored bot to `state` at `at`; returns the bot as stored now.

        Raises:
            UnknownBotError: no bot has this id.
            ValidationError: `state` is not a BotState or `at` is before the bot's creation.
        """
        state = require_enum("state", BotState, state)
        return self._update(bot_id, {"state": state.value}, at)

    def set_allocation(self, bot_id: BotId, allocation: Decimal, *, at: datetime) -> Bot:
        """Give a stored bot a new share of capital in [0, 1]; returns the bot as stored now.

        Raises:
            UnknownBotError: no bot has this id.
            ValidationError: the allocation is not a Decimal in [0, 1], or `at` is before
                the bot's creation.
        """
        allocation = require_allocation("allocation", allocation)
        return self._update(bot_id, {"allocation": allocation}, at)

    def _update(self, bot_id: BotId, values: dict[str, Any], at: datetime) -> Bot:
        values["updated_at"] = require_utc("at", at)
        statement = update(BOTS).where(BOTS.c.bot_id == bot_id).values(values).returning(*BOTS.c)
        with self._store.transaction() as transaction:
            row = transaction.connection.execute(statement).first()
            if row is None:
                raise UnknownBotError(f"no bot {bot_id!r} is stored")
            # Built inside the transaction: a value the domain refuses rolls the update back.
            return from_row(row)


def to_row(bot: Bot) -> dict[str, Any]:
    """The column values of `bot`."""
    return {
        "bot_id": bot.bot_id,
        "name": bot.name,
        "strategy": thaw(bot.strategy),
        "params": thaw(bot.params),
        "symbols": list(bot.symbols),
        "allocation": bot.allocation,
        "state": bot.state.value,
        "created_at": bot.created_at,
        "updated_at": bot.updated_at,
    }


def from_row(row: Row[Any]) -> Bot:
    """The `Bot` stored in a `bots` row."""
    return Bot(
        bot_id=BotId(row.bot_id),
        name=row.name,
        strategy=row.strategy,
        params=row.params,
        symbols=tuple(Symbol(symbol) for symbol in row.symbols),
        allocation=row.allocation,
        state=BotState(row.state),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )
