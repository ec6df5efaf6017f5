"""`orchestrade demo` runs end to end on embedded defaults, with no outside data."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from orchestrade.cli.main import app


def test_demo_builds_store_and_prints_quality_and_indicators(isolated_home: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--days", "80"])

    assert result.exit_code == 0, result.output
    assert (isolated_home / "demo.db").exists()
    assert "quality: store, krx 1d bars" in result.output
    assert "quality: store, us 1d bars" in result.output
    assert "latest indicators" in result.output
    assert "SYN0001" in result.output
    assert "SYNU0001" in result.output
    assert "backtest: sma_cross, synthetic KRX" in result.output
    assert (isolated_home / "demo_report.html").stat().st_size > 100_000
    assert "trades identical to the backtest's" in " ".join(result.output.split())


def test_the_default_demo_finds_anomalies_and_proposes_rebalances(isolated_home: Path) -> None:
    """What `make demo` runs: its own data (not forced) gives anomalies and proposals."""
    result = CliRunner().invoke(app, ["demo"])

    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "trades identical to the backtest's" in text
    assert "found during the replay: loss_streak 5, volume_spike 31" in text
    assert "latest anomalies" in text
    assert "proposals during the replay: applied 15, no_proposal 6, skipped 13, waiting 2" in text
    assert "latest proposals" in text


def test_demo_twice_reuses_the_store(isolated_home: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["demo", "--days", "60"])

    again = runner.invoke(app, ["demo", "--days", "60"])

    assert again.exit_code == 0, again.output
    assert "0 bars inserted" in again.output
