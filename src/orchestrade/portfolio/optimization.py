"""Markowitz weights across bots (or any assets) from their daily returns, with PyPortfolioOpt.

Three objectives, one per risk profile: ``min_variance`` (conservative), ``max_sharpe``
(moderate) and ``max_return`` at a volatility cap (aggressive). Every weight stays within
`WeightBounds` (5% to 40% by default) and the weights add up to 1; bounds that no set of
weights can meet (lower x n > 1 or upper x n < 1) are refused before any solving.

The model is the textbook one, annualised over 252 trading days: expected returns are the
arithmetic mean of the daily returns x 252 (a portfolio's expected return is then linear in
its weights, which the optimizer needs; a compounded mean is not), the covariance is the
sample covariance (ddof=1) or its Ledoit-Wolf shrinkage towards a constant variance (the
estimate of sklearn's `ledoit_wolf`, on the biased covariance), x 252. Volatility is
sqrt(w'Sw) and the Sharpe ratio (w'mu - risk_free) / volatility, risk_free an annual rate.

PyPortfolioOpt (and cvxpy) are an optional dependency, imported only when a solve is asked
for: without them the error says to install ``orchestrade[optimize]``.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from orchestrade.portfolio.analysis import PERIODS_PER_YEAR
from orchestrade.portfolio.errors import InfeasibleBoundsError, OptimizationError

FloatArray = npt.NDArray[np.float64]
log = logging.getLogger(__name__)

INSTALL_HINT = "install orchestrade[optimize] (PyPortfolioOpt) to optimize allocations"
SOLVER = "CLARABEL"
"""cvxpy's interior-point solver (installed with cvxpy): cvxpy's default for these problems,
OSQP, stops at its iteration limit on nearly degenerate Sharpe problems that Clarabel solves."""
SOLVER_OPTIONS: Mapping[str, float] = MappingProxyType(
    {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
)
"""Clarabel's tolerances, 100x tighter than its defaults: weights to ~1e-8."""


class Objective(StrEnum):
    """What the optimizer maximises or minimises."""

    MIN_VARIANCE = "min_variance"
    MAX_SHARPE = "max_sharpe"
    MAX_RETURN = "max_return"


RISK_PROFILES: Mapping[str, Objective] = MappingProxyType(
    {
        "conservative": Objective.MIN_VARIANCE,
        "moderate": Objective.MAX_SHARPE,
        "aggressive": Objective.MAX_RETURN,
    }
)
"""The objective of each risk profile."""


class CovarianceMethod(StrEnum):
    """How the covariance of the returns is estimated."""

    SAMPLE = "sample"
    LEDOIT_WOLF = "ledoit_wolf"


def parse_objective(text: str | Objective) -> Objective:
    """An objective by name (min_variance, max_sharpe, max_return) or by risk profile.

    Raises:
        OptimizationError: neither an objective nor a profile.
    """
    if isinstance(text, Objective):
        return text
    name = str(text).strip().lower().replace("-", "_")
    if name in RISK_PROFILES:
        return RISK_PROFILES[name]
    try:
        return Objective(name)
    except ValueError:
        names = ", ".join([*(item.value for item in Objective), *RISK_PROFILES])
        raise OptimizationError(f"unknown objective {text!r}; use one of {names}") from None


def parse_covariance(text: str | CovarianceMethod) -> CovarianceMethod:
    """A covariance method by name (sample, ledoit_wolf).

    Raises:
        OptimizationError: an unknown name.
    """
    if isinstance(text, CovarianceMethod):
        return text
    name = str(text).strip().lower().replace("-", "_")
    try:
        return CovarianceMethod(name)
    except ValueError:
        names = ", ".join(item.value for item in CovarianceMethod)
        raise OptimizationError(f"unknown covariance {text!r}; use one of {names}") from None


@dataclass(frozen=True, slots=True)
class WeightBounds:
    """The least and the most weight any one asset may get, fractions within [0, 1]."""

    lower: float = 0.05
    upper: float = 0.40

    def __post_init__(self) -> None:
        for name in ("lower", "upper"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptimizationError(f"weight bound {name} must be a number, got {value!r}")
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise OptimizationError(f"weight bound {name} must be within [0, 1], got {value}")
            object.__setattr__(self, name, float(value))
        if self.lower > self.upper:
            raise OptimizationError(
                f"weight bounds: lower {self.lower:g} is above upper {self.upper:g}"
            )

    @classmethod
    def parse(cls, text: str) -> WeightBounds:
        """Bounds written ``LOWER,UPPER`` (``0.05,0.40``).

        Raises:
            OptimizationError: not two numbers, or bounds outside [0, 1] or reversed.
        """
        parts = [part.strip() for part in str(text).split(",")]
        try:
            lower, upper = (float(part) for part in parts)
        except ValueError:
            raise OptimizationError(
                f"weight bounds must be LOWER,UPPER (e.g. 0.05,0.40), got {text!r}"
            ) from None
        return cls(lower, upper)

    def check(self, assets: int) -> None:
        """Refuse bounds no weights of `assets` assets adding up to 1 can meet.

        Raises:
            InfeasibleBoundsError: lower x n > 1 or upper x n < 1.
        """
        if self.lower * assets > 1 + 1e-12 or self.upper * assets < 1 - 1e-12:
            raise InfeasibleBoundsError(
                f"weight bounds {self.lower:g}..{self.upper:g} are infeasible for {assets} "
                f"asset(s): weights adding up to 1 need lower x n <= 1 <= upper x n, here "
                f"{self.lower * assets:g} and {self.upper * assets:g}"
            )

    def __str__(self) -> str:
        return f"{self.lower:g}..{self.upper:g}"


@dataclass(frozen=True, slots=True)
class PortfolioEstimate:
    """Annualised expected return, volatility and Sharpe ratio of one set of weights.

    The Sharpe ratio is NaN when the volatility is 0.
    """

    expected_return: float
    volatility: float
    sharpe: float


@dataclass(frozen=True, slots=True, eq=False)
class Estimates:
    """Annualised expected returns and covariance of some assets' daily returns."""

    assets: tuple[str, ...]
    expected_returns: FloatArray
    covariance: FloatArray
    method: CovarianceMethod
    observations: int
    """Daily returns the estimates come from."""

    def estimate(self, weights: FloatArray, *, risk_free: float = 0.0) -> PortfolioEstimate:
        """Expected return, volatility and Sharpe ratio of `weights` (in `assets` order)."""
        w = np.asarray(weights, dtype=np.float64)
        expected = float(w @ self.expected_returns)
        volatility = math.sqrt(max(float(w @ self.covariance @ w), 0.0))
        sharpe = (expected - risk_free) / volatility if volatility > 0 else math.nan
        return PortfolioEstimate(expected, volatility, sharpe)

    def weights_array(self, weights: Mapping[str, float]) -> FloatArray:
        """`weights` in `assets` order.

        Raises:
            OptimizationError: `weights` names other assets.
        """
        unknown = sorted(set(weights) - set(self.assets))
        missing = sorted(set(self.assets) - set(weights))
        if unknown or missing:
            raise OptimizationError(
                f"weights must name exactly the assets {list(self.assets)}; "
                f"unknown {unknown or 'none'}, missing {missing or 'none'}"
            )
        return np.array([float(weights[name]) for name in self.assets], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class OptimizationResult:
    """Optimal weights and what the model expects of them (annualised over 252 days)."""

    weights: Mapping[str, float]
    expected_return: float
    volatility: float
    sharpe: float
    objective: Objective
    covariance: CovarianceMethod
    bounds: WeightBounds
    risk_free: float
    observations: int
    max_volatility: float | None = None
    periods_per_year: int = field(default=PERIODS_PER_YEAR)

    @property
    def estimate(self) -> PortfolioEstimate:
        """Expected return, volatility and Sharpe ratio together."""
        return PortfolioEstimate(self.expected_return, self.volatility, self.sharpe)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary: weights, expected return, volatility, Sharpe, method."""
        return {
            "weights": dict(self.weights),
            "expected_return": self.expected_return,
            "volatility": self.volatility,
            "sharpe": self.sharpe if math.isfinite(self.sharpe) else None,
            "objective": self.objective.value,
            "covariance": self.covariance.value,
            "bounds": [self.bounds.lower, self.bounds.upper],
            "risk_free": self.risk_free,
            "max_volatility": self.max_volatility,
            "observations": self.observations,
            "periods_per_year": self.periods_per_year,
        }


def estimate(
    returns: pd.DataFrame, covariance: CovarianceMethod | str = CovarianceMethod.SAMPLE
) -> Estimates:
    """Annualised expected returns and covariance of daily `returns` (one column per asset).

    Raises:
        OptimizationError: fewer than two assets or two returns, a missing or non-finite
            return, or PyPortfolioOpt not installed.
    """
    method = parse_covariance(covariance)
    frame = _checked_returns(returns)
    risk_models = _pypfopt().risk_models
    with _warnings_logged(f"{method.value} covariance"):
        if method is CovarianceMethod.SAMPLE:
            matrix = risk_models.sample_cov(frame, returns_data=True, frequency=PERIODS_PER_YEAR)
        else:
            shrinkage = risk_models.CovarianceShrinkage(
                frame, returns_data=True, frequency=PERIODS_PER_YEAR
            )
            matrix = shrinkage.ledoit_wolf()
    assets = tuple(str(name) for name in frame.columns)
    covariance_values = np.asarray(
        pd.DataFrame(matrix).loc[list(frame.columns), list(frame.columns)], dtype=np.float64
    )
    mean = frame.mean(axis=0).to_numpy(dtype=np.float64) * PERIODS_PER_YEAR
    return Estimates(assets, mean, covariance_values, method, len(frame))


def optimize(
    returns: pd.DataFrame,
    *,
    objective: Objective | str,
    bounds: WeightBounds | None = None,
    covariance: CovarianceMethod | str = CovarianceMethod.SAMPLE,
    risk_free: float = 0.0,
    max_volatility: float | None = None,
) -> OptimizationResult:
    """Optimal weights for daily `returns` (one column per asset, no gaps).

    Args:
        objective: min_variance, max_sharpe or max_return (or a risk profile name).
        bounds: the weight range of every asset (default 5% to 40%).
        covariance: sample or ledoit_wolf.
        risk_free: annual risk-free rate of the Sharpe ratio.
        max_volatility: max_return only: the annual volatility cap; None caps nothing
            (the most volatile asset's volatility, which no long-only mix exceeds).

    Raises:
        InfeasibleBoundsError: the bounds cannot be met by weights adding up to 1.
        OptimizationError: too little data, no mix within the bounds above the risk-free
            rate (max_sharpe), a cap below the least volatility the bounds allow
            (max_return), a solver failure, or PyPortfolioOpt missing.
    """
    bounds = bounds if bounds is not None else WeightBounds()
    bounds.check(returns.shape[1])
    return optimize_estimates(
        estimate(returns, covariance),
        objective=objective,
        bounds=bounds,
        risk_free=risk_free,
        max_volatility=max_volatility,
    )


def optimize_estimates(
    estimates: Estimates,
    *,
    objective: Objective | str,
    bounds: WeightBounds | None = None,
    risk_free: float = 0.0,
    max_volatility: float | None = None,
) -> OptimizationResult:
    """`optimize` on estimates made already (same arguments and errors)."""
    goal = parse_objective(objective)
    bounds = bounds if bounds is not None else WeightBounds()
    bounds.check(len(estimates.assets))
    risk_free = _finite("risk_free", risk_free)
    if max_volatility is not None:
        max_volatility = _finite("max_volatility", max_volatility)
        if goal is not Objective.MAX_RETURN:
            raise OptimizationError(f"a volatility cap applies to max_return, not {goal.value}")
        if max_volatility <= 0:
            raise OptimizationError(f"max_volatility must be > 0, got {max_volatility:g}")
    if goal is Objective.MIN_VARIANCE:
        weights = _solve(estimates, bounds, "min_volatility")
    elif goal is Objective.MAX_SHARPE:
        best = best_return(estimates.expected_returns, bounds)
        if best <= risk_free:
            raise OptimizationError(
                f"max_sharpe needs a mix within the weight bounds {bounds} whose expected "
                f"return exceeds the risk-free rate {risk_free:.2%}; the best is {best:.2%}"
            )
        weights = _solve(estimates, bounds, "max_sharpe", risk_free_rate=risk_free)
    else:
        weights = _max_return(estimates, bounds, max_volatility)
    weights = _into_bounds(weights, bounds)
    expected = estimates.estimate(weights, risk_free=risk_free)
    return OptimizationResult(
        weights=dict(zip(estimates.assets, weights.tolist(), strict=True)),
        expected_return=expected.expected_return,
        volatility=expected.volatility,
        sharpe=expected.sharpe,
        objective=goal,
        covariance=estimates.method,
        bounds=bounds,
        risk_free=risk_free,
        observations=estimates.observations,
        max_volatility=max_volatility,
    )


def best_return(expected_returns: FloatArray, bounds: WeightBounds) -> float:
    """The highest expected return of weights within `bounds` adding up to 1: every asset
    at its lower bound, the rest poured into the best assets first (exact for this LP)."""
    mean = np.asarray(expected_returns, dtype=np.float64)
    weights = np.full(len(mean), bounds.lower)
    left = 1.0 - float(weights.sum())
    for index in np.argsort(-mean, kind="stable"):
        added = min(bounds.upper - bounds.lower, max(left, 0.0))
        weights[index] += added
        left -= added
    return float(weights @ mean)


def _max_return(
    estimates: Estimates, bounds: WeightBounds, max_volatility: float | None
) -> FloatArray:
    sigmas = np.sqrt(np.clip(np.diag(estimates.covariance), 0.0, None))
    if max_volatility is None:
        # No long-only mix is more volatile than its most volatile asset: an inactive cap.
        return _solve(estimates, bounds, "efficient_risk", target_volatility=float(sigmas.max()))
    least = _solve(estimates, bounds, "min_volatility")
    floor = estimates.estimate(least).volatility
    if max_volatility < floor * (1 - 1e-6):
        raise OptimizationError(
            f"max_volatility {max_volatility:.2%} is below the least volatility the weight "
            f"bounds {bounds} allow ({floor:.2%})"
        )
    return _solve(estimates, bounds, "efficient_risk", target_volatility=max(max_volatility, floor))


def _solve(
    estimates: Estimates, bounds: WeightBounds, method: str, **arguments: float
) -> FloatArray:
    library = _pypfopt()
    names = list(estimates.assets)
    frontier = library.EfficientFrontier(
        pd.Series(estimates.expected_returns, index=names),
        pd.DataFrame(estimates.covariance, index=names, columns=names),
        weight_bounds=(bounds.lower, bounds.upper),
        solver=SOLVER,
        solver_options=SOLVER_OPTIONS,
    )
    with _warnings_logged(method):
        try:
            solved = getattr(frontier, method)(**arguments)
        except library.errors as error:
            raise OptimizationError(f"{method} found no solution: {error}") from error
    weights = np.array([float(solved[name]) for name in names], dtype=np.float64)
    if not np.isfinite(weights).all():
        raise OptimizationError(f"{method} found no solution (the solver returned no weights)")
    return weights


def _into_bounds(weights: FloatArray, bounds: WeightBounds) -> FloatArray:
    """Clip the solver's weights into the bounds (it may miss them by its tolerance, ~1e-9)
    and spread what that changed in the sum over the assets that have room."""
    clipped = np.clip(weights, bounds.lower, bounds.upper)
    for _ in range(len(clipped)):
        gap = 1.0 - float(clipped.sum())
        if abs(gap) <= 1e-15:
            break
        room = (bounds.upper - clipped) if gap > 0 else (clipped - bounds.lower)
        if room.sum() <= 0:
            break
        clipped = np.clip(clipped + gap * room / room.sum(), bounds.lower, bounds.upper)
    result: FloatArray = clipped
    return result


def _checked_returns(returns: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(returns, pd.DataFrame):
        raise OptimizationError(f"returns must be a DataFrame, not {type(returns).__name__}")
    if returns.shape[1] < 2:
        raise OptimizationError(f"an allocation needs at least 2 assets, got {returns.shape[1]}")
    if len(returns) < 2:
        raise OptimizationError(f"estimates need at least 2 returns per asset, got {len(returns)}")
    names = [str(name) for name in returns.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise OptimizationError(f"returns name an asset twice: {', '.join(repeated)}")
    frame = returns.astype(np.float64, copy=True)
    frame.columns = pd.Index(names)
    bad = [name for name in names if not np.isfinite(frame[name].to_numpy()).all()]
    if bad:
        raise OptimizationError(f"returns must be finite, without gaps; not so for {bad}")
    return frame


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptimizationError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@contextmanager
def _warnings_logged(what: str) -> Iterator[None]:
    """Log the library's warnings (cvxpy's "solution may be inaccurate", PyPortfolioOpt's
    amended covariance) instead of raising them at the caller, who cannot act on them: the
    solution is checked, or the solve fails with a status."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                log.warning("%s: %s", what, warning.message)


@dataclass(frozen=True, slots=True)
class _Library:
    """The parts of PyPortfolioOpt used here, and the errors its solves raise."""

    EfficientFrontier: Any
    risk_models: Any
    errors: tuple[type[Exception], ...]


def _pypfopt() -> _Library:
    """PyPortfolioOpt, imported on first use (an optional dependency)."""
    try:
        from cvxpy.error import SolverError
        from pypfopt import EfficientFrontier, risk_models
        from pypfopt.exceptions import OptimizationError as SolveError
    except ImportError as error:
        raise OptimizationError(f"{INSTALL_HINT} ({error})") from None
    # ValueError: pypfopt's own checks (a target below the least volatility, ...).
    return _Library(EfficientFrontier, risk_models, (SolveError, SolverError, ValueError))
