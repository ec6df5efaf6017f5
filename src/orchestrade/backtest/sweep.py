"""Parameter sweeps and walk-forward analysis over one `Backtest`.

A sweep scores every parameter set of a grid by one whole-account metric. The local
executor forks one worker per core: the workers inherit the loaded bars and the compiled
kernel from the parent (which runs the first combination itself, so compilation happens
once), and send back only parameters and metrics. The Ray executor puts the backtest in
Ray's object store once and runs chunks of the grid as Ray tasks, on a local Ray started
for the sweep (all cores) or on the cluster at `address` (whose workers must have
orchestrade installed, `pip install orchestrade[ray]`).

Walk-forward with TRAIN:TEST bars: fold k trains on bars [k*TEST, k*TEST + TRAIN) (the
best parameters by the metric there) and is scored out of sample on the next TEST bars.
Signals and positions in the test window may use the bars before it, as they could have
live; the scores count only the test window's equity and the trades closed in it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.metrics import Metrics

Params = dict[str, Any]
Progress = Callable[[int, int], None]
"""Called with (done, total) after each finished combination."""

_FORKED: Backtest | None = None  # the backtest a forked worker evaluates (set before forking)


@dataclass(frozen=True, slots=True)
class SweepRun:
    """One parameter set and the metrics it scored."""

    params: Params
    metrics: dict[str, Any]

    def score(self, metric: str) -> float:
        """The metric as a float; missing, NaN or None sorts last."""
        value = self.metrics.get(metric)
        return (
            float(value) if isinstance(value, int | float) and math.isfinite(value) else -math.inf
        )


@dataclass(frozen=True, slots=True)
class WalkForwardFold:
    """One train/test split: the parameters chosen in sample and their out-of-sample score."""

    train: tuple[str, str]
    test: tuple[str, str]
    best_params: Params
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """Every scored combination, best first, and the walk-forward folds if asked for."""

    metric: str
    runs: tuple[SweepRun, ...]
    seconds: float
    executor: str
    folds: tuple[WalkForwardFold, ...] = field(default=())

    @property
    def best(self) -> SweepRun:
        """The combination with the highest metric."""
        return self.runs[0]

    def top(self, count: int) -> tuple[SweepRun, ...]:
        """The `count` best combinations."""
        return self.runs[:count]

    def out_of_sample_summary(self) -> dict[str, float | None]:
        """Mean and median of the metric over the folds' test windows."""
        values = [
            float(fold.out_of_sample[self.metric])
            for fold in self.folds
            if isinstance(fold.out_of_sample.get(self.metric), int | float)
        ]
        if not values:
            return {"mean": None, "median": None, "folds": len(self.folds)}
        return {
            "mean": float(np.mean(values)),
            "median": float(np.median(values)),
            "folds": len(self.folds),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metric": self.metric,
            "executor": self.executor,
            "seconds": self.seconds,
            "best": {"params": self.best.params, "metrics": self.best.metrics},
            "runs": [{"params": run.params, "metrics": run.metrics} for run in self.runs],
            "walk_forward": [
                {
                    "train": list(fold.train),
                    "test": list(fold.test),
                    "best_params": fold.best_params,
                    "in_sample": fold.in_sample,
                    "out_of_sample": fold.out_of_sample,
                }
                for fold in self.folds
            ],
            "out_of_sample": self.out_of_sample_summary() if self.folds else None,
        }


def run_sweep(
    backtest: Backtest,
    grid: Sequence[Params],
    *,
    metric: str = "sharpe_ratio",
    executor: str = "local",
    workers: int | None = None,
    walk_forward: tuple[int, int] | None = None,
    progress: Progress | None = None,
    address: str | None = None,
) -> SweepResult:
    """Score every parameter set of `grid`; with `walk_forward`, also run the folds.

    Args:
        executor: "local" (forked processes, one per core or `workers`) or "ray".
        address: the Ray cluster to join ("auto", "ray://host:10001", ...); None starts a
            local Ray for the sweep and stops it afterwards.

    Raises:
        InputError: an empty grid, an unknown metric or executor, folds that do not fit,
            or Ray asked for but not installed.
    """
    if not grid:
        raise InputError("the parameter grid is empty")
    if metric not in Metrics.__dataclass_fields__:
        known = ", ".join(Metrics.__dataclass_fields__)
        raise InputError(f"unknown metric {metric!r}; choose one of {known}")
    if executor not in ("local", "ray"):
        raise InputError(f"executor must be local or ray, got {executor!r}")
    if walk_forward is not None:
        _require_room(walk_forward, len(backtest.bars.panel.timestamps))
    started = time.perf_counter()
    with _executor(executor, backtest, workers, address) as score:
        scored = score(list(grid), None, progress)
        runs = tuple(sorted(scored, key=lambda run: run.score(metric), reverse=True))
        folds: tuple[WalkForwardFold, ...] = ()
        if walk_forward is not None:
            folds = tuple(_walk_forward(backtest, list(grid), metric, walk_forward, score))
    return SweepResult(metric, runs, time.perf_counter() - started, executor, folds)


def parse_walk_forward(text: str) -> tuple[int, int]:
    """`500:100` -> (train bars, test bars)."""
    train, sep, test = text.partition(":")
    try:
        sizes = (int(train), int(test))
    except ValueError:
        sizes = (0, 0)
    if not sep or min(sizes) < 1:
        raise InputError(f"--walk-forward must be TRAIN:TEST bar counts like 500:100, got {text!r}")
    return sizes


Scorer = Callable[[list[Params], tuple[int, int] | None, Progress | None], list[SweepRun]]
"""Evaluates a grid (over a bar window) and reports progress."""


@contextmanager
def _executor(
    kind: str, backtest: Backtest, workers: int | None, address: str | None
) -> Iterator[Scorer]:
    if kind == "local":
        yield lambda grid, window, progress: _score_all(backtest, grid, window, workers, progress)
        return
    try:
        import ray
    except ImportError:
        raise InputError("the ray executor needs Ray: pip install 'orchestrade[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=workers if address is None else None,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    try:
        shared = ray.put(backtest)
        remote = ray.remote(_evaluate_remote)
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        count = max(1, int(resources.get("CPU", 1)))

        def score(
            grid: list[Params], window: tuple[int, int] | None, progress: Progress | None
        ) -> list[SweepRun]:
            pending = [remote.remote(shared, chunk, window) for chunk in _chunks(grid, count * 4)]
            results: list[SweepRun] = []
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                results.extend(ray.get(done[0]))
                if progress is not None:
                    progress(len(results), len(grid))
            return results

        yield score
    finally:
        if started_here:
            ray.shutdown()


def _evaluate_remote(
    backtest: Backtest, chunk: list[Params], window: tuple[int, int] | None
) -> list[SweepRun]:
    """A Ray task: score one chunk of the grid on the backtest from the object store."""
    return [SweepRun(params, backtest.evaluate(window, **params).to_dict()) for params in chunk]


def _walk_forward(
    backtest: Backtest,
    grid: list[Params],
    metric: str,
    sizes: tuple[int, int],
    score: Scorer,
) -> Iterator[WalkForwardFold]:
    train, test = sizes
    times = backtest.bars.panel.timestamps
    for start in range(0, len(times) - train - test + 1, test):
        in_window = (start, start + train)
        out_window = (start + train, start + train + test)
        scored = score(grid, in_window, None)
        best = max(scored, key=lambda run: run.score(metric))
        outside = backtest.evaluate(out_window, **best.params).to_dict()
        yield WalkForwardFold(
            train=_span(times, in_window),
            test=_span(times, out_window),
            best_params=best.params,
            in_sample=best.metrics,
            out_of_sample=outside,
        )


def _score_all(
    backtest: Backtest,
    grid: list[Params],
    window: tuple[int, int] | None,
    workers: int | None,
    progress: Progress | None,
) -> list[SweepRun]:
    """Evaluate the grid: the first combination here (compiles once), the rest in workers."""
    first = SweepRun(grid[0], backtest.evaluate(window, **grid[0]).to_dict())
    results = [first]
    if progress is not None:
        progress(1, len(grid))
    rest = grid[1:]
    count = workers or os.cpu_count() or 1
    if not rest:
        return results
    if count <= 1 or len(rest) < 2:
        for params in rest:
            results.append(SweepRun(params, backtest.evaluate(window, **params).to_dict()))
            if progress is not None:
                progress(len(results), len(grid))
        return results
    global _FORKED
    _FORKED = backtest
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            chunks = _chunks(rest, count * 4)
            for batch in pool.map(_evaluate_chunk, [(chunk, window) for chunk in chunks]):
                results.extend(batch)
                if progress is not None:
                    progress(len(results), len(grid))
    finally:
        _FORKED = None
    return results


def _evaluate_chunk(job: tuple[list[Params], tuple[int, int] | None]) -> list[SweepRun]:
    chunk, window = job
    if _FORKED is None:  # pragma: no cover - only reachable if the pool does not fork
        raise InputError("sweep worker started without a backtest")
    return [SweepRun(params, _FORKED.evaluate(window, **params).to_dict()) for params in chunk]


def _require_room(sizes: tuple[int, int], bars: int) -> None:
    """Refuse folds that do not fit before any combination is scored."""
    train, test = sizes
    if train + test > bars:
        raise InputError(
            f"walk-forward {train}:{test} needs {train + test} bars, the data has {bars}"
        )


def _chunks(items: list[Params], parts: int) -> list[list[Params]]:
    size = max(1, math.ceil(len(items) / parts))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _span(times: np.ndarray, window: tuple[int, int]) -> tuple[str, str]:
    first, last = window
    return (
        str(np.datetime_as_string(times[first], unit="s")) + "Z",
        str(np.datetime_as_string(times[last - 1], unit="s")) + "Z",
    )
