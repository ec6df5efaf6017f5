"""Backtests as background jobs: submit (traders), poll the status, fetch the results as
JSON or as the HTML report.

A request is checked before it is queued (strategy, parameters, symbols), so a mistake is
a 422 at once rather than a failed job later; a full queue is a 429.
"""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import HTMLResponse

from orchestrade.api.backtest_jobs import BacktestJob, BacktestQueueFullError, JobPhase
from orchestrade.api.deps import ApiContext, Context
from orchestrade.api.errors import ApiError
from orchestrade.api.routers import API_PREFIX
from orchestrade.api.schemas.backtests import BacktestIn, BacktestJobOut, BacktestResultOut
from orchestrade.api.schemas.errors import error_responses
from orchestrade.api.security import TraderUser, ViewerUser
from orchestrade.backtest.results import BacktestResult
from orchestrade.strategies.errors import StrategyError

router = APIRouter(
    prefix=f"{API_PREFIX}/backtests", tags=["backtests"], responses=error_responses(401)
)
JobId = Annotated[str, Path(min_length=1, max_length=40)]
RETRY_AFTER_S = 5


@router.post("", status_code=202, responses=error_responses(403, 422, 429))
def submit_backtest(body: BacktestIn, user: TraderUser, context: Context) -> BacktestJobOut:
    """Queue a backtest; poll GET /backtests/{job_id} until it is done or failed."""
    spec = body.to_spec()  # the strategy itself was checked with the body
    try:
        spec.strategy.with_params(**spec.params)
    except StrategyError as error:
        raise ApiError(422, "invalid_request", f"body.params: {error}") from None
    if spec.symbols:
        stored = {info.symbol for info in context.store.list_instruments(spec.market)}
        unknown = [symbol for symbol in spec.symbols if symbol not in stored]
        if unknown:
            where = f" of market {spec.market}" if spec.market is not None else ""
            raise ApiError(
                422,
                "invalid_request",
                f"body.symbols: no bars are stored for {', '.join(unknown)}{where}",
            )
    try:
        job = context.backtests.submit(spec)
    except BacktestQueueFullError as error:
        raise ApiError(
            429, "queue_full", str(error), headers={"Retry-After": str(RETRY_AFTER_S)}
        ) from None
    return BacktestJobOut.of(job)


@router.get("")
def list_backtests(user: ViewerUser, context: Context) -> list[BacktestJobOut]:
    """The jobs kept in memory (the latest finished ones and every pending one), newest
    first."""
    return [BacktestJobOut.of(job) for job in context.backtests.jobs()]


@router.get("/{job_id}", responses=error_responses(404, 422))
def backtest_status(job_id: JobId, user: ViewerUser, context: Context) -> BacktestJobOut:
    """The job's phase: queued, loading, running, done or failed (with the reason)."""
    return BacktestJobOut.of(_job(context, job_id))


@router.get("/{job_id}/result", responses=error_responses(404, 409, 422))
def backtest_result(job_id: JobId, user: ViewerUser, context: Context) -> BacktestResultOut:
    """Metrics, per-symbol metrics, trades, timing, parameters and settings of a finished
    job (409 until it is done, or when it failed)."""
    return BacktestResultOut.model_validate(_result(context, job_id).to_dict())


@router.get(
    "/{job_id}/report",
    # Not HTMLResponse: its media type would document the JSON errors as text/html too.
    response_class=Response,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **error_responses(404, 409, 422),
    },
)
def backtest_report(job_id: JobId, user: ViewerUser, context: Context) -> HTMLResponse:
    """The standalone HTML report of a finished job (plotly embedded: no network needed)."""
    job = _job(context, job_id)
    result = _result(context, job_id)
    title = f"Backtest {job.job_id}: {job.spec.strategy.name}"
    with tempfile.TemporaryDirectory(prefix="orchestrade-report-") as folder:
        page = result.to_html(FilePath(folder) / "report.html", title=title)
        return HTMLResponse(page.read_text(encoding="utf-8"))


def _job(context: ApiContext, job_id: str) -> BacktestJob:
    job = context.backtests.job(job_id)
    if job is None:
        raise ApiError(
            404, "not_found", f"no backtest job {job_id!r} (finished jobs are kept a while only)"
        )
    return job


def _result(context: ApiContext, job_id: str) -> BacktestResult:
    job = _job(context, job_id)
    if job.phase is JobPhase.FAILED:
        raise ApiError(409, "backtest_failed", f"backtest {job_id} failed: {job.error}")
    if job.result is None:
        raise ApiError(409, "not_finished", f"backtest {job_id} is {job.phase}, not done yet")
    return job.result
