"""Statistics of return series, defined exactly as empyrical defines them.

The functions named like empyrical's (total_return, cagr, annual_volatility, sharpe_ratio,
sortino_ratio, downside_risk, max_drawdown, calmar_ratio) take the simple returns of
consecutive bars (a 1-D float64 array, no NaN; `simple_returns` makes them from an equity
curve) and `periods_per_year` (see `orchestrade.backtest.periods`), and give the same
number as empyrical's with ``annualization=periods_per_year`` (a test holds them to 1e-9).
`curve_statistics` computes all of them for many equity curves at once, with the same
formulas along each curve.

Edge cases follow empyrical:

* an empty series: every statistic is NaN;
* one return: total return, CAGR and max drawdown are defined, the others are NaN (a
  standard deviation needs two points);
* a series whose returns are all equal: volatility exactly 0 (empyrical leaves a rounding
  residue near 1e-17 there), Sharpe +inf, -inf or NaN (when they are all 0), following the
  sign of the mean;
* no return below 0: Sortino +inf (or NaN when the mean is 0 too), Calmar NaN (no drawdown).

The drawdown durations (not in empyrical) are measured on the equity curve itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from orchestrade.backtest.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Underwater:
    """The longest time an equity curve spent below its running peak.

    A period starts at a peak and ends at the first bar whose equity is back at or above
    that peak (or at the last bar when it never is). The two lengths are maximised
    separately: with irregular bar spacing the longest period in bars need not be the
    longest in calendar time.
    """

    bars: int
    days: float


@dataclass(frozen=True, slots=True)
class CurveStatistics:
    """Return statistics of several equity curves: one array entry per curve."""

    total_return: FloatArray
    cagr: FloatArray
    annual_volatility: FloatArray
    sharpe_ratio: FloatArray
    sortino_ratio: FloatArray
    calmar_ratio: FloatArray
    max_drawdown: FloatArray
    underwater_bars: IntArray
    underwater_days: FloatArray


def curve_statistics(
    curves: FloatArray, times_ns: IntArray, periods_per_year: float, *, time_axis: int = 1
) -> CurveStatistics:
    """Statistics of each equity curve in `curves`, stamped `times_ns` (UTC epoch ns).

    `curves` is (curves, bars) with ``time_axis=1`` or (bars, curves) with ``time_axis=0``
    (the layout of an equity table). Curves are processed in blocks of about
    `_BLOCK_VALUES` numbers so that the temporaries stay in the CPU cache: hundreds of
    long curves take tens of milliseconds.
    """
    if time_axis not in (0, 1):
        raise InputError(f"time_axis must be 0 or 1, got {time_axis}")
    values = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    if time_axis == 0:
        values = values.T
    stamps = np.asarray(times_ns, dtype=np.int64)
    step = max(1, _BLOCK_VALUES // max(values.shape[1], 1))
    blocks = [
        _block_statistics(
            np.ascontiguousarray(values[start : start + step]), stamps, periods_per_year
        )
        for start in range(0, max(len(values), 1), step)
    ]
    return CurveStatistics(
        *(np.concatenate([getattr(block, name) for block in blocks]) for name in _FIELDS)
    )


def simple_returns(equity: FloatArray) -> FloatArray:
    """Return of each bar over the previous one, (e[t] - e[t-1]) / e[t-1], length n - 1."""
    result: FloatArray = _simple_returns(_row(equity))[0]
    return result


def total_return(returns: FloatArray) -> float:
    """Compounded return of the whole series (empyrical `cum_returns_final`)."""
    return float(_total_return(_row(returns))[0])


def cagr(returns: FloatArray, periods_per_year: float) -> float:
    """Compound annual growth rate, with years = len(returns) / periods_per_year."""
    return float(_cagr(_row(returns), periods_per_year)[0])


def annual_volatility(returns: FloatArray, periods_per_year: float) -> float:
    """Sample standard deviation (ddof=1) times sqrt(periods_per_year)."""
    return float(_annual_volatility(_row(returns), periods_per_year)[0])


def sharpe_ratio(returns: FloatArray, periods_per_year: float) -> float:
    """Mean over sample standard deviation, times sqrt(periods_per_year); risk-free rate 0."""
    return float(_sharpe_ratio(_row(returns), periods_per_year)[0])


def downside_risk(returns: FloatArray, periods_per_year: float) -> float:
    """Root mean square of the negative returns (positives count as 0), annualised."""
    return float(_downside_risk(_row(returns), periods_per_year)[0])


def sortino_ratio(returns: FloatArray, periods_per_year: float) -> float:
    """Annualised mean return over the annualised downside risk; required return 0."""
    return float(_sortino_ratio(_row(returns), periods_per_year)[0])


def drawdowns(equity: FloatArray) -> FloatArray:
    """Fraction below the running peak at each bar: 0 at a peak, negative under water."""
    values = np.asarray(equity, dtype=np.float64)
    peaks = np.maximum.accumulate(values, axis=-1)
    result: FloatArray = (values - peaks) / peaks
    return result


def max_drawdown(returns: FloatArray) -> float:
    """Deepest fall from a running peak, as a negative fraction (0 when there is none).

    Computed like empyrical: the curve is rebuilt from the returns starting at 100, and the
    starting value counts as the first peak.
    """
    return float(_max_drawdown(_row(returns))[0])


def calmar_ratio(returns: FloatArray, periods_per_year: float) -> float:
    """CAGR over the absolute max drawdown; NaN without a drawdown or when infinite."""
    row = _row(returns)
    return float(_calmar_ratio(_cagr(row, periods_per_year), _max_drawdown(row))[0])


def longest_underwater(equity: FloatArray, times_ns: IntArray) -> Underwater:
    """Longest underwater period of `equity` stamped at `times_ns` (UTC epoch nanoseconds).

    Example: equity 100, 110, 99, 120 has one period, from the peak at bar 1 to the
    recovery at bar 3: 2 bars, and the calendar days between those two bars.
    """
    bars, nanos = _longest_underwater(_row(equity), np.asarray(times_ns, dtype=np.int64))
    return Underwater(int(bars[0]), float(nanos[0]) / 86_400e9)


_BLOCK_VALUES = 1 << 17
_FIELDS = tuple(CurveStatistics.__dataclass_fields__)


def _block_statistics(
    values: FloatArray, times_ns: IntArray, periods_per_year: float
) -> CurveStatistics:
    returns = _simple_returns(values)
    growth = _cagr(returns, periods_per_year)
    deepest = _max_drawdown(returns)
    bars, nanos = _longest_underwater(values, times_ns)
    return CurveStatistics(
        total_return=_total_return(returns),
        cagr=growth,
        annual_volatility=_annual_volatility(returns, periods_per_year),
        sharpe_ratio=_sharpe_ratio(returns, periods_per_year),
        sortino_ratio=_sortino_ratio(returns, periods_per_year),
        calmar_ratio=_calmar_ratio(growth, deepest),
        max_drawdown=deepest,
        underwater_bars=bars,
        underwater_days=nanos / 86_400e9,
    )


# Row-wise implementations: each takes (curves, bars) arrays and returns one value per row.


def _row(values: FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64).reshape(1, -1)


def _nan_rows(returns: FloatArray) -> FloatArray:
    return np.full(returns.shape[0], np.nan)


def _simple_returns(values: FloatArray) -> FloatArray:
    result: FloatArray = np.diff(values, axis=-1) / values[:, :-1]
    return result


def _total_return(returns: FloatArray) -> FloatArray:
    if returns.shape[1] == 0:
        return _nan_rows(returns)
    result: FloatArray = np.prod(returns + 1.0, axis=-1) - 1.0
    return result


def _cagr(returns: FloatArray, periods_per_year: float) -> FloatArray:
    if returns.shape[1] == 0:
        return _nan_rows(returns)
    years = returns.shape[1] / periods_per_year
    ending = np.prod(returns + 1.0, axis=-1)
    with np.errstate(over="ignore"):
        result: FloatArray = ending ** (1 / years) - 1
    return result


def _sample_std(returns: FloatArray) -> FloatArray:
    """Standard deviation with ddof=1, exactly 0 for a row whose returns are all the same.

    The float mean of identical values can miss them by one ulp and leave a residue near
    1e-18, which would turn an infinite Sharpe ratio into an arbitrary huge number
    (empyrical applies the same rule).
    """
    constant = returns.max(axis=-1) == returns.min(axis=-1)
    result: FloatArray = np.where(constant, 0.0, np.std(returns, axis=-1, ddof=1))
    return result


def _annual_volatility(returns: FloatArray, periods_per_year: float) -> FloatArray:
    if returns.shape[1] < 2:
        return _nan_rows(returns)
    result: FloatArray = _sample_std(returns) * float(periods_per_year ** (1.0 / 2.0))
    return result


def _sharpe_ratio(returns: FloatArray, periods_per_year: float) -> FloatArray:
    if returns.shape[1] < 2:
        return _nan_rows(returns)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = (
            np.mean(returns, axis=-1) / _sample_std(returns) * np.sqrt(periods_per_year)
        )
    return result


def _downside_risk(returns: FloatArray, periods_per_year: float) -> FloatArray:
    if returns.shape[1] == 0:
        return _nan_rows(returns)
    downside = np.clip(returns, -np.inf, 0.0)
    result: FloatArray = np.sqrt(np.mean(np.square(downside), axis=-1)) * np.sqrt(periods_per_year)
    return result


def _sortino_ratio(returns: FloatArray, periods_per_year: float) -> FloatArray:
    if returns.shape[1] < 2:
        return _nan_rows(returns)
    annual_mean = np.mean(returns, axis=-1) * periods_per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = annual_mean / _downside_risk(returns, periods_per_year)
    return result


def _max_drawdown(returns: FloatArray) -> FloatArray:
    if returns.shape[1] == 0:
        return _nan_rows(returns)
    curves = np.empty((returns.shape[0], returns.shape[1] + 1), dtype=np.float64)
    curves[:, 0] = 100.0
    curves[:, 1:] = np.cumprod(returns + 1.0, axis=-1) * 100.0
    result: FloatArray = np.min(drawdowns(curves)[:, 1:], axis=-1)
    return result


def _calmar_ratio(growth: FloatArray, deepest: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = growth / np.abs(deepest)
    result: FloatArray = np.where((deepest < 0) & ~np.isinf(ratio), ratio, np.nan)
    return result


def _longest_underwater(values: FloatArray, times_ns: IntArray) -> tuple[IntArray, FloatArray]:
    """Longest underwater period of each row, in bars and in nanoseconds."""
    rows, count = values.shape
    if count == 0:
        return np.zeros(rows, dtype=np.int64), np.zeros(rows, dtype=np.float64)
    positions = np.arange(count, dtype=np.int64)
    at_peak = values >= np.maximum.accumulate(values, axis=-1)
    last_peak = np.maximum.accumulate(np.where(at_peak, positions, 0), axis=-1)
    # A period ends at a recovery (a peak right after an underwater bar) or at the last bar.
    ends = np.zeros_like(at_peak)
    ends[:, 1:] = at_peak[:, 1:] & ~at_peak[:, :-1]
    ends[:, -1] |= ~at_peak[:, -1]
    started = np.empty_like(last_peak)
    started[:, 0] = 0
    started[:, 1:] = np.where(at_peak[:, 1:], last_peak[:, :-1], last_peak[:, 1:])
    bars = np.where(ends, positions - started, 0)
    nanos = np.where(ends, times_ns[np.newaxis, :] - times_ns[started], 0)
    return bars.max(axis=-1).astype(np.int64), nanos.max(axis=-1).astype(np.float64)
