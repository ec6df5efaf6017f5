"""Backtests submitted through the API, run in the background a few at a time.

A backtest takes seconds to minutes, longer than an HTTP request should wait, so the API
queues it and answers at once with a job to poll. The queue is bounded (a full one refuses
new jobs, which the API answers with 429, rather than growing without limit) and the jobs
are kept in memory, the newest `max_kept` finished ones with their results: they are gone
when the process stops, like any scratch computation.

Jobs run on worker threads: the array kernel releases the GIL, so the API keeps answering
while one runs. The engine reports no progress of its own, so a job reports its phase:
queued, loading (reading bars from the store), running (signals and simulation), then done
or failed with a one-line reason.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from orchestrade.auth import Clock
from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.results import BacktestResult
from orchestrade.data.errors import StoreError
from orchestrade.data.files import infer_instrument_kind
from orchestrade.domain import Market, OrchestradeError
from orchestrade.storage.store import Store
from orchestrade.strategies import StrategySpec

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 1
DEFAULT_MAX_PENDING = 4
"""Jobs queued or running at once; one more is refused."""
DEFAULT_MAX_KEPT = 20
"""Finished jobs (and their results) kept; the oldest go first."""


class JobPhase(StrEnum):
    """Where a backtest job is."""

    QUEUED = "queued"
    LOADING = "loading"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """True when the job will not change any more."""
        return self in (JobPhase.DONE, JobPhase.FAILED)


class BacktestQueueFullError(OrchestradeError):
    """As many jobs as allowed are queued or running: try again later."""


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    """One backtest to run: a checked strategy and its parameters over stored bars, with
    the costs of `orchestrade.backtest.engine.Backtest` (same names, same meanings).

    `symbols` empty means every stored symbol (of `market`, when given).
    """

    strategy: StrategySpec
    params: Mapping[str, Any] = field(default_factory=dict)
    symbols: tuple[str, ...] = ()
    start: datetime | date | None = None
    end: datetime | date | None = None
    timeframe: str = "1d"
    market: Market | None = None
    cash: float = 10_000_000.0
    fees: float = 0.001
    fee_min: float = 0.0
    tax: float | None = None
    slippage_bps: float = 0.0
    participation: float | None = None
    latency_bars: int = 0
    mode: Literal["isolated", "portfolio"] = "isolated"
    fill: Literal["next_open", "close"] = "next_open"
    min_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class BacktestJob:
    """What is known of one job: its request, phase, times, and its result once done."""

    job_id: str
    spec: BacktestSpec
    phase: JobPhase
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    result: BacktestResult | None = None


PhaseReporter = Callable[[JobPhase], None]
BacktestRunner = Callable[[BacktestSpec, PhaseReporter], BacktestResult]
"""Runs one backtest, reporting the phases it reaches (loading is where it starts)."""


@dataclass(frozen=True, slots=True)
class StoreBacktestRunner:
    """Runs a `BacktestSpec` over the bars of the store, the way `orchestrade backtest`
    does with its default data (markets and product kinds from the stored instruments)."""

    store: Store

    def __call__(self, spec: BacktestSpec, report: PhaseReporter) -> BacktestResult:
        started = time.perf_counter()
        loaded = self.store.load_bars(
            list(spec.symbols) or None, spec.start, spec.end, spec.timeframe, market=spec.market
        )
        known = {
            info.symbol: info
            for info in self.store.list_instruments(spec.market)
            if info.symbol in loaded.panel.symbols
        }
        load_seconds = time.perf_counter() - started
        report(JobPhase.RUNNING)
        engine = Backtest(
            loaded.panel,
            spec.strategy,
            cash=spec.cash,
            fees=spec.fees,
            fee_min=spec.fee_min,
            tax=spec.tax,
            slippage_bps=spec.slippage_bps,
            participation=spec.participation,
            latency_bars=spec.latency_bars,
            mode=spec.mode,
            fill=spec.fill,
            min_confidence=spec.min_confidence,
            market=spec.market,
            markets={symbol: info.market for symbol, info in known.items()},
            kinds={
                symbol: infer_instrument_kind(symbol, info.market, info.name)
                for symbol, info in known.items()
            },
            load_seconds=load_seconds,
        )
        return engine.run(**spec.params)


class BacktestJobs:
    """The queue of backtest jobs and the worker threads that run them.

    Args:
        runner: runs one job (`StoreBacktestRunner` in the app; tests may pass their own).
        clock: aware UTC now, for the jobs' times.
        workers: jobs run at the same time.
        max_pending: jobs queued or running at once; `submit` refuses one more.
        max_kept: finished jobs kept; the oldest are forgotten first.
    """

    def __init__(
        self,
        runner: BacktestRunner,
        *,
        clock: Clock,
        workers: int = DEFAULT_WORKERS,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_kept: int = DEFAULT_MAX_KEPT,
    ) -> None:
        for name, value in (
            ("workers", workers),
            ("max_pending", max_pending),
            ("max_kept", max_kept),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        self._runner = runner
        self._clock = clock
        self._max_pending = max_pending
        self._max_kept = max_kept
        self._jobs: OrderedDict[str, BacktestJob] = OrderedDict()
        self._changed = threading.Condition()
        self._numbers = itertools.count(1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backtest")
        self._closed = False

    @property
    def max_pending(self) -> int:
        """Jobs queued or running at once."""
        return self._max_pending

    def submit(self, spec: BacktestSpec) -> BacktestJob:
        """Queue `spec` and return its job (queued).

        Raises:
            BacktestQueueFullError: `max_pending` jobs are queued or running already.
            RuntimeError: the runner was closed.
        """
        with self._changed:
            if self._closed:
                raise RuntimeError("the backtest runner is closed")
            pending = sum(not job.phase.finished for job in self._jobs.values())
            if pending >= self._max_pending:
                raise BacktestQueueFullError(
                    f"{pending} backtests are queued or running, the most allowed; "
                    "try again when one has finished"
                )
            job = BacktestJob(
                job_id=f"bt-{next(self._numbers)}",
                spec=spec,
                phase=JobPhase.QUEUED,
                submitted_at=self._clock(),
            )
            self._jobs[job.job_id] = job
        self._pool.submit(self._work, job.job_id)
        return job

    def job(self, job_id: str) -> BacktestJob | None:
        """The job, or None (never submitted, or forgotten)."""
        with self._changed:
            return self._jobs.get(job_id)

    def jobs(self) -> list[BacktestJob]:
        """Every kept job, newest first."""
        with self._changed:
            return list(reversed(self._jobs.values()))

    def wait(self, job_id: str, timeout_s: float) -> BacktestJob | None:
        """The job once finished, or as it is after `timeout_s` seconds (None: unknown)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                job = self._jobs.get(job_id)
                if job is None or job.phase.finished:
                    return job
                left = deadline - time.monotonic()
                if left <= 0:
                    return job
                self._changed.wait(left)

    def close(self) -> None:
        """Refuse new jobs and drop the queued ones; a running one finishes in its thread."""
        with self._changed:
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _work(self, job_id: str) -> None:
        self._update(job_id, phase=JobPhase.LOADING, started_at=self._clock())
        spec = self._jobs[job_id].spec
        try:
            result = self._runner(spec, lambda phase: self._update(job_id, phase=phase))
        except StoreError as error:
            # The driver's words may name hosts: the log gets them, the job a sentence.
            log.error("backtest %s: database error: %s", job_id, error)
            self._finish(job_id, error="the database is unavailable")
        except OrchestradeError as error:
            self._finish(job_id, error=str(error))
        except Exception:
            # Boundary: the worker thread must record every failure, never die silently.
            log.exception("backtest %s failed", job_id)
            self._finish(job_id, error="internal error (the server log has the details)")
        else:
            self._finish(job_id, result=result)

    def _finish(
        self, job_id: str, *, result: BacktestResult | None = None, error: str | None = None
    ) -> None:
        phase = JobPhase.DONE if error is None else JobPhase.FAILED
        self._update(job_id, phase=phase, finished_at=self._clock(), result=result, error=error)
        with self._changed:
            finished = [job.job_id for job in self._jobs.values() if job.phase.finished]
            for old in finished[: max(0, len(finished) - self._max_kept)]:
                del self._jobs[old]

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._changed:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)
            self._changed.notify_all()
