"""`orchestrade replay` through the CLI on a small bar file: it trades like `backtest`,
writes the same JSON document, resumes a bot, and turns bad options into one clear line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from orchestrade.cli.main import app

runner = CliRunner()
TRADE_KEYS = ("symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty")


@pytest.fixture(scope="module")
def bars_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two US stocks, 120 daily bars of a seeded random walk in cents, one long CSV."""
    rng = np.random.default_rng(7)
    frames = []
    for symbol, start in (("AAA", 40.0), ("BBB", 120.0)):
        close = start * np.exp(np.cumsum(rng.normal(0.0005, 0.02, 120)))
        opens = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0, 0.005, 120))
        wick = np.abs(rng.normal(0, 0.01, (2, 120)))
        o, c = np.round(opens, 2), np.round(close, 2)
        frames.append(
            pd.DataFrame(
                {
                    "symbol": symbol,
                    "timestamp": pd.date_range("2024-01-02", periods=120, freq="D", tz="UTC"),
                    "open": o,
                    "high": np.maximum(np.round(np.maximum(o, c) * (1 + wick[0]), 2), o),
                    "low": np.minimum(np.round(np.minimum(o, c) * (1 - wick[1]), 2), o),
                    "close": c,
                    "volume": 1_000_000.0,
                }
            )
        )
    path = tmp_path_factory.mktemp("bars") / "bars.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def common(bars_csv: Path) -> list[str]:
    return ["--strategy", "sma_cross", "--params", "fast=5,slow=20", "--data", str(bars_csv)]


def trades(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = [tuple(trade[key] for key in TRADE_KEYS) for trade in document["trades"]]
    return sorted(rows)


class Runs:
    """One replay, the backtest of the same options, and the replay run again (same bot)."""

    def __init__(self, bars_csv: Path, folder: Path) -> None:
        args = [*common(bars_csv), "--quiet", "--bot-id", "cli-1"]
        self.output = self.run("replay", *args, "--json", str(folder / "replay.json"))
        self.run("backtest", *common(bars_csv), "--json", str(folder / "backtest.json"))
        self.again_output = self.run("replay", *args, "--json", str(folder / "again.json"))
        self.replay, self.backtest, self.again = (
            json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            for name in ("replay", "backtest", "again")
        )

    @staticmethod
    def run(*args: str) -> str:
        code, output = invoke(*args)
        assert code == 0, output
        return output


@pytest.fixture(scope="module")
def runs(bars_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    with pytest.MonkeyPatch.context() as patch:  # the module's own scratch home
        patch.setenv("ORCHESTRADE_HOME", str(tmp_path_factory.mktemp("home")))
        patch.delenv("ORCHESTRADE_STORAGE__URL", raising=False)
        return Runs(bars_csv, tmp_path_factory.mktemp("runs"))


def test_replay_trades_like_backtest_and_writes_the_same_json_document(runs: Runs) -> None:
    got, expected = runs.replay, runs.backtest

    assert set(got) >= {"metrics", "per_symbol", "trades", "timing", "parameters"}
    assert set(got["per_symbol"]) == {"AAA", "BBB"}
    assert len(got["trades"]) > 0
    assert [row[:3] + row[5:] for row in trades(got)] == [
        row[:3] + row[5:] for row in trades(expected)
    ]
    for mine, theirs in zip(trades(got), trades(expected), strict=True):
        assert mine[3:5] == pytest.approx(theirs[3:5], rel=1e-12)
    assert got["metrics"]["final_equity"] == pytest.approx(
        expected["metrics"]["final_equity"], rel=1e-9
    )
    assert got["parameters"] == {"fast": 5, "slow": 20}
    assert "replay: bot cli-1" in runs.output
    assert "240 bars" in runs.output
    assert "results JSON" in runs.output


def test_replay_trade_prices_equal_the_backtests_exactly(runs: Runs) -> None:
    assert trades(runs.replay) == trades(runs.backtest)


def test_a_bot_run_again_resumes_without_sending_an_order_twice(runs: Runs) -> None:
    assert "replayed" in runs.again_output
    assert "submitted" not in runs.again_output
    assert trades(runs.again) == trades(runs.replay)


@pytest.mark.parametrize("speed", ["fast", "0", "-1", "nan"])
def test_a_bad_speed_is_one_clear_line(bars_csv: Path, speed: str) -> None:
    code, output = invoke("replay", *common(bars_csv), "--quiet", "--speed", speed)

    assert code == 2
    assert f"--speed must be max or a number > 0, got '{speed}'" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bot-id", "my bot"], "--bot-id must be letters, digits, - and _"),
        (["--fill", "close"], "fill 'close' is not supported by the trading stack yet"),
        (["--bus", "kafka://x"], "--bus must be memory or redis://..., got 'kafka://x'"),
        (["--remote", "oracle"], "unknown agent(s) oracle"),
        (["--mode", "portfolio"], "portfolio mode is not supported by the trading stack yet"),
        (["--also", ":fast=3"], "--also needs a strategy name, got ':fast=3'"),
        (["--rebalance", "daily"], "--rebalance must be weekly or monthly, got 'daily'"),
        (["--notify", "/nonexistent/notify.yaml"], "/nonexistent/notify.yaml: cannot read"),
        (["--also", "no_such_strategy"], "no_such_strategy"),
        (["--bus", "redis://user:secret@127.0.0.1:9/0"], "cannot reach Redis at 127.0.0.1:9"),
    ],
)
def test_bad_replay_options_are_one_clear_line(
    bars_csv: Path, args: list[str], message: str
) -> None:
    code, output = invoke("replay", *common(bars_csv), "--quiet", *args)

    assert code == 2
    assert message in " ".join(output.split())
    assert "secret" not in output


def test_several_bots_replay_together_each_with_its_own_result(
    bars_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRADE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ORCHESTRADE_STORAGE__URL", raising=False)
    extra = ["--also", "sma_cross:fast=3,slow=10", "--also", "rsi_reversion"]
    code, output = invoke("replay", *common(bars_csv), "--quiet", "--bot-id", "m", *extra)
    assert code == 0, output
    assert "bots m, m-2, m-3" in output
    for title in ("sma_cross (m)", "sma_cross (m-2)", "rsi_reversion (m-3)"):
        assert f"replay: {title}" in output


def test_a_tick_file_replays_like_a_backtest_of_its_bars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`replay --ticks`: the prints go through the live aggregation; the trades equal the
    backtest of the batch bars of the same prints."""
    from orchestrade.data.resampling import ticks_to_bars
    from orchestrade.domain import Market

    monkeypatch.setenv("ORCHESTRADE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ORCHESTRADE_STORAGE__URL", raising=False)
    rng = np.random.default_rng(5)
    n = 90 * 8
    prices = 40_000 * np.exp(np.cumsum(rng.normal(0.0004, 0.006, n)))
    prints = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="3h", tz="UTC"),
            "symbol": "BTCUSDT",
            "price": np.round(prices, 2),
            "size": np.round(rng.uniform(0.01, 2.0, n), 4),
        }
    )
    ticks = tmp_path / "prints.csv"
    prints.to_csv(ticks, index=False)
    bars = tmp_path / "bars.csv"
    ticks_to_bars(prints, "1d", market=Market.CRYPTO).to_csv(bars, index=False)
    strategy = ["--strategy", "sma_cross", "--params", "fast=5,slow=15", "--market", "crypto"]
    costs = ["--min-confidence", "0", "--cash", "100000"]

    code, output = invoke(
        "replay", *strategy, *costs, "--ticks", str(ticks), "--quiet",
        "--json", str(tmp_path / "replay.json"),
    )  # fmt: skip
    assert code == 0, output
    code, output = invoke(
        "backtest", *strategy, *costs, "--data", str(bars), "--json", str(tmp_path / "bt.json")
    )
    assert code == 0, output

    replayed, expected = (
        json.loads((tmp_path / name).read_text(encoding="utf-8"))
        for name in ("replay.json", "bt.json")
    )
    assert len(expected["trades"]) > 0
    keys = ("symbol", "entry_time", "exit_time", "entry_price", "exit_price")
    assert [[t[k] for k in keys] for t in replayed["trades"]] == [
        [t[k] for k in keys] for t in expected["trades"]
    ]
    assert replayed["metrics"]["final_equity"] == pytest.approx(
        expected["metrics"]["final_equity"], rel=1e-9
    )


def test_ticks_need_a_market_and_exclude_data(bars_csv: Path, tmp_path: Path) -> None:
    ticks = tmp_path / "t.csv"
    ticks.write_text("time,symbol,price,size\n2024-01-02,A,1,1\n", encoding="utf-8")
    code, output = invoke("replay", "--strategy", "sma_cross", "--ticks", str(ticks), "--quiet")
    assert code == 2
    assert "--ticks needs --market" in " ".join(output.split())
    code, output = invoke("replay", *common(bars_csv), "--ticks", str(ticks), "--quiet")
    assert code == 2
    assert "--ticks replaces --data" in " ".join(output.split())
