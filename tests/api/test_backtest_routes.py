"""Backtests through the API over bars in the store: the result is the engine's, digit for
digit, with the request's costs; the status walks its phases; mistakes are 4xx at once."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from fakes.orders import FakeClock
from orchestrade.api.backtest_jobs import BacktestJobs, BacktestSpec, JobPhase, PhaseReporter
from orchestrade.auth import Role
from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.results import BacktestResult
from orchestrade.data.files import BAR_COLUMNS, InstrumentInfo
from orchestrade.domain import InstrumentKind, Market
from orchestrade.storage import Store

from .conftest import NAMES, PASSWORDS, Api, build_api
from .test_errors import assert_error

WAIT_S = 60.0
"""A safety net against a hung test, never an expectation of speed."""
SYMBOLS = ("005930", "069500")
BACKTESTS = "/api/v1/backtests"


def store_bars(store: Store) -> None:
    """120 daily bars of two KRX symbols on offset waves (a stock and an ETF, which pays no
    sell tax: the runner must tell them apart by the stored name)."""
    days = pd.date_range("2024-01-01", periods=120, freq="D", tz="UTC")
    rows = []
    for symbol, phase in zip(SYMBOLS, (0.0, 1.5), strict=True):
        for index, time in enumerate(days):
            close = 100 + 12 * math.sin(index / 6 + phase) + 0.05 * index
            rows.append((symbol, time, close * 0.995, close * 1.01, close * 0.985, close, 1e6))
    infos = {
        "005930": InstrumentInfo("005930", Market.KRX, "KRX", "KRW", "Samsung Electronics"),
        "069500": InstrumentInfo("069500", Market.KRX, "KRX", "KRW", "KODEX 200"),
    }
    with store.transaction() as transaction:
        transaction.bars.upsert_bars(pd.DataFrame(rows, columns=list(BAR_COLUMNS)), infos, "1d")


def submit(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"strategy": "sma_cross", "params": {"fast": 3, "slow": 8}, **fields}
    response = api.client.post(BACKTESTS, json=body, headers=api.headers(Role.TRADER))
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def without_timing(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "timing"}


def test_a_backtest_runs_in_the_background_and_its_result_is_the_engine_s(api: Api) -> None:
    store_bars(api.store)
    viewer = api.headers(Role.VIEWER)

    queued = submit(api, symbols=list(SYMBOLS), fees=0.0015, slippage_bps=5, cash=5_000_000)
    api.context.backtests.wait(queued["job_id"], WAIT_S)
    status = api.client.get(f"{BACKTESTS}/{queued['job_id']}", headers=viewer).json()
    result = api.client.get(f"{BACKTESTS}/{queued['job_id']}/result", headers=viewer)
    listed = api.client.get(BACKTESTS, headers=viewer).json()

    assert queued == {
        "job_id": "bt-1",
        "status": "queued",
        "strategy": "sma_cross",
        "params": {"fast": 3, "slow": 8},
        "symbols": list(SYMBOLS),
        "submitted_at": "2024-01-02T00:00:00Z",
        "started_at": None,
        "finished_at": None,
        "error": None,
        "bars": None,
    }
    assert status["status"] == "done", status
    assert status["bars"] == 240  # 120 days of 2 symbols
    assert status["error"] is None
    assert status["started_at"] == status["finished_at"] == "2024-01-02T00:00:00Z"
    assert listed == [status]
    reference = Backtest(
        api.store.load_bars(list(SYMBOLS)).panel,
        "sma_cross",
        cash=5_000_000,
        fees=0.0015,
        slippage_bps=5,
        markets=dict.fromkeys(SYMBOLS, Market.KRX),
        kinds={"005930": InstrumentKind.STOCK, "069500": InstrumentKind.ETF},
    ).run(fast=3, slow=8)
    body = result.json()
    assert without_timing(body) == without_timing(reference.to_dict())
    assert body["timing"]["bars"] == 240
    assert body["metrics"]["trades"] == reference.metrics["trades"]
    assert body["metrics"]["trades"] > 0
    assert body["settings"]["fees"] == 0.0015
    assert body["settings"]["sell_tax"] == [0.0, 0.002]


def test_the_html_report_of_a_finished_backtest(api: Api) -> None:
    store_bars(api.store)
    job = submit(api, symbols=["005930"])
    api.context.backtests.wait(job["job_id"], WAIT_S)

    report = api.client.get(f"{BACKTESTS}/{job['job_id']}/report", headers=api.headers(Role.VIEWER))

    assert report.status_code == 200
    assert report.headers["content-type"] == "text/html; charset=utf-8"
    assert report.text.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>Backtest bt-1: sma_cross</title>" in report.text
    assert "plotly" in report.text.lower()


def test_every_stored_symbol_by_default_and_the_request_s_dates(api: Api) -> None:
    store_bars(api.store)

    job = submit(api, start="2024-02-01", end="2024-03-01T00:00:00Z", fill="close")
    done = api.context.backtests.wait(job["job_id"], WAIT_S)

    assert done is not None
    assert done.phase is JobPhase.DONE, done.error
    assert done.spec.symbols == ()
    assert done.result is not None
    assert done.result.timing["bars"] == 2 * 30  # Feb 1 .. Mar 1 inclusive (2024 is leap)
    assert sorted(done.result.per_symbol) == list(SYMBOLS)
    assert done.result.settings["fill"] == "close"


def test_a_backtest_that_fails_says_why_and_has_no_result(api: Api) -> None:
    store_bars(api.store)
    viewer = api.headers(Role.VIEWER)

    job = submit(api, timeframe="1h")
    api.context.backtests.wait(job["job_id"], WAIT_S)
    status = api.client.get(f"{BACKTESTS}/{job['job_id']}", headers=viewer).json()
    result = api.client.get(f"{BACKTESTS}/{job['job_id']}/result", headers=viewer)
    report = api.client.get(f"{BACKTESTS}/{job['job_id']}/report", headers=viewer)

    assert status["status"] == "failed"
    assert status["error"] == "the data holds no bars to backtest"
    assert assert_error(result, 409, "backtest_failed") == (
        "backtest bt-1 failed: the data holds no bars to backtest"
    )
    assert_error(report, 409, "backtest_failed")


def test_bad_backtest_requests_are_422_before_anything_runs(api: Api) -> None:
    store_bars(api.store)
    trader = api.headers(Role.TRADER)

    def refused(**fields: Any) -> str:
        body = {"strategy": "sma_cross", **fields}
        response = api.client.post(BACKTESTS, json=body, headers=trader)
        return assert_error(response, 422, "invalid_request")

    assert refused(params={"fast": 1}).startswith("body.params: ")
    assert refused(params={"fastt": 3}) == (
        "body.params: strategy 'sma_cross' has no parameter 'fastt'; did you mean 'fast'? "
        "(valid: fast, slow)"
    )
    assert refused(symbols=["005930", "999999"]) == ("body.symbols: no bars are stored for 999999")
    assert refused(symbols=["005930"], market="us") == (
        "body.symbols: no bars are stored for 005930 of market us"
    )
    assert refused(strategy="../../etc/passwd").startswith(
        "body.strategy: Value error, $: no built-in strategy '../../etc/passwd'"
    )
    assert refused(fees=1.5) == "body.fees: Input should be less than 1"
    assert refused(mode="hedged").startswith("body.mode: Input should be 'isolated' or 'portfolio'")
    assert refused(start="2024-01-01T09:00:00").startswith("body.start.")
    assert api.context.backtests.jobs() == []


def test_unknown_jobs_are_404(api: Api) -> None:
    viewer = api.headers(Role.VIEWER)

    for suffix in ("", "/result", "/report"):
        response = api.client.get(f"{BACKTESTS}/bt-404{suffix}", headers=viewer)
        assert assert_error(response, 404, "not_found") == (
            "no backtest job 'bt-404' (finished jobs are kept a while only)"
        )


class GatedRunner:
    """Stops in its running phase until `gate` is set."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.gate = threading.Event()
        self.result: BacktestResult | None = None

    def __call__(self, spec: BacktestSpec, report: PhaseReporter) -> BacktestResult:
        report(JobPhase.RUNNING)
        self.running.set()
        assert self.gate.wait(WAIT_S)
        assert self.result is not None
        return self.result


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[TestClient, GatedRunner, BacktestJobs]]:
    """An API whose one-slot backtest queue runs a gated runner."""
    runner = GatedRunner()
    jobs = BacktestJobs(runner, clock=FakeClock(), max_pending=1)
    app, store = build_api(tmp_path, backtest_jobs=jobs)
    store_bars(store)
    try:
        with store, TestClient(app, raise_server_exceptions=False) as client:
            yield client, runner, jobs
    finally:
        runner.gate.set()
        jobs.close()


def test_while_running_the_status_says_so_and_a_full_queue_is_429(
    gated: tuple[TestClient, GatedRunner, BacktestJobs],
) -> None:
    client, runner, jobs = gated
    token = client.post(
        "/api/v1/auth/login",
        json={"username": NAMES[Role.TRADER], "password": PASSWORDS[Role.TRADER]},
    ).json()["access_token"]
    trader = {"Authorization": f"Bearer {token}"}
    body = {"strategy": "sma_cross"}

    first = client.post(BACKTESTS, json=body, headers=trader).json()
    assert runner.running.wait(WAIT_S)
    status = client.get(f"{BACKTESTS}/{first['job_id']}", headers=trader).json()
    early = client.get(f"{BACKTESTS}/{first['job_id']}/result", headers=trader)
    full = client.post(BACKTESTS, json=body, headers=trader)

    assert status["status"] == "running"
    assert status["started_at"] == "2024-01-02T00:00:00Z"
    assert assert_error(early, 409, "not_finished") == "backtest bt-1 is running, not done yet"
    assert assert_error(full, 429, "queue_full") == (
        "1 backtests are queued or running, the most allowed; try again when one has finished"
    )
    assert full.headers["Retry-After"] == "5"
    assert len(jobs.jobs()) == 1
