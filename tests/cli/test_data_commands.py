"""`orchestrade data ...` end to end through the CLI: import, list, quality, synth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrade.cli.main import app

runner = CliRunner()

GOOD_CSV = """date,symbol,open,high,low,close,volume
2024-01-02,AAPL,187.15,188.44,183.89,185.64,82488700
2024-01-03,AAPL,184.22,185.88,183.43,184.25,58414500
2024-01-04,AAPL,182.15,183.09,180.88,181.91,71983600
2024-01-05,AAPL,181.99,182.76,180.17,181.18,62303300
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_import_stores_bars_and_reimport_adds_nothing(tmp_path: Path) -> None:
    source = write(tmp_path / "aapl.csv", GOOD_CSV)

    first_code, first = invoke("data", "import", str(source), "--json")
    again_code, again = invoke("data", "import", str(source), "--json")

    assert (first_code, again_code) == (0, 0)
    assert json.loads(first)["totals"]["inserted"] == 4
    assert json.loads(again)["totals"] | {"unchanged": 4} == json.loads(again)["totals"]
    assert json.loads(again)["totals"]["inserted"] == 0


def test_import_reports_bad_rows_and_keeps_good_ones(tmp_path: Path) -> None:
    text = GOOD_CSV + "2024-01-08,AAPL,-1,182.76,180.17,181.18,100\nnot-a-date,AAPL,1,2,1,2,3\n"
    source = write(tmp_path / "aapl.csv", text)

    code, output = invoke("data", "import", str(source), "--json")

    report = json.loads(output)["files"][0]
    assert code == 0
    assert report["inserted"] == 4
    assert report["rejected"]["non_positive_price"] == 1
    assert report["rejected"]["unparseable_timestamp"] == 1


def test_file_without_close_column_fails_naming_file_and_column(tmp_path: Path) -> None:
    source = write(tmp_path / "broken.csv", "date,symbol,open,high,low\n2024-01-02,X,1,2,1\n")

    code, output = invoke("data", "import", str(source))
    _, listing = invoke("data", "list", "--json")

    assert code == 1
    assert "broken.csv" in output
    assert "close" in output
    assert json.loads(listing) == []


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke("data", "import", str(tmp_path / "nope.csv"))

    assert code == 2
    assert "no such file or folder" in output


def test_unusable_database_url_is_one_clear_line(tmp_path: Path) -> None:
    source = write(tmp_path / "aapl.csv", GOOD_CSV)

    code, output = invoke("data", "import", str(source), "--db", "nosuchdriver://x")

    assert code == 2
    assert "error:" in output


def test_synth_then_list_shows_labelled_synthetic_instruments() -> None:
    synth_code, _ = invoke("data", "synth", "--symbols", "3", "--days", "30", "--seed", "5")
    list_code, listing = invoke("data", "list", "--json")

    rows = json.loads(listing)
    assert (synth_code, list_code) == (0, 0)
    assert [row["symbol"] for row in rows] == ["SYN0001", "SYN0002", "SYN0003"]
    assert {row["bars"] for row in rows} == {30}
    assert {row["name"] for row in rows} == {"Synthetic 1", "Synthetic 2", "Synthetic 3"}


def test_quality_of_a_file_counts_its_warts(tmp_path: Path) -> None:
    text = GOOD_CSV + "2024-01-08,AAPL,0,182.76,180.17,181.18,100\n2024-01-05,AAPL,1,2,1,2,3\n"
    source = write(tmp_path / "aapl.csv", text)

    code, output = invoke("data", "quality", str(source), "--json")

    (target,) = json.loads(output)
    checks = target["report"]["summary"]["checks"]
    assert code == 0
    assert target["kind"] == "bars"
    assert checks["non_positive_price"] == 1
    assert checks["duplicate_timestamp"] == 1
    assert checks["unsorted"] == 1


def test_quality_of_the_store_after_import(tmp_path: Path) -> None:
    invoke("data", "import", str(write(tmp_path / "aapl.csv", GOOD_CSV)))

    code, output = invoke("data", "quality")

    assert code == 0
    assert "store, us 1d bars" in output
    assert "AAPL" in output


def test_quality_table_shows_verdicts_and_details(tmp_path: Path) -> None:
    source = write(tmp_path / "aapl.csv", GOOD_CSV + "2024-01-08,AAPL,0,1,1,1,1\n")

    code, output = invoke("data", "quality", str(source), "--details")

    assert code == 0
    assert "use with care" in output or "reject" in output
    assert "non-positive" in output or "zero or negative" in output


@pytest.mark.postgres
def test_import_into_postgresql_with_db_option(tmp_path: Path, postgres_url: str) -> None:
    source = write(tmp_path / "aapl.csv", GOOD_CSV)

    code, output = invoke("data", "import", str(source), "--db", postgres_url, "--json")
    _, listing = invoke("data", "list", "--db", postgres_url, "--json")

    assert code == 0
    assert json.loads(output)["totals"]["inserted"] == 4
    assert [row["symbol"] for row in json.loads(listing)] == ["AAPL"]
