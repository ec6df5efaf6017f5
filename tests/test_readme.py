"""The README's Python example runs as written against a store holding real KRX data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrade.data import import_paths
from orchestrade.settings import Settings
from orchestrade.storage import open_store

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.shared_data
def test_readme_python_example_runs(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    krx = shared_data / "krx"
    with open_store(Settings().database_url) as store:
        import_paths([krx / "005930.csv.gz", krx / "000660.csv.gz"], store, "krx")
    example = python_blocks()[0]

    exec(compile(example, str(README), "exec"), {})

    printed = capsys.readouterr().out
    assert "(2, " in printed  # panel shape: 2 symbols x timestamps
    assert "sma_20" in printed
    assert "bb_upper_20_2" in printed


@pytest.mark.slow
@pytest.mark.shared_data
def test_readme_backtest_example_runs(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    example = python_blocks()[1].replace("~/data/krx/", str(shared_data / "krx"))

    exec(compile(example, str(README), "exec"), {})

    assert (tmp_path / "report.html").stat().st_size > 100_000
