"""Prepared statements on the store's own DBAPI connection (the OMS journal's hot path)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import DateTime, insert, select
from sqlalchemy.dialects import sqlite

from orchestrade.data.errors import StoreError
from orchestrade.domain import BotId, Symbol
from orchestrade.storage import AuditEntry, AuditLog, Store, open_store
from orchestrade.storage.audit import AUDIT_EVENTS, to_row
from orchestrade.storage.columns import ExactDecimal
from orchestrade.storage.prepared import exact_decimal_text, insert_statement, select_statement

COLUMNS = ("at", "kind", "bot_id", "symbol", "side", "quantity", "price", "reason", "payload")
ENTRY = AuditEntry(
    at=datetime(2024, 3, 4, 0, 30, 0, 123456, tzinfo=UTC),
    kind="order.accepted",
    reason="accepted",
    bot_id=BotId("b-1"),
    symbol=Symbol("005930"),
    side="buy",
    quantity=Decimal("0.00012345"),
    price=Decimal("12345678901234567890.123456789"),
    payload={"order": {"quantity": "0.00012345", "tags": ["a", 1]}},
)


def append(store: Store, entry: AuditEntry = ENTRY) -> None:
    """Insert `entry` through a prepared statement in a driver transaction."""
    statement = insert_statement(store.engine.dialect, AUDIT_EVENTS, COLUMNS)
    row = to_row(entry)
    with store.driver_transaction() as cursor:
        cursor.execute(statement.sql, statement.parameters([row[name] for name in COLUMNS]))


def count(store: Store) -> int:
    with store.engine.connect() as connection:
        return len(connection.execute(select(AUDIT_EVENTS.c.id)).all())


def test_a_prepared_insert_stores_values_exactly_as_sqlalchemy_does(store: Store) -> None:
    append(store)
    with store.engine.begin() as connection:
        connection.execute(insert(AUDIT_EVENTS).values(to_row(ENTRY)))
        # The stored values themselves (SQLite: the text of decimals and times), not only
        # what they read back as.
        raw = connection.exec_driver_sql(
            "SELECT at, kind, bot_id, symbol, side, quantity, price, reason FROM audit_events "
            "ORDER BY id"
        ).all()

    assert raw[0] == raw[1]
    assert [record.entry for record in AuditLog(store).query().records] == [ENTRY, ENTRY]


def test_a_driver_transaction_commits_on_return_and_rolls_back_on_error(store: Store) -> None:
    statement = insert_statement(store.engine.dialect, AUDIT_EVENTS, COLUMNS)
    row = to_row(ENTRY)

    def insert_then_fail() -> None:
        with store.driver_transaction() as cursor:
            cursor.execute(statement.sql, statement.parameters([row[name] for name in COLUMNS]))
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        insert_then_fail()
    assert count(store) == 0

    append(store)

    assert count(store) == 1


def test_a_database_error_is_a_store_error_and_the_next_transaction_works(store: Store) -> None:
    with pytest.raises(StoreError, match="database error"), store.driver_transaction() as cursor:
        cursor.execute("INSERT INTO no_such_table VALUES (1)")

    append(store)

    assert count(store) == 1


def test_a_read_sees_commits_made_elsewhere_since_the_last_one(store: Store) -> None:
    statement = select_statement(store.engine.dialect, AUDIT_EVENTS, ("kind",), key="kind")
    with store.driver_reading() as cursor:
        cursor.execute(statement.sql, statement.parameters(["order.accepted"]))
        assert cursor.fetchall() == []

    with store.engine.begin() as connection:
        connection.execute(insert(AUDIT_EVENTS).values(to_row(ENTRY)))

    with store.driver_reading() as cursor:
        cursor.execute(statement.sql, statement.parameters(["order.accepted"]))
        assert cursor.fetchall() == [("order.accepted",)]


def test_closing_the_store_closes_its_own_connection(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    store = open_store(f"sqlite:///{path}")
    append(store)
    assert Path(f"{path}-wal").exists()

    store.close()

    # SQLite removes the WAL when the last connection to the file closes.
    assert not Path(f"{path}-wal").exists()
    with open_store(f"sqlite:///{path}") as reopened:
        assert count(reopened) == 1


def test_a_driver_of_another_parameter_style_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported parameter style 'named'"):
        insert_statement(sqlite.dialect(paramstyle="named"), AUDIT_EVENTS, COLUMNS)


def test_the_fast_sqlite_processors_convert_as_sqlalchemys_do() -> None:
    dialect = sqlite.dialect()
    exact = ExactDecimal().dialect_impl(dialect).bind_processor(dialect)
    timed = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert exact is not None
    assert timed is not None
    values = [Decimal("0.00012345"), Decimal("-1E+3"), Decimal("12345678901234567890.1"), None]

    assert [exact_decimal_text(value) for value in values] == [exact(value) for value in values]
    for bad in (Decimal("NaN"), Decimal("Infinity"), 1.5):
        with pytest.raises(TypeError, match="finite Decimals"):
            exact_decimal_text(bad)

    statement = insert_statement(dialect, AUDIT_EVENTS, COLUMNS)
    first = datetime(2024, 3, 4, 0, 30, 0, 123456, tzinfo=UTC)
    later = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    for at in (first, first, later, first, None):
        # The same object twice in a row (served from memory), then others.
        row = statement.parameters([at, "k", None, None, None, None, None, "", "{}"])
        assert row[0] == timed(at)


def test_a_failed_block_releases_the_store_for_the_next_one(store: Store) -> None:
    for _ in range(3):
        with pytest.raises(StoreError), store.driver_reading() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
        with pytest.raises(KeyError), store.driver_transaction():
            raise KeyError("not a database error: passes through unchanged")

    append(store)

    assert count(store) == 1
