"""The import use case: per-file transactions, failures reported, idempotent re-imports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestrade.data.errors import StoreError
from orchestrade.data.importing import import_paths
from orchestrade.data.ports import ImportRecord, MarketDataTransaction
from orchestrade.storage import Store, open_store

GOOD = (
    "date,symbol,open,high,low,close,volume\n"
    "2024-01-02,AAPL,185.0,186.0,183.0,185.6,1000\n"
    "2024-01-03,AAPL,,186.0,183.0,184.2,1000\n"
    "2024-01-03,MSFT,370.0,372.0,368.0,370.6,2000\n"
    "2024-01-03,MSFT,370.0,372.0,368.0,370.6,2000\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'db' / 'o.db'}") as opened:
        yield opened


def test_a_file_is_imported_with_exact_counts_and_reimporting_adds_nothing(
    tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "in" / "us.csv"
    path.parent.mkdir()
    path.write_text(GOOD)

    first = import_paths([tmp_path / "in"], store)
    again = import_paths([path], store)

    entry = first.files[0]
    assert first.ok
    assert (entry.kind, entry.timeframe, entry.symbols) == ("bars", "1d", ("AAPL", "MSFT"))
    assert (entry.rows_read, entry.inserted, entry.updated, entry.unchanged) == (4, 2, 0, 0)
    assert entry.rejected["missing_price"] == 1
    assert entry.rejected["duplicate"] == 1
    assert entry.rejected_total == 2
    assert (again.files[0].inserted, again.files[0].unchanged) == (0, 2)
    assert store.load_bars().panel.symbols == ("AAPL", "MSFT")
    with store.reading() as read:
        log = read.imports.entries(sha256=entry.sha256)
    assert [(e.rows, e.inserted) for e in log] == [(4, 2), (4, 0)]
    assert log[0].rejected["duplicate"] == 1


def test_a_bad_file_is_reported_and_does_not_stop_the_others(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "a_bad.csv"
    bad.write_text("symbol,close\nAAPL,1\n")
    good = tmp_path / "b_good.csv"
    good.write_text(GOOD)

    report = import_paths([bad, tmp_path / "missing.csv", good], store)

    assert [f.status for f in report.files] == ["failed", "failed", "imported"]
    assert "no time column" in str(report.files[0].error)
    assert "no such file" in str(report.files[1].error)
    assert not report.ok
    assert report.inserted == 2
    assert len(report.failed) == 2


def test_the_report_renders_as_plain_json(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "us.csv"
    path.write_text(GOOD)

    data = json.loads(json.dumps(import_paths([path], store, market="us").to_dict()))

    assert data["totals"] == {
        "files": 1,
        "failed": 0,
        "rows_read": 4,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
    }
    assert data["files"][0]["symbols"] == ["AAPL", "MSFT"]
    assert data["files"][0]["status"] == "imported"


class FailingLogStore:
    """The real store, except that writing the audit entry fails (after the bars)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def transaction(self) -> Iterator[MarketDataTransaction]:
        with self.store.transaction() as real:
            yield _FailingLogTransaction(real)


class _FailingLogTransaction:
    def __init__(self, real: MarketDataTransaction) -> None:
        self.bars = real.bars
        self.books = real.books
        self.imports = self

    def record(self, entry: ImportRecord) -> None:
        raise StoreError(f"disk full while logging {entry.path}")


def test_a_file_whose_write_fails_leaves_the_store_unchanged(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "us.csv"
    path.write_text(GOOD)

    report = import_paths([path], FailingLogStore(store))

    assert report.files[0].status == "failed"
    assert report.files[0].error == f"disk full while logging {path}"
    assert store.list_instruments() == []
    assert store.load_bars().panel.shape == (0, 0)
