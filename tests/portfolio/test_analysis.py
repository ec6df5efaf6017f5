"""Portfolio analysis: numbers worked out by hand, and empyrical's on real KRX closes."""

from __future__ import annotations

import math
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from orchestrade.data.files import read_market_file
from orchestrade.portfolio.analysis import (
    analyse,
    daily_equity,
    diversification_ratio,
    performance,
    risk_contributions,
)
from orchestrade.portfolio.errors import OptimizationError

DAYS = pd.date_range("2024-01-02", periods=4, freq="D", tz="UTC")


def curve(*values: float, index: pd.DatetimeIndex = DAYS, name: str = "a") -> pd.Series:
    return pd.Series(values, index=index[: len(values)], name=name, dtype=np.float64)


def test_performance_of_a_curve_worked_out_by_hand() -> None:
    # returns +10%, -10%, +10%: mean 1/30, sample std sqrt(0.04 / 3)
    equity = curve(100.0, 110.0, 99.0, 108.9)

    result = performance(equity)

    assert result.roi == pytest.approx(0.089, abs=1e-12)
    assert result.max_drawdown == pytest.approx(99 / 110 - 1, abs=1e-12)
    assert result.sharpe == pytest.approx(math.sqrt(21), rel=1e-12)  # sqrt(252) * sqrt(3) / 6
    assert result.volatility == pytest.approx(math.sqrt(3.36), rel=1e-12)  # 0.2 * sqrt(84)
    assert result.observations == 3


def test_a_flat_curve_has_no_volatility_and_an_undefined_sharpe() -> None:
    result = performance(curve(100.0, 100.0, 100.0))

    assert result.volatility == 0.0
    assert math.isnan(result.sharpe)
    assert result.max_drawdown == 0.0
    assert result.roi == 0.0


def test_intraday_equity_is_sampled_at_the_last_value_of_each_day() -> None:
    times = pd.DatetimeIndex(
        ["2024-01-02 01:00", "2024-01-02 06:00", "2024-01-03 01:00", "2024-01-03 06:30"], tz="UTC"
    )
    equity = pd.DataFrame({"a": [100.0, 101.0, 90.0, 111.1]}, index=times)

    days = daily_equity(equity)

    assert days["a"].tolist() == [101.0, 111.1]
    assert list(days.index.date.astype(str)) == ["2024-01-02", "2024-01-03"]


def test_two_bots_risk_contributions_and_diversification_ratio_by_hand() -> None:
    # sigma 20% and 10%, correlation 0.5 -> covariance 0.01; equal weights
    covariance = np.array([[0.04, 0.01], [0.01, 0.01]])
    weights = np.array([0.5, 0.5])

    contributions = risk_contributions(weights, covariance)
    ratio = diversification_ratio(weights, covariance)

    # S w = (0.025, 0.01); w_i (S w)_i = (0.0125, 0.005); w'Sw = 0.0175
    assert contributions.tolist() == pytest.approx([0.0125, 0.005], abs=1e-15)
    assert contributions.sum() == pytest.approx(0.0175, abs=1e-15)
    # (0.5 * 0.2 + 0.5 * 0.1) / sqrt(0.0175)
    assert ratio == pytest.approx(0.15 / math.sqrt(0.0175), rel=1e-13)


def test_perfectly_correlated_bots_do_not_diversify() -> None:
    covariance = np.array([[0.04, 0.02], [0.02, 0.01]])  # correlation 1

    assert diversification_ratio(np.array([0.3, 0.7]), covariance) == pytest.approx(1.0)


def test_analysis_of_three_bots_against_numpy() -> None:
    rng = np.random.default_rng(5)
    index = pd.date_range("2023-01-02", periods=200, freq="B", tz="UTC")
    returns = rng.normal(0.0005, 0.01, size=(199, 3)) @ np.array(
        [[1.0, 0.3, 0.0], [0.0, 1.0, -0.4], [0.0, 0.0, 1.0]]
    )
    equity = pd.DataFrame(
        1e6 * np.vstack([np.ones(3), np.cumprod(1 + returns, axis=0)]),
        index=index,
        columns=["a", "b", "c"],
    )
    weights = {"a": 2.0, "b": 1.0, "c": 1.0}

    analysis = analyse(equity, weights)

    daily = np.diff(equity.to_numpy(), axis=0) / equity.to_numpy()[:-1]
    covariance = np.cov(daily, rowvar=False, ddof=1) * 252
    w = np.array([0.5, 0.25, 0.25])
    assert analysis.weights == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.25})
    assert np.allclose(analysis.covariance.to_numpy(), covariance, rtol=1e-12, atol=0)
    assert np.allclose(analysis.correlation.to_numpy(), np.corrcoef(daily, rowvar=False))
    assert analysis.portfolio_variance == pytest.approx(w @ covariance @ w, rel=1e-12)
    assert sum(analysis.risk_shares.values()) == pytest.approx(1.0, abs=1e-12)
    sigmas = np.sqrt(np.diag(covariance))
    assert analysis.diversification_ratio == pytest.approx(
        (w @ sigmas) / math.sqrt(w @ covariance @ w), rel=1e-12
    )
    total = equity.sum(axis=1).to_numpy()
    assert analysis.portfolio.roi == pytest.approx(total[-1] / total[0] - 1, rel=1e-12)


def test_default_weights_are_the_bots_shares_of_the_last_equity() -> None:
    equity = pd.DataFrame({"a": [100.0, 110.0, 120.0], "b": [300.0, 290.0, 360.0]}, index=DAYS[:3])

    assert analyse(equity).weights == pytest.approx({"a": 0.25, "b": 0.75})


def test_bad_equity_and_weights_are_refused_with_the_reason() -> None:
    equity = pd.DataFrame({"a": [100.0, 110.0, 120.0], "b": [300.0, 0.0, 360.0]}, index=DAYS[:3])
    good = pd.DataFrame({"a": [100.0, 110.0, 120.0], "b": [1.0, 2.0, 3.0]}, index=DAYS[:3])

    with pytest.raises(OptimizationError, match="must be finite and positive"):
        analyse(equity)
    with pytest.raises(OptimizationError, match=r"unknown \['z'\], missing \['b'\]"):
        analyse(good, {"a": 1.0, "z": 1.0})
    with pytest.raises(OptimizationError, match="indexed by time"):
        daily_equity(pd.DataFrame({"a": [1.0, 2.0]}))


@pytest.mark.shared_data
@pytest.mark.parametrize("code", ["005930", "114800", "152380"])
def test_performance_equals_empyrical_on_real_krx_closes(shared_data: Path, code: str) -> None:
    frame = read_market_file(shared_data / "krx" / f"{code}.csv.gz").frame
    closes = pd.Series(
        frame["close"].to_numpy(dtype=np.float64), index=pd.DatetimeIndex(frame["timestamp"])
    )
    closes = closes[closes.index >= "2018-01-01"]
    returns = closes.pct_change().iloc[1:]

    result = performance(closes)

    assert result.sharpe == pytest.approx(empyrical.sharpe_ratio(returns), rel=1e-9)
    assert result.volatility == pytest.approx(empyrical.annual_volatility(returns), rel=1e-9)
    assert result.max_drawdown == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert result.roi == pytest.approx(empyrical.cum_returns_final(returns), rel=1e-9)
