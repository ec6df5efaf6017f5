"""Migration 0002 (trading tables): from an empty database and from one at 0001."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, insert, inspect, select

from orchestrade.domain import BotId
from orchestrade.storage import BotRepository, SqlOrderJournal, open_store
from orchestrade.storage.instruments import INSTRUMENTS
from orchestrade.storage.store import MIGRATIONS

from .trading import accepted, at, bot, fill_of, limit_buy

TRADING_TABLES = {
    "bots",
    "signals",
    "orders",
    "order_events",
    "fills",
    "positions",
    "portfolio_snapshots",
    "audit_events",
}


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            if down:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_a_market_data_database_gains_the_trading_tables_and_keeps_its_rows(
    database_url: str,
) -> None:
    _migrate(database_url, "0001")
    assert not TRADING_TABLES & _tables(database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            insert(INSTRUMENTS).values(
                symbol="005930",
                market="krx",
                exchange="KRX",
                currency="KRW",
                name="Samsung Electronics",
                created_at=datetime(2024, 1, 2, tzinfo=UTC),
            )
        )
    engine.dispose()

    with open_store(database_url) as store:
        with store.engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert version.scalar() >= "0002"  # at head: later migrations follow it
            names = connection.execute(select(INSTRUMENTS.c.name)).scalars().all()
        BotRepository(store).save(bot())
        journal = SqlOrderJournal(store)
        order = accepted(limit_buy())
        fill = fill_of(order, "f-1", "10", "71000")
        journal.record_order(order, at=at(0))
        journal.record_fill(fill, order.with_fill(fill), at=at(1))

        assert names == ["Samsung Electronics"]
        assert BotRepository(store).get(BotId("b-1")) == bot()
        assert journal.fills() == [fill]
        assert journal.get_order(order.order_id) == order.with_fill(fill)
    assert _tables(database_url) >= TRADING_TABLES


def test_downgrading_to_0001_drops_only_the_trading_tables(database_url: str) -> None:
    with open_store(database_url):
        pass
    all_tables = _tables(database_url)

    _migrate(database_url, "0001", down=True)
    market_only = _tables(database_url)
    _migrate(database_url, "head")

    # Migration 0001's tables stay; 0002's, and those of the migrations after it, go.
    market_data = {"instruments", "bars", "bar_blocks", "book_levels", "imports"}
    assert market_only == market_data | {"alembic_version"}
    assert all_tables - market_only >= TRADING_TABLES
    assert _tables(database_url) == all_tables
    with open_store(database_url) as store:
        assert SqlOrderJournal(store).open_orders() == []
