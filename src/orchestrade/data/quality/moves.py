"""Price-move checks: robust outliers, KRX daily price limits, and large moves.

Outlier ranges are judged among the bars with a positive range only: sparse minute data has
many single-trade bars with high == low, which would otherwise make the typical range zero.

Robust z-score of a series x (per symbol): ``(x - median) / (1.4826 * MAD)``; when more than
half the values are equal (MAD = 0) the scale falls back to ``1.2533 * mean |x - median|``,
and when that is 0 too nothing is an outlier.

KRX daily price limit: a close may move at most 30% from the previous session's close since
2015-06-15 and 15% before (the narrower limits of the 1990s are not modelled). Prices in the
files are split-adjusted and rounded to whole won, so a move counts as a breach only beyond the
limit plus `limit_tolerance` (0.5% by default). Only consecutive sessions are compared: a move
across missing sessions is reported as a large move instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestrade.data.quality.frame import BarArrays, Flagged, FloatArray, IntArray
from orchestrade.data.quality.report import Check
from orchestrade.domain import Market

KRX_LIMIT_CHANGE = pd.Timestamp("2015-06-15", tz="UTC").value
_MAD_TO_SIGMA = 1.4826
_MEAN_AD_TO_SIGMA = 1.2533


def move_flags(
    arrays: BarArrays,
    rows: IntArray,
    *,
    market: Market,
    session_positions: IntArray | None,
    outlier_threshold: float,
    range_threshold: float,
    large_move: float,
    limit_tolerance: float,
) -> list[Flagged]:
    """Flag outlier returns and ranges, limit breaches and large moves on usable `rows`.

    `rows` are one market's usable rows sorted by symbol and time; `session_positions`
    (aligned with `rows`, daily bars only) tells which closes are consecutive sessions.
    """
    a = arrays
    flags: list[Flagged] = []
    valid = np.isfinite(a.close[rows]) & (a.close[rows] > 0)
    priced = rows[valid]
    if len(priced) > 1:
        flags.extend(
            _return_flags(
                a,
                priced,
                market=market,
                positions=None if session_positions is None else session_positions[valid],
                outlier_threshold=outlier_threshold,
                large_move=large_move,
                limit_tolerance=limit_tolerance,
            )
        )
    high, low = a.high[rows], a.low[rows]
    with np.errstate(invalid="ignore"):
        ranged = rows[np.isfinite(high) & np.isfinite(low) & (low > 0) & (high > low)]
    if len(ranged):
        spread = np.log(a.high[ranged] / a.low[ranged])
        z = robust_z(spread, a.codes[ranged])
        outliers = np.flatnonzero(z > range_threshold)
        if len(outliers):
            z_of = dict(zip(ranged[outliers].tolist(), z[outliers].tolist(), strict=True))
            flagged = Flagged.of_rows(
                Check.OUTLIER_RANGE,
                a,
                ranged[outliers],
                lambda row: f"{a.ohlc_text(row)}, range z={z_of[row]:.1f}",
            )
            flags.append(_prioritized(flagged, z[outliers]))
    return flags


def robust_z(values: FloatArray, codes: IntArray) -> FloatArray:
    """Robust z-score of each value within its symbol (module docstring)."""
    groups = pd.Series(values).groupby(codes)
    median = groups.transform("median").to_numpy(dtype=np.float64)
    deviation = np.abs(values - median)
    by_code = pd.Series(deviation).groupby(codes)
    scale = _MAD_TO_SIGMA * by_code.transform("median").to_numpy(dtype=np.float64)
    fallback = _MEAN_AD_TO_SIGMA * by_code.transform("mean").to_numpy(dtype=np.float64)
    scale = np.where(scale > 0, scale, fallback)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (values - median) / scale, 0.0)
    return np.asarray(z, dtype=np.float64)


def _return_flags(
    a: BarArrays,
    priced: IntArray,
    *,
    market: Market,
    positions: IntArray | None,
    outlier_threshold: float,
    large_move: float,
    limit_tolerance: float,
) -> list[Flagged]:
    flags: list[Flagged] = []
    codes = a.codes[priced]
    follows = codes[1:] == codes[:-1]
    previous, current = priced[:-1][follows], priced[1:][follows]
    if not len(current):
        return flags
    before, after = a.close[previous], a.close[current]
    log_return = np.log(after / before)
    change = after / before - 1.0
    previous_of = dict(zip(current.tolist(), previous.tolist(), strict=True))

    def move(row: int) -> str:
        old, new = a.close[previous_of[row]], a.close[row]
        return f"close {old:.10g} -> {new:.10g} ({new / old - 1.0:+.1%})"

    z = robust_z(log_return, a.codes[current])
    outliers = np.flatnonzero(np.abs(z) > outlier_threshold)
    if len(outliers):
        z_of = dict(zip(current[outliers].tolist(), z[outliers].tolist(), strict=True))
        flagged = Flagged.of_rows(
            Check.OUTLIER_RETURN,
            a,
            current[outliers],
            lambda row: f"{move(row)}, z={z_of[row]:.1f}",
        )
        flags.append(_prioritized(flagged, np.abs(z[outliers])))

    big = np.abs(change) > large_move
    if market is Market.KRX and positions is not None:
        steps = positions[1:][follows] - positions[:-1][follows]
        consecutive = (steps == 1) & (positions[:-1][follows] >= 0)
        limit = np.where(a.nanos[current] >= KRX_LIMIT_CHANGE, 0.30, 0.15)
        breach = consecutive & (np.abs(change) > limit + limit_tolerance)
        if breach.any():
            limit_of = dict(zip(current[breach].tolist(), limit[breach].tolist(), strict=True))
            flagged = Flagged.of_rows(
                Check.PRICE_LIMIT_BREACH,
                a,
                current[breach],
                lambda row: f"{move(row)} beyond the ±{limit_of[row]:.0%} daily limit",
            )
            flags.append(_prioritized(flagged, np.abs(change[breach])))
        big = ~breach & ((~consecutive & (np.abs(change) > limit + limit_tolerance)) | big)
    if big.any():
        flagged = Flagged.of_rows(Check.LARGE_MOVE, a, current[big], move)
        flags.append(_prioritized(flagged, np.abs(change[big])))
    return flags


def _prioritized(flagged: Flagged, priority: FloatArray) -> Flagged:
    return Flagged(
        flagged.check,
        flagged.codes,
        flagged.rows,
        flagged.describe,
        weights=flagged.weights,
        priority=np.asarray(priority, dtype=np.float64),
    )
