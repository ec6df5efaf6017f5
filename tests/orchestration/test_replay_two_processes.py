"""Agents in two processes over Redis trade exactly like one process on the in-process bus.

The execution agent (OMS + paper broker) runs in a child process (`orchestrade agent run
execution`); data, strategy, orchestrator, risk and portfolio run here on the Redis bus.
The trades and the final equity must equal a one-process replay of the same options.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orchestrade.backtest.engine import Backtest
from orchestrade.bus.redis_streams import RedisStreamsBus
from orchestrade.orchestration.runtime import replay

TRADE_KEYS = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]


@pytest.fixture
def bars_file(tmp_path: Path) -> Path:
    """A year of a trending, noisy KRX-like daily series (prices on the KRX tick grid)."""
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2021-01-04", periods=260)
    close = 50_000 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, days.size)))
    close = np.round(close / 100) * 100
    open_ = np.round(close * (1 + rng.normal(0, 0.004, days.size)) / 100) * 100
    high = np.maximum(open_, close) + 100
    low = np.minimum(open_, close) - 100
    frame = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(100_000, 500_000, days.size),
        }
    )
    path = tmp_path / "005930.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def execution_process(redis_url: str, bars_file: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`orchestrade agent run execution` in a child process; yields (bot id, database URL)."""
    bot = f"two-{uuid.uuid4().hex[:8]}"
    database = f"sqlite:///{tmp_path / 'app.db'}"
    env = {**os.environ, "ORCHESTRADE_HOME": str(tmp_path / "child-home")}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrade.cli.main",
            "agent",
            "run",
            "execution",
            *_options(bars_file),
            "--bus",
            redis_url,
            "--bot-id",
            bot,
            "--db",
            database,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield bot, database
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            output, _ = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
        _delete_keys(redis_url, f"orchestrade:{bot}")
        assert child.returncode == 0, output


def test_two_process_replay_trades_like_one_process(
    execution_process: tuple[str, str], bars_file: Path, redis_url: str, tmp_path: Path
) -> None:
    bot, database = execution_process
    one = replay(
        _backtest(bars_file),
        database_url=f"sqlite:///{tmp_path / 'one.db'}",
        broker_path=tmp_path / "one-broker.db",
        bot_id="one-process",
    ).require_result()

    bus = RedisStreamsBus(redis_url, prefix=f"orchestrade:{bot}", name=f"main-{bot}")
    started = time.perf_counter()
    two = replay(
        _backtest(bars_file),
        database_url=database,
        broker_path=tmp_path / "unused-broker.db",  # the child process owns the broker
        bot_id=bot,
        bus=bus,
        remote=["execution"],
    ).require_result()

    assert len(one.trades) > 0
    pd.testing.assert_frame_equal(_trades(two.trades), _trades(one.trades), check_exact=True)
    np.testing.assert_allclose(
        two.equity.iloc[-1].to_numpy(), one.equity.iloc[-1].to_numpy(), rtol=1e-9
    )
    assert time.perf_counter() - started < 120


def _backtest(path: Path) -> Backtest:
    return Backtest([path], "sma_cross", cash=10_000_000.0, fees=0.001, min_confidence=0.0)


def _options(path: Path) -> list[str]:
    return [
        "--strategy",
        "sma_cross",
        "--data",
        str(path),
        "--fee",
        "0.001",
        "--min-confidence",
        "0",
    ]


def _trades(trades: pd.DataFrame) -> pd.DataFrame:
    return trades.loc[:, TRADE_KEYS].sort_values(["symbol", "entry_time"]).reset_index(drop=True)


def _delete_keys(url: str, prefix: str) -> None:
    import redis

    client: Any = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()
