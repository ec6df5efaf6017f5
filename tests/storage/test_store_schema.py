"""open_store: folders, SQLite settings, migrations that match the table classes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from orchestrade.data.errors import StoreError
from orchestrade.storage import Store, open_store
from orchestrade.storage.store import WAL_CHECKPOINT_PAGES
from orchestrade.storage.tables import Base

TABLES = {
    *("instruments", "bars", "bar_blocks", "book_levels", "imports", "alembic_version"),
    *("bots", "signals", "orders", "order_events", "fills", "positions"),
    *("portfolio_snapshots", "audit_events", "anomalies", "rebalances", "users", "api_keys"),
    "positions_version",
}


def test_migrations_create_every_table_at_head(store: Store) -> None:
    with store.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    assert tables == TABLES
    assert version == "0006"


def test_migrated_schema_matches_the_table_classes(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_opening_twice_is_harmless(database_url: str) -> None:
    with open_store(database_url):
        pass

    with open_store(database_url) as again, again.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == TABLES


def test_sqlite_store_makes_its_folder_and_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "o.db"

    with open_store(f"sqlite:///{path}") as store, store.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        checkpoint = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        ddl = dict(
            connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type='table'")
            .tuples()
            .all()
        )

    assert path.is_file()
    assert (journal, keys, synchronous) == ("wal", 1, 1)  # synchronous 1 = NORMAL
    # Every connection, not only the hot one: a pooled one left at SQLite's 1,000 pages
    # would checkpoint (and sync) at each of its commits while the WAL is longer.
    assert checkpoint == WAL_CHECKPOINT_PAGES
    assert "WITHOUT ROWID" in ddl["bars"]
    assert "WITHOUT ROWID" in ddl["book_levels"]


def test_a_home_relative_sqlite_path_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    with open_store("sqlite:///~/.orchestrade/orchestrade.db"):
        pass

    assert (tmp_path / ".orchestrade" / "orchestrade.db").is_file()


def test_an_in_memory_sqlite_store_works(tmp_path: Path) -> None:
    with open_store("sqlite://") as store, store.engine.connect() as connection:
        assert "bars" in inspect(connection).get_table_names()


@pytest.mark.parametrize(
    "url", ["not a url", "nosuchdialect://x", "postgresql+psycopg://nobody@127.0.0.1:1/x"]
)
def test_a_bad_or_unreachable_url_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError):
        open_store(url)
