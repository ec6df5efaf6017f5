"""Open the database (SQLite or PostgreSQL), migrate it, and hand out transactions.

`open_store(url)` is the one way in: it creates the folder of a SQLite file, sets SQLite up
for concurrent readers (WAL, synchronous=NORMAL, foreign keys), runs the Alembic migrations
to head in code, and returns a `Store`.

Hot write paths (the OMS journal) skip SQLAlchemy's execution machinery: they run
`prepared` statements in `Store.driver_transaction`, on one DBAPI connection the store keeps
open for them (a pool checkout per call would cost more than the write itself).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from orchestrade.data.errors import StoreError
from orchestrade.data.files import InstrumentInfo
from orchestrade.data.panel import BarPanel
from orchestrade.data.ports import TimeBound, UpsertCounts
from orchestrade.data.summaries import BarSummary
from orchestrade.domain import Market
from orchestrade.storage.bars import BarRepository
from orchestrade.storage.books import BookRepository
from orchestrade.storage.imports import ImportLogRepository
from orchestrade.storage.instruments import InstrumentRepository

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WAL_CHECKPOINT_PAGES = 10_000
"""WAL size (pages of 4 KiB) at which a commit checkpoints, on every connection. A
checkpoint syncs the WAL and the database file (with synchronous=NORMAL the only syncs
there are); SQLite's default of 1,000 pages means one every ~30 orders of a replay, and a
connection left at that default checkpoints at each of its commits once the hot
connection's WAL is past it (the anomaly writes did: 7 ms each). A trading node checkpoints
its files on a thread of its own well before this (`storage.checkpoints`): this is the
safety net."""


@dataclass(frozen=True, slots=True)
class StoreTransaction:
    """The repositories bound to one open transaction (implements MarketDataTransaction)."""

    connection: Connection
    bars: BarRepository
    books: BookRepository
    imports: ImportLogRepository
    instruments: InstrumentRepository

    @classmethod
    def on(cls, connection: Connection) -> StoreTransaction:
        return cls(
            connection,
            BarRepository(connection),
            BookRepository(connection),
            ImportLogRepository(connection),
            InstrumentRepository(connection),
        )


@dataclass(frozen=True, slots=True, eq=False)
class LoadedBars:
    """Bars as a long frame (`BAR_COLUMNS`) and as the aligned panel of the same data."""

    frame: pd.DataFrame
    panel: BarPanel


class _DriverBlock:
    """One block on the store's own DBAPI connection (`Store.driver_transaction`,
    `Store.driver_reading`): holds the store's lock, yields a cursor, commits (a
    transaction) when the block ends normally, rolls back and wraps the driver's error when
    it raises, and closes the cursor in any case.

    A class rather than a generator context manager: the OMS journal opens several of these
    per order, and this costs a third of what `contextlib.contextmanager` does.
    """

    __slots__ = ("_connection", "_cursor", "_store", "_transaction")

    def __init__(self, store: Store, transaction: bool) -> None:
        self._store = store
        self._transaction = transaction
        self._connection: PoolProxiedConnection | None = None
        self._cursor: Any = None

    def __enter__(self) -> Any:
        store = self._store
        store._driver_lock.acquire()
        try:
            self._connection = connection = store._driver_connection()
            self._cursor = cursor = connection.cursor()
            if self._transaction:
                cursor.execute("BEGIN")
        except BaseException as error:
            self._failed(error)
            raise self._wrapped(error) from error
        return cursor

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is None:
            try:
                if self._transaction:
                    self._cursor.execute("COMMIT")
            except BaseException as failure:
                self._failed(failure)
                raise self._wrapped(failure) from failure
            self._release()
            return
        self._failed(error)
        wrapped = self._wrapped(error)
        if wrapped is not error:
            raise wrapped from error

    def _failed(self, error: BaseException) -> None:
        """Roll back (or drop the connection), then release."""
        try:
            if self._connection is not None:
                self._store._abandon(self._connection)
        finally:
            self._release()

    def _release(self) -> None:
        store = self._store
        try:
            # Closed at once: an unfinished SQLite statement would keep a read open.
            if self._cursor is not None:
                with suppress(*store._errors):
                    self._cursor.close()
        finally:
            store._driver_lock.release()

    def _wrapped(self, error: BaseException) -> BaseException:
        store = self._store
        if isinstance(error, store._errors) and not isinstance(error, StoreError):
            return StoreError(f"database error ({store.url}): {error}")
        return error


class Store:
    """A migrated database: transactions for writes, short reads for everything else.

    Implements `orchestrade.data.ports.MarketDataStore`; `store.bars` is a `BarStore`.
    Use it as a context manager (or
    call `close()`) to release the connections.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._errors = _database_errors(engine)
        self._driver: PoolProxiedConnection | None = None
        self._driver_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def sqlite_file(self) -> Path | None:
        """The database file when the store is a SQLite file (None in memory or on another
        database): what a `WalCheckpointer` checkpoints."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    def ping(self) -> None:
        """One trivial query (the system agent's database health check).

        Raises:
            StoreError: the database did not answer.
        """
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except self._errors as error:
            raise StoreError(
                f"database {_hidden(self.engine.url)} did not answer: {error}"
            ) from error

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """Commit when the block ends normally, roll back otherwise.

        Raises:
            StoreError: the database failed (the driver's error is chained).
        """
        try:
            with self.engine.begin() as connection:
                yield StoreTransaction.on(connection)
        except self._errors as error:
            raise StoreError(f"database error ({self.url}): {error}") from error

    @contextmanager
    def reading(self) -> Iterator[StoreTransaction]:
        """Repositories on a short-lived connection for reads (rolled back at the end)."""
        try:
            with self.engine.connect() as connection:
                yield StoreTransaction.on(connection)
        except self._errors as error:
            raise StoreError(f"database error ({self.url}): {error}") from error

    def driver_transaction(self) -> AbstractContextManager[Any]:
        """A transaction on the store's own DBAPI connection, for `prepared` statements:
        yields a DBAPI cursor; commits when the block ends normally (durable on return, like
        `transaction`), rolls back otherwise. One block runs at a time (threads wait).

        Raises:
            StoreError: the database failed (the driver's error is chained).
        """
        return self._driver_cursor(transaction=True)

    def driver_reading(self) -> AbstractContextManager[Any]:
        """A DBAPI cursor on the store's own connection outside any transaction (each
        statement sees the latest commit), for `prepared` reads.

        Raises:
            StoreError: the database failed (the driver's error is chained).
        """
        return self._driver_cursor(transaction=False)

    @property
    def bars(self) -> StoreBars:
        """This store as a `BarStore` whose every call runs on its own connection
        (writes in their own transaction), for services that take the port."""
        return StoreBars(self)

    def load_bars(
        self,
        symbols: str | Sequence[str] | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        timeframe: str = "1d",
        *,
        market: Market | str | None = None,
    ) -> LoadedBars:
        """Bars as a long frame and an aligned panel (see `BarRepository.load_bars`).

        A single symbol may be given as a string.
        """
        panel = self.bars.load_bars(
            [symbols] if isinstance(symbols, str) else symbols,
            start,
            end,
            timeframe,
            market=Market(market) if market is not None else None,
        )
        return LoadedBars(panel.to_frame(), panel)

    def bar_summaries(self, market: Market | str | None = None) -> list[BarSummary]:
        """Bar count and range per instrument and timeframe."""
        with self.reading() as read:
            return read.bars.bar_summaries(Market(market) if market is not None else None)

    def list_instruments(self, market: Market | str | None = None) -> list[InstrumentInfo]:
        """Known instruments sorted by market then symbol."""
        with self.reading() as read:
            return read.instruments.list_instruments(Market(market) if market is not None else None)

    def close(self) -> None:
        """Release every pooled connection and the store's own one."""
        with self._driver_lock:
            driver, self._driver = self._driver, None
            if driver is not None:
                driver.close()
        self.engine.dispose()

    def _driver_cursor(self, *, transaction: bool) -> _DriverBlock:
        return _DriverBlock(self, transaction)

    def _driver_connection(self) -> PoolProxiedConnection:
        """The connection of `driver_transaction`, in the driver's autocommit mode (so that
        a read opens no transaction and BEGIN/COMMIT are explicit), opened on first use.

        It leaves the pool (except an in-memory SQLite's one shared connection), so that no
        other user ever gets it in autocommit mode; `close` closes it.
        """
        if self._driver is None:
            try:
                connection = self.engine.raw_connection()
            except self._errors as error:
                raise StoreError(f"database error ({self.url}): {error}") from error
            try:
                if not isinstance(self.engine.pool, StaticPool):
                    connection.detach()
                dbapi_connection = connection.dbapi_connection
                if self.engine.dialect.name == "sqlite":
                    dbapi_connection.isolation_level = None  # type: ignore[union-attr]
                else:
                    dbapi_connection.autocommit = True  # type: ignore[union-attr]
            except self._errors as error:
                with suppress(*self._errors):
                    connection.invalidate()
                raise StoreError(f"database error ({self.url}): {error}") from error
            self._driver = connection
        return self._driver

    def _abandon(self, connection: PoolProxiedConnection) -> None:
        """After a failure: roll back (nothing when no transaction is open); a connection
        that cannot even do that is dropped, and the next call opens a new one."""
        try:
            connection.rollback()
        except self._errors:
            self._driver = None
            with suppress(*self._errors):
                connection.invalidate()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class StoreBars:
    """A `BarStore` over a `Store`: each call opens its own connection or transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def upsert_bars(
        self, frame: pd.DataFrame, instruments: Mapping[str, InstrumentInfo], timeframe: str
    ) -> UpsertCounts:
        with self._store.transaction() as transaction:
            return transaction.bars.upsert_bars(frame, instruments, timeframe)

    def load_bars(
        self,
        symbols: Sequence[str] | None = None,
        start: TimeBound | None = None,
        end: TimeBound | None = None,
        timeframe: str = "1d",
        *,
        market: Market | None = None,
    ) -> BarPanel:
        with self._store.reading() as read:
            return read.bars.load_bars(symbols, start, end, timeframe, market=market)

    def list_instruments(self, market: Market | None = None) -> list[InstrumentInfo]:
        with self._store.reading() as read:
            return read.bars.list_instruments(market)

    def bar_summaries(self, market: Market | None = None) -> list[BarSummary]:
        with self._store.reading() as read:
            return read.bars.bar_summaries(market)


def open_store(url: str) -> Store:
    """Open (creating when needed) and migrate the database at `url`.

    Args:
        url: a SQLAlchemy URL: ``sqlite:///path/to/file.db`` (``~`` is expanded, the
            folder is created), ``sqlite://`` for an in-memory database, or
            ``postgresql+psycopg://user@host/db``. Callers usually pass
            `orchestrade.settings.Settings().database_url`.

    Raises:
        StoreError: the URL is invalid, the database unreachable or a migration failed.
    """
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except _database_errors(engine) as error:
        engine.dispose()
        raise StoreError(f"cannot open database {_hidden(engine.url)}: {error}") from error
    return Store(engine)


def load_bars(
    symbols: str | Sequence[str] | None = None,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    timeframe: str = "1d",
    *,
    market: Market | str | None = None,
    url: str | None = None,
) -> LoadedBars:
    """Load stored bars as a pandas frame plus the aligned numpy panel.

    Args:
        symbols: one symbol, several, or None for every symbol with bars in the range.
        start, end: inclusive bounds on bar start times (datetime, date or ISO string; a
            date as `end` includes that whole day).
        timeframe: "1m" ... "1w".
        market: restrict to one market (needed when a symbol exists in several).
        url: the database; None means `Settings().database_url` (the embedded SQLite).

    Returns:
        `LoadedBars` with `.frame` (long, sorted by symbol then timestamp) and `.panel`
        (a `BarPanel` of the same bars).
    """
    if url is None:
        from orchestrade.settings import Settings  # only the convenience path reads settings

        url = Settings().database_url
    with open_store(url) as store:
        return store.load_bars(symbols, start, end, timeframe, market=market)


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"not a database URL: {url!r} ({error})") from error
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed)
        except (ArgumentError, ImportError) as error:
            raise StoreError(f"cannot use database URL {_hidden(parsed)}: {error}") from error
    database = parsed.database
    options: dict[str, Any] = {}
    if database in (None, "", ":memory:"):
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    engine = create_engine(parsed, **options)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide where transactions begin (see _begin_sqlite), so
    # DDL such as the staging tables is transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    finally:
        cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _database_errors(engine: Engine) -> tuple[type[Exception], ...]:
    """SQLAlchemy's errors plus the driver's own (raised by raw cursors on bulk paths)."""
    dbapi = engine.dialect.dbapi
    error = getattr(dbapi, "Error", None) if dbapi is not None else None
    if isinstance(error, type) and issubclass(error, Exception):
        return (SQLAlchemyError, error)
    return (SQLAlchemyError,)


def _hidden(url: URL) -> str:
    return url.render_as_string(hide_password=True)
