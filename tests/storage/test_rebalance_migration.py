"""Migration 0004 (rebalances): up from 0003 and back down, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from orchestrade.storage import open_store
from orchestrade.storage.rebalances import RebalanceRepository
from orchestrade.storage.store import MIGRATIONS


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_0004_adds_the_rebalances_table_and_takes_only_it_away(database_url: str) -> None:
    _migrate(database_url, "0003")
    before = _tables(database_url)

    _migrate(database_url, "0004")
    after = _tables(database_url)
    _migrate(database_url, "0003", down=True)

    assert "rebalances" not in before
    assert after == before | {"rebalances"}
    assert _tables(database_url) == before
    with open_store(database_url) as store:
        assert RebalanceRepository(store).recent() == []
