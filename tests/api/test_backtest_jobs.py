"""The backtest job queue: phases in order, a bounded queue, a bounded memory of finished
jobs, and failures recorded as one line (never lost with the worker thread).

The runners here are gated by events, so every step is waited for, never timed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from fakes.orders import T0, FakeClock
from orchestrade.api.backtest_jobs import (
    BacktestJobs,
    BacktestQueueFullError,
    BacktestSpec,
    JobPhase,
    PhaseReporter,
)
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.results import BacktestResult
from orchestrade.data.errors import StoreError
from orchestrade.strategies import builtin_spec

WAIT_S = 30.0
"""A safety net against a hung test, never an expectation of speed."""
SPEC = BacktestSpec(strategy=builtin_spec("sma_cross"))


class GatedRunner:
    """A runner that stops in its running phase until `release` (or raises `error`)."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.gate = threading.Event()
        self.error: Exception | None = None
        self.result: BacktestResult | None = None
        self.specs: list[BacktestSpec] = []

    def __call__(self, spec: BacktestSpec, report: PhaseReporter) -> BacktestResult:
        self.specs.append(spec)
        report(JobPhase.RUNNING)
        self.running.set()
        assert self.gate.wait(WAIT_S), "the test never released the runner"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


@pytest.fixture
def runner() -> Iterator[GatedRunner]:
    runner = GatedRunner()
    yield runner
    runner.gate.set()  # no worker may outlive its test


def jobs_of(runner: GatedRunner, **options: int) -> BacktestJobs:
    return BacktestJobs(runner, clock=FakeClock(), **options)


def finished_result() -> BacktestResult:
    """A stand-in result: the queue only hands it over (the route tests use real ones)."""
    return BacktestResult.__new__(BacktestResult)


def test_a_job_goes_queued_running_done_with_its_times(runner: GatedRunner) -> None:
    clock = FakeClock()
    jobs = BacktestJobs(runner, clock=clock)
    runner.result = finished_result()

    job = jobs.submit(SPEC)
    assert runner.running.wait(WAIT_S)
    running = jobs.job(job.job_id)
    clock.advance(90)
    runner.gate.set()
    done = jobs.wait(job.job_id, WAIT_S)

    assert job.phase is JobPhase.QUEUED
    assert job.job_id == "bt-1"
    assert running is not None
    assert running.phase is JobPhase.RUNNING
    assert running.started_at == job.submitted_at == T0
    assert running.finished_at is None
    assert done is not None
    assert done.phase is JobPhase.DONE
    assert done.result is runner.result
    assert done.error is None
    assert (done.finished_at - done.submitted_at).total_seconds() == 90  # type: ignore[operator]
    assert runner.specs == [SPEC]
    jobs.close()


def test_a_full_queue_refuses_one_more_job(runner: GatedRunner) -> None:
    jobs = jobs_of(runner, max_pending=2)
    runner.result = finished_result()

    first = jobs.submit(SPEC)
    second = jobs.submit(SPEC)
    assert runner.running.wait(WAIT_S)
    with pytest.raises(BacktestQueueFullError) as refused:
        jobs.submit(SPEC)
    waiting = jobs.job(second.job_id)
    runner.gate.set()
    jobs.wait(first.job_id, WAIT_S)
    jobs.wait(second.job_id, WAIT_S)
    third = jobs.submit(SPEC)  # room again

    assert str(refused.value) == (
        "2 backtests are queued or running, the most allowed; try again when one has finished"
    )
    assert waiting is not None
    assert waiting.phase is JobPhase.QUEUED  # one worker: the second waits its turn
    assert [job.job_id for job in jobs.jobs()] == ["bt-3", "bt-2", "bt-1"]
    assert third.job_id == "bt-3"  # a refused job took no number
    jobs.wait(third.job_id, WAIT_S)
    jobs.close()


def test_only_the_newest_finished_jobs_are_kept(runner: GatedRunner) -> None:
    jobs = jobs_of(runner, max_kept=2)
    runner.result = finished_result()
    runner.gate.set()

    for _ in range(4):
        job = jobs.submit(SPEC)
        jobs.wait(job.job_id, WAIT_S)

    assert [job.job_id for job in jobs.jobs()] == ["bt-4", "bt-3"]
    assert jobs.job("bt-1") is None
    jobs.close()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (InputError("window (5, 3) is outside the 4 bars"), "window (5, 3) is outside the 4 bars"),
        (
            StoreError("database error (postgresql://ot@db.internal/prod): reset"),
            "the database is unavailable",
        ),
        (
            ZeroDivisionError("float division by zero"),
            "internal error (the server log has the details)",
        ),
    ],
)
def test_a_failure_is_recorded_as_one_line(
    runner: GatedRunner, error: Exception, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = jobs_of(runner)
    runner.error = error
    runner.gate.set()

    with caplog.at_level(logging.ERROR, logger="orchestrade.api.backtest_jobs"):
        job = jobs.submit(SPEC)
        failed = jobs.wait(job.job_id, WAIT_S)

    assert failed is not None
    assert failed.phase is JobPhase.FAILED
    assert failed.error == message
    assert failed.result is None
    assert failed.finished_at is not None
    if isinstance(error, ZeroDivisionError):
        assert "Traceback" in caplog.text
    jobs.close()


def test_a_closed_queue_refuses_jobs(runner: GatedRunner) -> None:
    jobs = jobs_of(runner)
    jobs.close()

    with pytest.raises(RuntimeError, match="the backtest runner is closed"):
        jobs.submit(SPEC)


@pytest.mark.parametrize("option", ["workers", "max_pending", "max_kept"])
def test_bounds_must_be_positive_ints(runner: GatedRunner, option: str) -> None:
    with pytest.raises(ValueError, match=f"{option} must be an int >= 1, got 0"):
        jobs_of(runner, **{option: 0})
