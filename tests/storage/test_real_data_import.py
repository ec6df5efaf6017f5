"""Every real file of the shared data folder imports into a SQLite store as its README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrade.data.importing import import_paths
from orchestrade.storage import open_store

# Rejected rows per file where the README states them; every other file rejects nothing.
REJECTED = {"sp500_5yr.csv.gz": {"missing_price": 11}}


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_whole_shared_folder_imports_and_reimports_idempotently(
    shared_data: Path, tmp_path: Path
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        report = import_paths([shared_data], store)
        again = import_paths([shared_data / "us_daily", shared_data / "orderbook"], store)
        sp500 = store.load_bars(market="us", start="2013-02-08", end="2018-02-07").panel

    assert report.ok, [f.error for f in report.failed]
    assert len(report.files) == 43
    for entry in report.files:
        expected = REJECTED.get(Path(entry.path).name, {})
        assert {k: v for k, v in entry.rejected.items() if v} == expected, entry.path
        assert entry.inserted == entry.rows_read - entry.rejected_total, entry.path
        assert entry.updated == entry.unchanged == 0
    assert report.rows_read == 619_040 + 1_072_078 + 81_782 + 5_152 + 4_466 + sum(
        f.rows_read for f in report.files if "/krx/" in f.path
    )
    assert [(f.inserted, f.updated) for f in again.files] == [(0, 0)] * 3
    assert [f.unchanged for f in again.files] == [619_029, 500, 3_966]
    # 505 S&P symbols plus SPY and the six sparse 1-minute names share the US market, but
    # only the S&P file has daily bars in that window.
    assert sp500.shape == (505, 1_259)
    assert int((~(sp500.close != sp500.close)).sum()) == 619_029
