"""`orchestrade anomalies` (the kept findings) and `orchestrade anomalies scan` (data files)
through the CLI: tables, JSON, filters, and one clear line for each user mistake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from orchestrade.cli.anomalies_command import parse_since
from orchestrade.cli.main import app
from orchestrade.domain import AnomalyDetected, BotId, CircuitBreakerTripped, Severity
from orchestrade.storage import open_store
from orchestrade.storage.anomalies import AnomalyRepository

runner = CliRunner()
T0 = datetime(2024, 3, 4, 0, 30, tzinfo=UTC)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    with open_store(url) as store:
        AnomalyRepository(store).record_many(
            [
                AnomalyDetected(
                    T0, "book_imbalance", Severity.LOW, "BTCUSDT", 0.8, 0.7, "lopsided book"
                ),
                AnomalyDetected(
                    T0 + timedelta(minutes=10),
                    "trade_rate",
                    Severity.HIGH,
                    "bot-1",
                    21.0,
                    20.0,
                    "21 trades within 10 min, more than 20",
                    BotId("bot-1"),
                ),
                CircuitBreakerTripped(
                    T0 + timedelta(hours=1),
                    "daily_loss",
                    Decimal("0.105"),
                    Decimal("0.1"),
                    "portfolio lost 10.50%",
                ),
            ]
        )
    return url


def test_the_kept_findings_are_listed_newest_first_as_json(database: str) -> None:
    code, output = invoke("anomalies", "--db", database, "--json")

    listed = json.loads(output)
    assert code == 0
    assert [(item["detector"], item["severity"]) for item in listed] == [
        ("daily_loss", "critical"),
        ("trade_rate", "high"),
        ("book_imbalance", "low"),
    ]
    assert listed[0]["value"] == 0.105
    assert listed[1]["bot_id"] == "bot-1"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--severity", "high"], ["daily_loss", "trade_rate"]),
        (["--severity", "HIGH", "--detector", "trade_rate"], ["trade_rate"]),
        (["--bot", "bot-1"], ["trade_rate"]),
        (["--since", "2024-03-04T00:40:00Z"], ["daily_loss", "trade_rate"]),
        (["--since", "2024-03-04T09:45+09:00"], ["daily_loss"]),
        (["--since", "2024-03-05"], []),
        (["--limit", "1"], ["daily_loss"]),
    ],
)
def test_filters(database: str, options: list[str], expected: list[str]) -> None:
    code, output = invoke("anomalies", "--db", database, "--json", *options)

    assert code == 0
    assert [item["detector"] for item in json.loads(output)] == expected


def test_the_table_shows_time_severity_detector_subject_and_reason(database: str) -> None:
    code, output = invoke("anomalies", "--db", database)

    assert code == 0
    assert "anomalies (newest first)" in output
    assert "2024-03-04 00:40:00" in output
    assert "trade_rate" in output
    assert "critical" in output
    assert "21 trades within 10 min, more than 20" in output
    assert "lopsided book" in output
    assert "3 shown" in output


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    code, output = invoke("anomalies", "--db", f"sqlite:///{tmp_path / 'empty.db'}")

    assert code == 0
    assert "no anomalies kept" in output


def test_since_takes_durations_back_from_now_and_iso_times() -> None:
    now = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)

    assert parse_since("90s", now=now) == now - timedelta(seconds=90)
    assert parse_since("15m", now=now) == now - timedelta(minutes=15)
    assert parse_since("2h", now=now) == now - timedelta(hours=2)
    assert parse_since("1.5d", now=now) == now - timedelta(hours=36)
    assert parse_since("1w", now=now) == now - timedelta(days=7)
    assert parse_since("2024-03-01", now=now) == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_since("2024-03-01T09:00+09:00", now=now) == datetime(2024, 3, 1, tzinfo=UTC)
    with pytest.raises(typer.BadParameter, match="neither an ISO date/time"):
        parse_since("yesterday", now=now)


def test_a_bad_since_is_one_clear_error(database: str) -> None:
    code, output = invoke("anomalies", "--db", database, "--since", "last week")

    assert code == 2
    assert "neither an ISO date/time" in output


MINUTES = """timestamp,symbol,open,high,low,close,volume
2024-03-04T00:00:00Z,BTCUSDT,100,100,100,100,10
2024-03-04T00:01:00Z,BTCUSDT,100,100,100,100,10
2024-03-04T00:02:00Z,BTCUSDT,100,100,100,100,10
2024-03-04T00:03:00Z,BTCUSDT,100,100,93,94,500
2024-03-04T00:04:00Z,BTCUSDT,94,95,94,95,10
"""


def test_scan_finds_the_crash_and_the_volume_spike_in_a_file(tmp_path: Path) -> None:
    source = tmp_path / "btc_1m.csv"
    source.write_text(MINUTES)
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text("anomaly: {volume_window_bars: 3}\n")

    code, output = invoke(
        "anomalies", "scan", str(source), "--thresholds", str(thresholds), "--json"
    )

    scanned = json.loads(output)
    assert code == 0
    (report,) = scanned["files"]
    assert (report["kind"], report["timeframe"], report["rows"]) == ("bars", "1m", 5)
    assert report["counts"] == {"price_move": 1, "volume_spike": 1}
    move, spike = report["findings"]
    assert (move["detector"], move["at"], move["value"]) == (
        "price_move",
        "2024-03-04T00:03:00+00:00",
        0.07,  # (100 - 93) / 100 inside the bar
    )
    assert (spike["detector"], spike["value"]) == ("volume_spike", 50.0)


def test_scan_prints_a_summary_and_the_largest_findings(tmp_path: Path) -> None:
    source = tmp_path / "btc_1m.csv"
    source.write_text(MINUTES)

    code, output = invoke("anomalies", "scan", str(tmp_path), "--limit", "1")

    assert code == 0
    assert "anomaly scan (findings per detector)" in output
    assert "btc_1m.csv: 1 of 1 findings" in output  # 20-bar volume window: no spike
    assert "2024-03-04 00:03" in output


def test_scan_mistakes_are_one_clear_line(tmp_path: Path) -> None:
    bad_thresholds = tmp_path / "bad.yaml"
    bad_thresholds.write_text("anomaly: {max_trade: 3}\n")
    source = tmp_path / "btc_1m.csv"
    source.write_text(MINUTES)
    broken = tmp_path / "folder"
    broken.mkdir()
    (broken / "no_close.csv").write_text("date,symbol,open\n2024-01-02,X,1\n")

    missing_code, missing = invoke("anomalies", "scan", str(tmp_path / "nothing.csv"))
    bad_code, bad = invoke("anomalies", "scan", str(source), "--thresholds", str(bad_thresholds))
    broken_code, broken_output = invoke("anomalies", "scan", str(broken))

    assert missing_code == 2
    assert "no such file or folder" in missing
    assert bad_code == 2
    assert "unknown anomaly threshold 'max_trade' (did you mean max_trades?)" in bad
    assert broken_code == 1
    assert "failed:" in broken_output
    assert "no_close.csv" in broken_output
