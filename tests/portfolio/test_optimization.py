"""The optimizer's weights against an independent solution (scipy SLSQP on covariance
estimates written here from their papers' formulas), on real KRX returns; bounds; errors."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from orchestrade.data.files import read_market_file
from orchestrade.portfolio.errors import InfeasibleBoundsError, OptimizationError
from orchestrade.portfolio.optimization import (
    CovarianceMethod,
    Estimates,
    Objective,
    WeightBounds,
    best_return,
    estimate,
    optimize,
    optimize_estimates,
    parse_objective,
)

UNIVERSE = ("005930", "000660", "005380", "035420", "152380", "161510", "219480", "114800")
"""Large caps, a bond future ETF, high dividend, S&P 500 (hedged) and an inverse ETF."""
START = "2019-01-01"
BOUNDS = WeightBounds(0.05, 0.40)
RISK_FREE = 0.01


def krx_returns(folder: Path, codes: tuple[str, ...] = UNIVERSE) -> pd.DataFrame:
    closes = {}
    for code in codes:
        frame = read_market_file(folder / f"{code}.csv.gz").frame
        closes[code] = pd.Series(
            frame["close"].to_numpy(dtype=np.float64), index=pd.DatetimeIndex(frame["timestamp"])
        )
    table = pd.DataFrame(closes).dropna()
    return table[table.index >= START].pct_change().iloc[1:]


# -- the reference: estimates and solutions written independently of PyPortfolioOpt ---------


def sample_covariance(returns: np.ndarray) -> np.ndarray:
    centred = returns - returns.mean(axis=0)
    return centred.T @ centred / (len(returns) - 1) * 252


def ledoit_wolf_covariance(returns: np.ndarray) -> np.ndarray:
    """Ledoit & Wolf (2004), 'A well-conditioned estimator for large-dimensional covariance
    matrices', shrinking the biased sample covariance towards m I (section 3.3)."""
    n, p = returns.shape
    x = returns - returns.mean(axis=0)
    s = x.T @ x / n
    m = np.trace(s) / p
    d2 = np.sum((s - m * np.eye(p)) ** 2) / p
    # b-bar^2 = 1/n^2 sum_k ||x_k x_k' - S||^2 / p, expanded: sum_k |x_k|^4 - n ||S||^2
    b2_bar = (np.sum(np.sum(x**2, axis=1) ** 2) - n * np.sum(s**2)) / (n**2 * p)
    b2 = min(b2_bar, d2)
    shrunk = (b2 / d2) * m * np.eye(p) + (1 - b2 / d2) * s
    return shrunk * 252


@dataclass(frozen=True)
class Reference:
    mean: np.ndarray
    covariance: np.ndarray

    def volatility(self, w: np.ndarray) -> float:
        return math.sqrt(float(w @ self.covariance @ w))

    def sharpe(self, w: np.ndarray) -> float:
        return (float(w @ self.mean) - RISK_FREE) / self.volatility(w)

    def sharpe_gradient(self, w: np.ndarray) -> np.ndarray:
        sigma = self.volatility(w)
        excess = float(w @ self.mean) - RISK_FREE
        gradient: np.ndarray = self.mean / sigma - excess * (self.covariance @ w) / sigma**3
        return gradient


def reference(returns: pd.DataFrame, method: CovarianceMethod) -> Reference:
    values = returns.to_numpy(dtype=np.float64)
    covariance = (
        sample_covariance(values)
        if method is CovarianceMethod.SAMPLE
        else ledoit_wolf_covariance(values)
    )
    return Reference(values.mean(axis=0) * 252, covariance)


def slsqp(
    objective: Callable[[np.ndarray], float],
    gradient: Callable[[np.ndarray], np.ndarray],
    n: int,
    *,
    extra: tuple[dict[str, object], ...] = (),
    starts: int = 8,
) -> np.ndarray:
    """Best of several SLSQP runs from equal weights and random points within the bounds."""
    rng = np.random.default_rng(0)
    points = [np.full(n, 1.0 / n)]
    for _ in range(starts - 1):
        raw = rng.dirichlet(np.ones(n))
        points.append(np.clip(raw, BOUNDS.lower, BOUNDS.upper) / np.clip(raw, 0.05, 0.4).sum())
    constraints = (
        {"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)},
        *extra,
    )
    best = None
    for start in points:
        solved = minimize(
            objective,
            start,
            jac=gradient,
            method="SLSQP",
            bounds=[(BOUNDS.lower, BOUNDS.upper)] * n,
            constraints=constraints,
            options={"ftol": 1e-13, "maxiter": 2000},
        )
        if solved.success and (best is None or solved.fun < best.fun):
            best = solved
    assert best is not None
    return np.asarray(best.x)


@dataclass(frozen=True)
class Agreement:
    """How far our weights are from the reference's, and the objective gap (> 0: ours is
    worse by that much)."""

    weight_difference: float
    objective_gap: float


def agreement(
    returns: pd.DataFrame, objective: Objective, method: CovarianceMethod, cap: float | None
) -> Agreement:
    model = reference(returns, method)
    n = returns.shape[1]
    result = optimize(
        returns,
        objective=objective,
        bounds=BOUNDS,
        covariance=method,
        risk_free=RISK_FREE,
        max_volatility=cap,
    )
    ours = np.array([result.weights[name] for name in returns.columns])
    if objective is Objective.MIN_VARIANCE:
        theirs = slsqp(
            lambda w: float(w @ model.covariance @ w) * 1e4,
            lambda w: 2e4 * (model.covariance @ w),
            n,
        )
        gap = model.volatility(ours) - model.volatility(theirs)
    elif objective is Objective.MAX_SHARPE:
        theirs = slsqp(lambda w: -model.sharpe(w), lambda w: -model.sharpe_gradient(w), n)
        gap = model.sharpe(theirs) - model.sharpe(ours)
    else:
        assert cap is not None
        limit = {
            "type": "ineq",
            "fun": lambda w: (cap**2 - float(w @ model.covariance @ w)) * 1e2,
            "jac": lambda w: -2e2 * (model.covariance @ w),
        }
        theirs = slsqp(lambda w: -float(w @ model.mean), lambda w: -model.mean, n, extra=(limit,))
        gap = float(theirs @ model.mean) - float(ours @ model.mean)
        assert model.volatility(ours) <= cap * (1 + 1e-6)
    assert result.volatility == pytest.approx(model.volatility(ours), rel=1e-9)
    assert result.expected_return == pytest.approx(float(ours @ model.mean), rel=1e-9, abs=1e-12)
    return Agreement(float(np.max(np.abs(ours - theirs))), gap)


def midpoint_cap(returns: pd.DataFrame, method: CovarianceMethod) -> float:
    """A volatility cap halfway between the least and the most volatile bounded portfolio:
    the cap binds, so max_return is a real trade-off."""
    least = optimize(returns, objective="min_variance", bounds=BOUNDS, covariance=method)
    most = optimize(returns, objective="max_return", bounds=BOUNDS, covariance=method)
    return (least.volatility + most.volatility) / 2


@pytest.fixture(scope="module")
def real_returns(shared_data: Path) -> pd.DataFrame:
    return krx_returns(shared_data / "krx")


@pytest.mark.shared_data
@pytest.mark.parametrize("method", list(CovarianceMethod))
def test_our_covariance_estimates_equal_the_formulas(
    real_returns: pd.DataFrame, method: CovarianceMethod
) -> None:
    ours = estimate(real_returns, method)
    model = reference(real_returns, method)

    assert np.allclose(ours.covariance, model.covariance, rtol=1e-10, atol=0)
    assert np.allclose(ours.expected_returns, model.mean, rtol=1e-12, atol=0)
    assert ours.observations == len(real_returns) > 1000


@pytest.mark.shared_data
@pytest.mark.parametrize("method", list(CovarianceMethod))
@pytest.mark.parametrize("objective", list(Objective))
def test_weights_agree_with_an_independent_slsqp_solution_on_krx_returns(
    real_returns: pd.DataFrame, objective: Objective, method: CovarianceMethod
) -> None:
    cap = midpoint_cap(real_returns, method) if objective is Objective.MAX_RETURN else None

    found = agreement(real_returns, objective, method, cap)

    # Measured: weights within 1e-6 of SLSQP's, objective gaps under 2e-10 (a negative gap
    # means ours is the better one).
    assert found.weight_difference < 1e-5
    assert found.objective_gap < 1e-9


@pytest.mark.shared_data
def test_every_weight_stays_within_the_bounds_and_they_add_up_to_one(
    real_returns: pd.DataFrame,
) -> None:
    for objective in Objective:
        result = optimize(real_returns, objective=objective, bounds=BOUNDS)
        weights = np.array(list(result.weights.values()))

        assert weights.min() >= BOUNDS.lower
        assert weights.max() <= BOUNDS.upper
        assert weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_two_asset_minimum_variance_matches_the_closed_form() -> None:
    rng = np.random.default_rng(11)
    values = rng.multivariate_normal([0.0004, 0.0002], [[4e-4, 5e-5], [5e-5, 1e-4]], size=500)
    returns = pd.DataFrame(values, columns=["x", "y"])
    s = np.cov(values, rowvar=False, ddof=1)

    result = optimize(returns, objective="min_variance", bounds=WeightBounds(0.0, 1.0))

    # w_x = (s_yy - s_xy) / (s_xx + s_yy - 2 s_xy)
    expected = (s[1, 1] - s[0, 1]) / (s[0, 0] + s[1, 1] - 2 * s[0, 1])
    assert result.weights["x"] == pytest.approx(expected, abs=1e-6)
    assert result.volatility == pytest.approx(
        math.sqrt(252 * np.array([expected, 1 - expected]) @ s @ [expected, 1 - expected]),
        rel=1e-6,
    )


@pytest.mark.parametrize(
    ("bounds", "assets", "message"),
    [
        (WeightBounds(0.05, 0.40), 2, r"0\.05\.\.0\.4 are infeasible for 2 asset\(s\).*0\.8"),
        (WeightBounds(0.30, 0.60), 4, r"0\.3\.\.0\.6 are infeasible for 4 asset\(s\).*1\.2"),
    ],
)
def test_infeasible_bounds_are_refused_naming_the_bounds_and_the_count(
    bounds: WeightBounds, assets: int, message: str
) -> None:
    returns = pd.DataFrame(np.random.default_rng(1).normal(0, 0.01, (50, assets)))

    with pytest.raises(InfeasibleBoundsError, match=message):
        optimize(returns, objective="min_variance", bounds=bounds)


def test_bounds_are_feasible_exactly_at_lower_times_n_equal_to_one() -> None:
    returns = pd.DataFrame(np.random.default_rng(2).normal(0, 0.01, (50, 4)))

    result = optimize(returns, objective="max_return", bounds=WeightBounds(0.25, 0.4))

    assert list(result.weights.values()) == pytest.approx([0.25] * 4, abs=1e-12)


def test_bad_bounds_objectives_and_data_are_refused_with_the_reason() -> None:
    returns = pd.DataFrame(np.random.default_rng(3).normal(0, 0.01, (50, 3)), columns=list("abc"))

    with pytest.raises(OptimizationError, match=r"lower 0\.5 is above upper 0\.4"):
        WeightBounds(0.5, 0.4)
    with pytest.raises(OptimizationError, match=r"LOWER,UPPER \(e\.g\. 0\.05,0\.40\)"):
        WeightBounds.parse("0.05")
    with pytest.raises(OptimizationError, match="unknown objective 'max_fun'"):
        parse_objective("max_fun")
    with pytest.raises(OptimizationError, match="at least 2 assets"):
        optimize(returns[["a"]], objective="min_variance", bounds=WeightBounds(0, 1))
    with pytest.raises(OptimizationError, match=r"without gaps; not so for \['b'\]"):
        optimize(returns.assign(b=np.nan), objective="min_variance")
    with pytest.raises(OptimizationError, match="applies to max_return, not min_variance"):
        optimize(returns, objective="min_variance", max_volatility=0.2)


def test_max_sharpe_without_any_asset_above_the_risk_free_rate_is_refused() -> None:
    losing = pd.DataFrame(np.random.default_rng(4).normal(-0.001, 0.01, (250, 3)))

    with pytest.raises(
        OptimizationError, match=r"exceeds the risk-free rate 0\.00%; the best is -"
    ):
        optimize(losing, objective="max_sharpe")


def test_max_sharpe_refuses_when_the_bounds_force_losers_in_whatever_the_best_asset() -> None:
    # one winner at +1%, capped at 40%; the other 60% must go to losers at -10%
    model = Estimates(
        ("win", "lose1", "lose2"),
        np.array([0.01, -0.10, -0.10]),
        np.diag([0.04, 0.04, 0.04]),
        CovarianceMethod.SAMPLE,
        100,
    )

    assert best_return(model.expected_returns, BOUNDS) == pytest.approx(0.4 * 0.01 - 0.6 * 0.1)
    with pytest.raises(OptimizationError, match=r"bounds 0\.05\.\.0\.4 .* the best is -5\.60%"):
        optimize_estimates(model, objective="max_sharpe", bounds=BOUNDS)


def test_a_volatility_cap_below_what_the_bounds_allow_is_refused() -> None:
    returns = pd.DataFrame(np.random.default_rng(6).normal(0.0005, 0.01, (250, 3)))

    with pytest.raises(OptimizationError, match=r"max_volatility 1\.00% is below the least"):
        optimize(returns, objective="aggressive", max_volatility=0.01)


def test_without_the_optional_dependency_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pypfopt", None)
    returns = pd.DataFrame(np.random.default_rng(7).normal(0, 0.01, (50, 3)))

    with pytest.raises(OptimizationError, match=r"install orchestrade\[optimize\]"):
        optimize(returns, objective="min_variance")


def test_risk_profiles_name_the_three_objectives() -> None:
    assert [parse_objective(name) for name in ("conservative", "moderate", "aggressive")] == [
        Objective.MIN_VARIANCE,
        Objective.MAX_SHARPE,
        Objective.MAX_RETURN,
    ]


def test_library_warnings_are_logged_not_raised_at_the_caller(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 30 assets, 5 returns: a rank-deficient covariance that PyPortfolioOpt tries to amend
    returns = pd.DataFrame(np.random.default_rng(1).normal(0, 3, (5, 30)))

    with caplog.at_level("WARNING", logger="orchestrade.portfolio.optimization"):
        estimate(returns, CovarianceMethod.SAMPLE)

    assert "sample covariance: The covariance matrix is non positive semidefinite" in caplog.text
