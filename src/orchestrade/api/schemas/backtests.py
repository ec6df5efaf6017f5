"""Backtest jobs: the request, the job's phase, and the result in the shape of
`BacktestResult.to_dict()` (what `orchestrade backtest --json` writes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from orchestrade.api.backtest_jobs import BacktestJob, BacktestSpec, JobPhase
from orchestrade.api.schemas.strategies import StrategyChoice, strategy_spec
from orchestrade.domain import Market

JsonNumber = float | int | None
TimeBound = AwareDatetime | date


class BacktestIn(BaseModel):
    """A backtest of a strategy over stored bars, with its costs."""

    model_config = ConfigDict(extra="forbid")

    strategy: StrategyChoice
    params: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the strategy's parameter defaults."
    )
    symbols: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        max_length=5000,
        description="Stored symbols (default: every stored symbol of `market`).",
    )
    start: TimeBound | None = Field(default=None, description="First day (or time) included.")
    end: TimeBound | None = Field(default=None, description="Last day (or time) included.")
    timeframe: str = Field(default="1d", min_length=1, examples=["1d", "1h"])
    market: Market | None = None
    cash: float = Field(
        default=10_000_000.0,
        gt=0,
        allow_inf_nan=False,
        description="Per symbol (isolated) or in total (portfolio).",
    )
    fees: float = Field(
        default=0.001, ge=0, lt=1, description="Commission, a fraction of traded value."
    )
    fee_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    tax: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        description="Sell tax fraction (default: KRX's rate on KRX stocks, else 0).",
    )
    slippage_bps: float = Field(default=0.0, ge=0, le=10_000)
    participation: float | None = Field(
        default=None, gt=0, le=1, description="Most of a bar's volume one fill may take."
    )
    latency_bars: int = Field(default=0, ge=0, le=1000)
    mode: Literal["isolated", "portfolio"] = "isolated"
    fill: Literal["next_open", "close"] = "next_open"
    min_confidence: float | None = Field(
        default=None, ge=0, le=1, description="Default: the live rules' (0.65)."
    )

    def to_spec(self) -> BacktestSpec:
        """The job's specification (the strategy resolved, its parameters not yet checked).

        Raises:
            StrategyError: the strategy is unknown or invalid.
        """
        return BacktestSpec(
            strategy=strategy_spec(self.strategy),
            params=dict(self.params),
            symbols=tuple(self.symbols),
            start=self.start,
            end=self.end,
            timeframe=self.timeframe,
            market=self.market,
            cash=self.cash,
            fees=self.fees,
            fee_min=self.fee_min,
            tax=self.tax,
            slippage_bps=self.slippage_bps,
            participation=self.participation,
            latency_bars=self.latency_bars,
            mode=self.mode,
            fill=self.fill,
            min_confidence=self.min_confidence,
        )


class BacktestJobOut(BaseModel):
    """A backtest job: queued, loading (bars), running, then done or failed (`error`)."""

    job_id: str
    status: JobPhase
    strategy: str = Field(description="The strategy's name.")
    params: dict[str, Any]
    symbols: list[str] = Field(description="As requested ([]: every stored symbol).")
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="Why it failed, in one line.")
    bars: int | None = Field(description="Bars simulated, over all symbols (once done).")

    @classmethod
    def of(cls, job: BacktestJob) -> BacktestJobOut:
        spec = job.spec
        return cls(
            job_id=job.job_id,
            status=job.phase,
            strategy=spec.strategy.name,
            params=dict(spec.params),
            symbols=list(spec.symbols),
            submitted_at=job.submitted_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
            bars=None if job.result is None else int(job.result.timing["bars"]),
        )


class BacktestTradeOut(BaseModel):
    """One closed trade (times as ISO 8601 UTC text, as in the results file)."""

    symbol: str
    entry_time: str
    entry_price: float
    exit_time: str
    exit_price: float
    qty: float
    pnl: float
    fees: float


class BacktestResultOut(BaseModel):
    """The run's results, as `orchestrade backtest --json` writes them."""

    metrics: dict[str, JsonNumber] = Field(description="Whole run: total_return, sharpe_ratio...")
    per_symbol: dict[str, dict[str, JsonNumber]]
    trades: list[BacktestTradeOut]
    timing: dict[str, float | int]
    parameters: dict[str, Any]
    settings: dict[str, Any]
