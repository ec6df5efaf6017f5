"""Every file of the shared data set gets a quality report, read as it is on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrade.data.files import discover_files
from orchestrade.data.quality.targets import quality_of_files


@pytest.mark.slow
@pytest.mark.shared_data
def test_every_shared_file_gets_a_quality_report(shared_data: Path) -> None:
    files = discover_files([shared_data])

    targets = quality_of_files([shared_data])

    assert len(targets) == len(files) == 43
    assert [t.label for t in targets] == [str(path) for path in files]
    assert all(t.report is not None and t.error is None for t in targets)
    assert {t.kind for t in targets} == {"bars", "book"}
    verdicts = {Path(t.label).name: t.report.recommendation.value for t in targets if t.report}
    # The README's clean files come out clean; the ones with documented warts do not.
    assert verdicts["binance_spot_1m_2024-10.csv.gz"] == "use"
    assert verdicts["bybit_linear_xrpusdt_ob500_2024-12-01.csv.gz"] == "use"
    assert verdicts["sp500_5yr.csv.gz"] == "use with care"
    assert verdicts["us_stocks_sparse_1m_2024.csv.gz"] == "use with care"


def test_unreadable_file_is_reported_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("date,symbol,open\n2024-01-02,X,1\n", encoding="utf-8")

    (target,) = quality_of_files([broken])

    assert target.report is None
    assert target.error is not None
    assert "close" in target.error
    assert target.table_rows()[0]["recommendation"] == "reject"
