"""How the bots of a portfolio did, alone and together, from their equity curves.

Per bot and for the whole portfolio (the sum of the bots' equity): ROI, Sharpe ratio, max
drawdown and volatility; across bots: the correlation matrix of their daily returns, the
risk each bot contributes at given weights, and the diversification ratio.

Definitions (daily returns, 252 trading days a year, risk-free rate 0), the same as
empyrical's and as `orchestrade.backtest.performance` (which this layer may not import: a
test holds both to empyrical):

* daily returns: simple returns of the last equity of each UTC day;
* ROI: last equity / first equity - 1, over the curve as given;
* volatility: sample standard deviation (ddof=1) of the daily returns x sqrt(252);
* Sharpe: mean / sample standard deviation of the daily returns x sqrt(252); a curve whose
  returns are all equal has volatility 0 and Sharpe +inf, -inf or NaN after their sign;
* max drawdown: deepest fall below the running peak of the curve, a fraction <= 0;
* risk contribution of bot i at weights w and covariance S: w_i (S w)_i; they add up to the
  portfolio variance w'Sw (Euler's theorem), and `risk_shares` divides them by it;
* diversification ratio: sum_i w_i sigma_i / sqrt(w'Sw), 1 for a single bot or perfectly
  correlated bots, larger the more the bots offset one another.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from orchestrade.portfolio.errors import OptimizationError

PERIODS_PER_YEAR = 252
"""Trading days a year: the annualisation of every statistic here."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Performance:
    """ROI, Sharpe ratio, max drawdown and volatility of one equity curve (fractions)."""

    roi: float
    sharpe: float
    max_drawdown: float
    volatility: float
    observations: int
    """Daily returns the Sharpe ratio and volatility are computed from."""


@dataclass(frozen=True, slots=True)
class PortfolioAnalysis:
    """Every bot's performance, the portfolio's, and how the bots' risks combine.

    `covariance` is annualised (daily covariance x 252); `risk_contributions` are in the
    same units (annual variance) and add up to the variance of the portfolio at `weights`.
    """

    bots: Mapping[str, Performance]
    portfolio: Performance
    weights: Mapping[str, float]
    correlation: pd.DataFrame
    covariance: pd.DataFrame
    risk_contributions: Mapping[str, float]
    diversification_ratio: float

    @property
    def portfolio_variance(self) -> float:
        """w'Sw at `weights`, annualised (the sum of the risk contributions)."""
        return math.fsum(self.risk_contributions.values())

    @property
    def risk_shares(self) -> dict[str, float]:
        """Each bot's fraction of the portfolio variance (they add up to 1)."""
        total = self.portfolio_variance
        return {name: value / total for name, value in self.risk_contributions.items()}


def daily_equity(equity: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """The last equity of each UTC day, on the days every curve has a value.

    Raises:
        OptimizationError: the index is not a DatetimeIndex or a value is not positive.
    """
    frame = equity.to_frame() if isinstance(equity, pd.Series) else equity
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise OptimizationError(
            f"equity must be indexed by time, not by {type(frame.index).__name__}"
        )
    values: pd.DataFrame = frame.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    index = frame.index
    days = (index.tz_convert("UTC") if index.tz is not None else index).normalize()
    values.index = days.tz_localize(None) if days.tz is not None else days
    values = values.dropna(how="any")
    values = values[~values.index.duplicated(keep="last")].sort_index()
    bad = [str(name) for name in values.columns if not (values[name] > 0).all()]
    if bad:
        raise OptimizationError(f"equity must be positive; it is not for {', '.join(bad)}")
    return values


def daily_returns(equity: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Simple returns of the last equity of each day, on common days (one row fewer)."""
    days = daily_equity(equity)
    return days.pct_change().iloc[1:]


def performance(equity: pd.Series) -> Performance:
    """ROI, Sharpe, max drawdown and volatility of one equity curve (see the module docstring).

    Raises:
        OptimizationError: the curve is empty, not indexed by time or not positive.
    """
    values = pd.to_numeric(equity, errors="coerce").to_numpy(dtype=np.float64)
    if len(values) == 0:
        raise OptimizationError(f"equity {equity.name!r} has no values")
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise OptimizationError(f"equity {equity.name!r} must be finite and positive")
    returns = daily_returns(equity).iloc[:, 0].to_numpy(dtype=np.float64)
    return Performance(
        roi=float(values[-1] / values[0] - 1.0),
        sharpe=sharpe_ratio(returns),
        max_drawdown=max_drawdown(values),
        volatility=annual_volatility(returns),
        observations=len(returns),
    )


def annual_volatility(returns: FloatArray) -> float:
    """Sample standard deviation (ddof=1) x sqrt(252); NaN under two returns."""
    if len(returns) < 2:
        return math.nan
    return _std(returns) * math.sqrt(PERIODS_PER_YEAR)


def sharpe_ratio(returns: FloatArray) -> float:
    """Mean over sample standard deviation x sqrt(252), risk-free rate 0; NaN under two
    returns; +/-inf (NaN for a zero mean) when every return is the same."""
    if len(returns) < 2:
        return math.nan
    mean, deviation = float(np.mean(returns)), _std(returns)
    if deviation == 0:
        return math.copysign(math.inf, mean) if mean != 0 else math.nan
    return mean / deviation * math.sqrt(PERIODS_PER_YEAR)


def max_drawdown(equity: FloatArray) -> float:
    """Deepest fall below the running peak, as a fraction <= 0 (0 without a fall)."""
    values = np.asarray(equity, dtype=np.float64)
    if len(values) == 0:
        return math.nan
    peaks = np.maximum.accumulate(values)
    return float(np.min(values / peaks - 1.0))


def risk_contributions(weights: FloatArray, covariance: FloatArray) -> FloatArray:
    """w_i (S w)_i for each asset: they add up to the portfolio variance w'Sw."""
    w = np.asarray(weights, dtype=np.float64)
    result: FloatArray = w * (np.asarray(covariance, dtype=np.float64) @ w)
    return result


def diversification_ratio(weights: FloatArray, covariance: FloatArray) -> float:
    """sum_i w_i sigma_i / sqrt(w'Sw): NaN when the portfolio has no variance."""
    w = np.asarray(weights, dtype=np.float64)
    matrix = np.asarray(covariance, dtype=np.float64)
    variance = float(w @ matrix @ w)
    if variance <= 0:
        return math.nan
    sigmas = np.sqrt(np.clip(np.diag(matrix), 0.0, None))
    return float(w @ sigmas) / math.sqrt(variance)


def analyse(equity: pd.DataFrame, weights: Mapping[str, float] | None = None) -> PortfolioAnalysis:
    """Analyse the bots whose equity curves are the columns of `equity` (indexed by time).

    Args:
        equity: one column per bot; rows where a bot has no value are left out of the
            cross-bot statistics (correlation, covariance, the portfolio curve).
        weights: each bot's weight for the risk contributions and the diversification
            ratio (normalised to add up to 1); default: each bot's share of the total
            equity at the last common time.

    Raises:
        OptimizationError: fewer than three common days, a non-positive equity, weights that
            name other bots or add up to 0.
    """
    if equity.shape[1] == 0:
        raise OptimizationError("no equity curves to analyse")
    bots = {str(name): performance(equity[name].dropna()) for name in equity.columns}
    days = daily_equity(equity)
    if len(days) < 3:
        # Two daily returns at least: a sample covariance of one observation is undefined.
        raise OptimizationError(
            f"the bots share {len(days)} day(s) of equity; analysis needs at least 3"
        )
    names = [str(name) for name in days.columns]
    days.columns = pd.Index(names)
    combined = days.sum(axis=1).rename("portfolio")
    total = performance(combined)
    returns = days.pct_change().iloc[1:]
    covariance = returns.cov() * PERIODS_PER_YEAR
    chosen = _weights(names, weights, days.iloc[-1])
    matrix = covariance.to_numpy(dtype=np.float64)
    contributions = risk_contributions(chosen, matrix)
    return PortfolioAnalysis(
        bots=bots,
        portfolio=total,
        weights=dict(zip(names, chosen.tolist(), strict=True)),
        correlation=returns.corr(),
        covariance=covariance,
        risk_contributions=dict(zip(names, contributions.tolist(), strict=True)),
        diversification_ratio=diversification_ratio(chosen, matrix),
    )


def _weights(names: list[str], weights: Mapping[str, float] | None, last: pd.Series) -> FloatArray:
    if weights is None:
        values = last.to_numpy(dtype=np.float64)
    else:
        unknown = sorted(set(weights) - set(names))
        missing = sorted(set(names) - set(weights))
        if unknown or missing:
            raise OptimizationError(
                f"weights must name exactly the bots {names}; "
                f"unknown {unknown or 'none'}, missing {missing or 'none'}"
            )
        values = np.array([float(weights[name]) for name in names], dtype=np.float64)
    if not (np.isfinite(values).all() and (values >= 0).all() and values.sum() > 0):
        raise OptimizationError(f"weights must be >= 0 and add up to more than 0, got {values}")
    result: FloatArray = values / values.sum()
    return result


def _std(returns: FloatArray) -> float:
    # Equal returns give exactly 0 (np.std of a constant can leave a residue near 1e-17).
    if np.all(returns == returns[0]):
        return 0.0
    return float(np.std(returns, ddof=1))
