"""`orchestrade backtest` and `orchestrade sweep` through the CLI, on synthetic files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrade.cli.main import app
from orchestrade.data import synthesize_market
from orchestrade.domain import Market

runner = CliRunner()
REFERENCE = ["--fee", "0.001", "--tax", "0", "--risk", "none", "--min-confidence", "0"]


@pytest.fixture(scope="module")
def bars_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bars") / "synthetic.csv"
    synthesize_market(3, 300, 5, market=Market.US).bars.to_csv(path, index=False)
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_backtest_writes_json_and_html_report(bars_csv: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "run.json", tmp_path / "run.html"

    code, output = invoke(
        "backtest",
        "--strategy",
        "sma_cross",
        "--params",
        "fast=10,slow=30",
        "--data",
        str(bars_csv),
        *REFERENCE,
        "--json",
        str(out),
        "--report",
        str(report),
    )

    document = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, output
    assert "total return" in output
    assert document["parameters"] == {"fast": 10, "slow": 30}
    assert document["timing"]["bars"] == 900
    assert document["timing"]["load_seconds"] > 0
    assert set(document["per_symbol"]) == {"SYNU0001", "SYNU0002", "SYNU0003"}
    assert "<html" in report.read_text(encoding="utf-8").lower()


def test_backtest_symbols_and_dates_filter_the_data(bars_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.json"

    code, output = invoke(
        "backtest",
        "--strategy",
        "sma_cross",
        "--data",
        str(bars_csv),
        "--symbols",
        "SYNU0002",
        "--start",
        "2018-06-01",
        "--end",
        "2018-12-31",
        *REFERENCE,
        "--json",
        str(out),
    )

    document = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, output
    assert list(document["per_symbol"]) == ["SYNU0002"]
    assert all(
        "2018-06-01" <= t["entry_time"] <= "2018-12-31T23:59:59Z" for t in document["trades"]
    )


def test_backtest_from_the_store_after_import(bars_csv: Path) -> None:
    invoke("data", "import", str(bars_csv))

    code, output = invoke("backtest", "--strategy", "sma_cross", *REFERENCE)

    assert code == 0, output
    assert "sharpe" in output.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--params", "fsat=5"], "fast"),
        (["--params", "fast"], "name=value"),
        (["--slippage", "lots"], "--slippage"),
        (["--mode", "shared"], "--mode"),
        (["--risk", "missing.yaml"], "missing.yaml"),
        (["--symbols", "NOPE"], "NOPE"),
        (["--start", "yesterday"], "--start"),
    ],
)
def test_bad_options_are_one_clear_line(bars_csv: Path, args: list[str], message: str) -> None:
    code, output = invoke("backtest", "--strategy", "sma_cross", "--data", str(bars_csv), *args)

    assert code == 2
    assert message in output


def test_unknown_strategy_lists_the_builtins(bars_csv: Path) -> None:
    code, output = invoke("backtest", "--strategy", "golden", "--data", str(bars_csv))

    assert code == 2
    assert "sma_cross" in output


def test_sweep_ranks_the_grid_and_walks_forward(bars_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"

    code, output = invoke(
        "sweep",
        "--strategy",
        "sma_cross",
        "--grid",
        "fast=5:15:5,slow=20:40:10",
        "--walk-forward",
        "150:50",
        "--data",
        str(bars_csv),
        *REFERENCE,
        "--workers",
        "2",
        "--json",
        str(out),
    )

    document = json.loads(out.read_text(encoding="utf-8"))
    scores = [run["metrics"]["sharpe_ratio"] for run in document["runs"]]
    assert code == 0, output
    assert len(document["runs"]) == 9
    assert scores == sorted(scores, reverse=True)
    assert document["best"] == document["runs"][0]
    assert len(document["walk_forward"]) == 3
    assert document["out_of_sample"]["folds"] == 3


def test_sweep_on_ray_equals_the_local_sweep(bars_csv: Path, tmp_path: Path) -> None:
    local_out, ray_out = tmp_path / "local.json", tmp_path / "ray.json"
    common = ["--strategy", "sma_cross", "--grid", "fast=5:15:5,slow=20:30:10"]
    common += ["--data", str(bars_csv), *REFERENCE, "--workers", "2"]

    local_code, _ = invoke("sweep", *common, "--json", str(local_out))
    ray_code, output = invoke("sweep", *common, "--executor", "ray", "--json", str(ray_out))

    local = json.loads(local_out.read_text(encoding="utf-8"))
    on_ray = json.loads(ray_out.read_text(encoding="utf-8"))
    assert (local_code, ray_code) == (0, 0), output
    assert on_ray["executor"] == "ray"
    assert on_ray["runs"] == local["runs"]


def test_unknown_executor_is_refused(bars_csv: Path) -> None:
    code, output = invoke(
        "sweep",
        "--strategy",
        "sma_cross",
        "--grid",
        "fast=5:10:5",
        "--executor",
        "dask",
        "--data",
        str(bars_csv),
    )

    assert code == 2
    assert "local or ray" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "sharpe"], "unknown metric 'sharpe'"),
        (["--walk-forward", "100"], "TRAIN:TEST"),
        (["--walk-forward", "290:100"], "needs 390 bars"),
        (["--grid", "fsat=5:10:5"], "fast"),
    ],
)
def test_bad_sweep_options_are_one_clear_line(
    bars_csv: Path, args: list[str], message: str
) -> None:
    code, output = invoke(
        "sweep", "--strategy", "sma_cross", "--data", str(bars_csv), "--workers", "1", *args
    )

    assert code == 2
    assert message in output
