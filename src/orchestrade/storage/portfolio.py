"""PortfolioRepository: the last saved positions of each bot and its equity over time.

Positions are snapshots, upserted per (bot, symbol) by the portfolio agent after it applies
fills; they are what reconciliation compares with the broker on start. Rows of the whole
account (no bot) are stored under `ACCOUNT_KEY`, since key columns cannot be NULL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Table, cast, select, update
from sqlalchemy.engine import Dialect, Row

from orchestrade.data.errors import StoreError
from orchestrade.domain import BotId, Position, Symbol, ValidationError
from orchestrade.domain.validation import optional_text, require_utc
from orchestrade.portfolio.snapshots import PortfolioSnapshot
from orchestrade.storage.prepared import Prepared, insert_statement
from orchestrade.storage.store import Store
from orchestrade.storage.tables import (
    ACCOUNT_KEY,
    PortfolioSnapshotRow,
    PositionRow,
    PositionsVersionRow,
)
from orchestrade.storage.times import as_utc, utc_bound
from orchestrade.storage.upserts import dialect_insert

POSITIONS: Table = PositionRow.__table__  # type: ignore[assignment]
_ALL_POSITIONS = select(
    POSITIONS.c.bot_key,
    POSITIONS.c.symbol,
    POSITIONS.c.quantity,
    POSITIONS.c.cost_basis,
    POSITIONS.c.realized_pnl,
).order_by(POSITIONS.c.bot_key, POSITIONS.c.symbol)
"""`positions_by_bot`'s query, built once: the API reads it hundreds of times a second, and
building the statement cost more than running it."""
_OPEN_POSITIONS = _ALL_POSITIONS.where(cast(POSITIONS.c.quantity, Float) != 0)
PORTFOLIO_SNAPSHOTS: Table = PortfolioSnapshotRow.__table__  # type: ignore[assignment]
POSITIONS_VERSION: Table = PositionsVersionRow.__table__  # type: ignore[assignment]
_VERSION = select(POSITIONS_VERSION.c.version).where(POSITIONS_VERSION.c.id == 1)
_BUMP_VERSION = (
    update(POSITIONS_VERSION)
    .where(POSITIONS_VERSION.c.id == 1)
    .values(version=POSITIONS_VERSION.c.version + 1)
)
_PLAIN_SQL: dict[str, dict[str, str]] = {}
"""The reads of `_fetch` as plain SQL, per dialect name."""


def _plain_sql(dialect: Dialect) -> dict[str, str]:
    """The version and position queries as plain SQL for `dialect` (rendered once)."""
    queries = _PLAIN_SQL.get(dialect.name)
    if queries is None:
        queries = _PLAIN_SQL[dialect.name] = {
            name: str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            for name, query in (
                ("all", _ALL_POSITIONS),
                ("open", _OPEN_POSITIONS),
                ("version", _VERSION),
            )
        }
    return queries


_POSITION_COLUMNS = ("bot_key", "symbol", "quantity", "cost_basis", "realized_pnl", "updated_at")
_SNAPSHOT_COLUMNS = ("bot_key", "time", "cash", "market_value", "equity")


@dataclass(frozen=True, slots=True)
class _Writes:
    """The repository's writes as `prepared` statements for one dialect."""

    upsert_position: Prepared
    upsert_snapshot: Prepared
    bump_version: str

    @classmethod
    def on(cls, dialect: Dialect) -> _Writes:
        return cls(
            upsert_position=insert_statement(
                dialect,
                POSITIONS,
                _POSITION_COLUMNS,
                conflict=("bot_key", "symbol"),
                update=_POSITION_COLUMNS[2:],
            ),
            upsert_snapshot=insert_statement(
                dialect,
                PORTFOLIO_SNAPSHOTS,
                _SNAPSHOT_COLUMNS,
                conflict=("bot_key", "time"),
                update=_SNAPSHOT_COLUMNS[2:],
            ),
            bump_version=str(
                _BUMP_VERSION.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            ),
        )


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


class PortfolioRepository:
    """Positions and portfolio snapshots; every call is its own transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._sql = _Writes.on(store.engine.dialect)

    def save_positions(
        self, positions: Iterable[Position], *, at: datetime, bot_id: BotId | None = None
    ) -> None:
        """Upsert the given positions of one bot (or the account); others stay as they are.

        Flat positions are kept: they carry the realized P&L.
        """
        at = require_utc("at", at)
        key = _bot_key(bot_id)
        rows = [
            {
                "bot_key": key,
                "symbol": position.symbol,
                "quantity": position.quantity,
                "cost_basis": position.cost_basis,
                "realized_pnl": position.realized_pnl,
                "updated_at": at,
            }
            for position in positions
        ]
        if not rows:
            return
        symbols = [str(row["symbol"]) for row in rows]
        if len(set(symbols)) != len(symbols):
            raise ValidationError(f"positions to save list a symbol twice: {sorted(symbols)}")
        statement = self._sql.upsert_position
        values = [statement.parameters([row[name] for name in _POSITION_COLUMNS]) for row in rows]
        with self._store.driver_transaction() as cursor:
            cursor.executemany(statement.sql, values)
            cursor.execute(self._sql.bump_version)

    def positions(self, bot_id: BotId | None = None) -> dict[Symbol, Position]:
        """The saved positions of one bot (or the account), by symbol."""
        query = (
            select(POSITIONS)
            .where(POSITIONS.c.bot_key == _bot_key(bot_id))
            .order_by(POSITIONS.c.symbol)
        )
        with self._store.reading() as read:
            return {
                Symbol(row.symbol): Position(
                    Symbol(row.symbol), row.quantity, row.cost_basis, row.realized_pnl
                )
                for row in read.connection.execute(query)
            }

    def positions_version(self) -> int:
        """A number that changes with every `save_positions` (of any process): positions
        read when it had a value are current while it keeps it.

        Raises:
            StoreError: the database failed, or it has no version row (not migrated).
        """
        rows = self._fetch(_plain_sql(self._store.engine.dialect)["version"])
        version = rows[0][0] if rows else None
        if version is None:
            raise StoreError("the positions_version row is missing: migrate the database")
        return int(version)

    def positions_by_bot(
        self, *, include_flat: bool = True
    ) -> dict[BotId | None, dict[Symbol, Position]]:
        """Every saved position, grouped by bot (None: the account); the flat ones only
        with `include_flat`.

        The API's positions list reads this hundreds of times a second, and after a long
        run most rows are flat (every symbol a bot ever traded keeps its row), so they are
        left out by the query rather than built and dropped. Quantities are exact decimals
        (text on SQLite, where "0.0" and "0E-8" are as flat as "0"): the query tests their
        value as a float, which is zero only for zero (short of quantities below 1e-323).
        """
        sql = _plain_sql(self._store.engine.dialect)["all" if include_flat else "open"]
        grouped: dict[BotId | None, dict[Symbol, Position]] = {}
        rows = self._fetch(sql)
        trusted = Position.trusted
        for key, name, quantity, cost_basis, realized_pnl in rows:
            owner = None if key == ACCOUNT_KEY else BotId(key)
            grouped.setdefault(owner, {})[Symbol(name)] = trusted(
                Symbol(name), _decimal(quantity), _decimal(cost_basis), _decimal(realized_pnl)
            )
        return grouped

    def _fetch(self, sql: str) -> list[Any]:
        """The rows of `sql` from the DBAPI cursor of a pooled connection: SQLAlchemy's
        result machinery costs several times these small queries (the API runs them
        hundreds of times a second). Decimals come back as text on SQLite, as Decimal on
        PostgreSQL."""
        with self._store.reading() as read:
            cursor = read.connection.connection.cursor()
            try:
                cursor.execute(sql)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    def record_snapshot(self, snapshot: PortfolioSnapshot) -> None:
        """Store a snapshot; one taken again for the same bot and time replaces it (so a
        replay after a restart does not duplicate the equity curve)."""
        row = {
            "bot_key": _bot_key(snapshot.bot_id),
            "time": snapshot.time,
            "cash": snapshot.cash,
            "market_value": snapshot.market_value,
            "equity": snapshot.equity,
        }
        with self._store.transaction() as transaction:
            statement = dialect_insert(transaction.connection, PORTFOLIO_SNAPSHOTS).values(row)
            statement = statement.on_conflict_do_update(
                index_elements=["bot_key", "time"],
                set_={
                    name: statement.excluded[name] for name in ("cash", "market_value", "equity")
                },
            )
            transaction.connection.execute(statement)

    def record_snapshots(self, snapshots: Sequence[PortfolioSnapshot]) -> None:
        """`record_snapshot` for each of `snapshots`, in one transaction.

        The portfolio agent writes its snapshots and positions several times a second in
        the event loop that also serves the API: both go through `prepared` statements on
        the store's own connection (SQLAlchemy's execution cost several times the writes).
        """
        if not snapshots:
            return
        statement = self._sql.upsert_snapshot
        values = [
            statement.parameters(
                (
                    _bot_key(snapshot.bot_id),
                    snapshot.time,
                    snapshot.cash,
                    snapshot.market_value,
                    snapshot.equity,
                )
            )
            for snapshot in snapshots
        ]
        with self._store.driver_transaction() as cursor:
            cursor.executemany(statement.sql, values)

    def snapshots(
        self,
        *,
        bot_id: BotId | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[PortfolioSnapshot]:
        """Snapshots of one bot (or the account) with start <= time < end, oldest first.

        Raises:
            QueryError: a bound is not an aware datetime.
        """
        table = PORTFOLIO_SNAPSHOTS
        query = select(table).where(table.c.bot_key == _bot_key(bot_id)).order_by(table.c.time)
        if start is not None:
            query = query.where(table.c.time >= utc_bound("start", start))
        if end is not None:
            query = query.where(table.c.time < utc_bound("end", end))
        with self._store.reading() as read:
            return [_snapshot(row) for row in read.connection.execute(query)]

    def total_snapshots(
        self, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[PortfolioSnapshot]:
        """The whole portfolio over time: at each time any bot has a snapshot, the sum of
        every bot's latest snapshot at or before it (a bot counts from its first one on), with
        start <= time < end, oldest first. Bots may run in separate nodes (each its own
        broker account), so the whole is the sum of the bots, not one account's record.

        Raises:
            QueryError: a bound is not an aware datetime.
        """
        table = PORTFOLIO_SNAPSHOTS
        query = (
            select(table)
            .where(table.c.bot_key != ACCOUNT_KEY)
            .order_by(table.c.time, table.c.bot_key)
        )
        if end is not None:
            query = query.where(table.c.time < utc_bound("end", end))
        begin = utc_bound("start", start) if start is not None else None
        latest: dict[str, PortfolioSnapshot] = {}
        totals: list[PortfolioSnapshot] = []
        with self._store.reading() as read:
            rows = list(read.connection.execute(query))
        for index, row in enumerate(rows):
            snapshot = _snapshot(row)
            latest[row.bot_key] = snapshot
            last_of_time = index + 1 == len(rows) or rows[index + 1].time != row.time
            if last_of_time and (begin is None or snapshot.time >= begin):
                totals.append(
                    PortfolioSnapshot(
                        snapshot.time,
                        sum((s.cash for s in latest.values()), Decimal(0)),
                        sum((s.market_value for s in latest.values()), Decimal(0)),
                        sum((s.equity for s in latest.values()), Decimal(0)),
                    )
                )
        return totals

    def latest_snapshot(self, bot_id: BotId | None = None) -> PortfolioSnapshot | None:
        """The most recent snapshot of one bot (or the account), or None."""
        table = PORTFOLIO_SNAPSHOTS
        query = (
            select(table)
            .where(table.c.bot_key == _bot_key(bot_id))
            .order_by(table.c.time.desc())
            .limit(1)
        )
        with self._store.reading() as read:
            row = read.connection.execute(query).first()
        return None if row is None else _snapshot(row)


def _snapshot(row: Row[Any]) -> PortfolioSnapshot:
    return PortfolioSnapshot(
        time=as_utc(row.time),
        cash=row.cash,
        market_value=row.market_value,
        equity=row.equity,
        bot_id=None if row.bot_key == ACCOUNT_KEY else BotId(row.bot_key),
    )


def _bot_key(bot_id: BotId | None) -> str:
    if bot_id is None:
        return ACCOUNT_KEY
    return optional_text("bot_id", bot_id) or ACCOUNT_KEY
