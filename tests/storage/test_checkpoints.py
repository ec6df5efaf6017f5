"""WAL checkpoints on a thread of their own (`storage.checkpoints`)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from orchestrade.storage import open_store
from orchestrade.storage.checkpoints import WalCheckpointer


def writer(path: Path) -> sqlite3.Connection:
    """A WAL connection that never checkpoints by itself."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE IF NOT EXISTS t (x TEXT)")
    return connection


def rows_in_the_file(path: Path, tmp_path: Path) -> int:
    """Rows of `t` in the database file alone (a copy without its WAL): what checkpoints
    have copied there."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    connection = sqlite3.connect(alone)
    try:
        return int(connection.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:  # not even the table yet
        return 0
    finally:
        connection.close()
        alone.unlink()


def wait_for(condition: object, timeout_s: float = 10.0) -> None:
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def test_the_thread_copies_the_wal_into_the_file_while_the_writer_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    connection = writer(path)
    for _ in range(50):
        connection.execute("INSERT INTO t VALUES (?)", ("x" * 2000,))
    assert rows_in_the_file(path, tmp_path) == 0

    with WalCheckpointer(path, interval_s=0.01) as checkpointer:
        wait_for(lambda: checkpointer.checkpoints >= 1)
        assert rows_in_the_file(path, tmp_path) == 50
        connection.execute("INSERT INTO t VALUES ('y')")  # the writer goes on
        wait_for(lambda: rows_in_the_file(path, tmp_path) == 51)

    assert not checkpointer.running
    assert checkpointer.failure is None
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (51,)
    connection.close()


def test_a_checkpointer_of_a_missing_file_stops_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer(tmp_path / "gone.db", interval_s=0.01).start()
    wait_for(lambda: not checkpointer.running)
    checkpointer.stop()

    assert isinstance(checkpointer.failure, sqlite3.Error)
    assert not (tmp_path / "gone.db").exists()  # not created by the checkpointer
    assert "checkpoint by themselves" in caplog.text


def test_the_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval_s must be > 0"):
        WalCheckpointer(tmp_path / "w.db", interval_s=0)


def test_a_store_names_its_sqlite_file_and_none_otherwise(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:
        assert store.sqlite_file == tmp_path / "app.db"
    with open_store("sqlite://") as memory:
        assert memory.sqlite_file is None
