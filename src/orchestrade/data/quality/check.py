"""Run every quality check on a raw bar frame and assemble the report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from itertools import pairwise

import numpy as np
import pandas as pd

from orchestrade.data.errors import DataError
from orchestrade.data.quality.continuity import continuity_flags
from orchestrade.data.quality.frame import BarArrays, Flagged, IntArray, prepare
from orchestrade.data.quality.integrity import integrity_flags
from orchestrade.data.quality.moves import move_flags
from orchestrade.data.quality.report import (
    Check,
    Example,
    Finding,
    QualityReport,
    Severity,
    SymbolQuality,
    recommend,
    score_symbol,
)
from orchestrade.data.resampling import parse_timeframe
from orchestrade.domain import Market

MAX_EXAMPLES = 5


class QualityInputError(DataError):
    """The arguments of a quality check are unusable (not the data: bad data is reported)."""


def check_quality(
    frame: pd.DataFrame,
    *,
    market_of: Mapping[str, Market] | Market,
    timeframe: str,
    outlier_threshold: float = 8.0,
    range_threshold: float = 25.0,
    large_move: float = 0.30,
    limit_tolerance: float = 0.005,
) -> QualityReport:
    """Check a raw normalized bar frame, symbol by symbol, and score each symbol.

    The frame may hold anything a file reader produced (NaN, NaT, duplicates, unsorted rows,
    wrong dtypes): every problem becomes a finding, nothing raises because of the data.

    Args:
        frame: bars with the contract columns symbol, timestamp, open, high, low, close, volume.
        market_of: the market of every symbol, or one market for all.
        timeframe: the bars' timeframe ("1m", "5m", "1h", "1d", "1w", ...).
        outlier_threshold: robust z-score beyond which a close-to-close log return is an outlier.
        range_threshold: robust z-score beyond which a bar's log(high/low) is an outlier (higher
            than for returns because ranges are right-skewed).
        large_move: simple close-to-close change reported as a large move (info).
        limit_tolerance: slack over the KRX daily price limit before a move is a breach.

    Raises:
        QualityInputError: when `frame` is not a DataFrame, a symbol has no market, or a
            threshold is not positive.
        TimeframeError: when `timeframe` is not a supported timeframe.
    """
    parsed = parse_timeframe(timeframe)
    if not isinstance(frame, pd.DataFrame):
        raise QualityInputError(
            f"check_quality needs a pandas DataFrame, got {type(frame).__name__}"
        )
    thresholds = {
        "outlier_threshold": outlier_threshold,
        "range_threshold": range_threshold,
        "large_move": large_move,
        "limit_tolerance": limit_tolerance,
    }
    for name, value in thresholds.items():
        if not value > 0:
            raise QualityInputError(f"{name} must be positive, got {value}")
    arrays, frame_findings = prepare(frame, daily=not parsed.is_intraday)
    if "symbol" not in frame.columns:
        return QualityReport(str(parsed), (), tuple(frame_findings), thresholds)
    markets = _markets(arrays.symbols, market_of)
    no_symbol = np.flatnonzero(arrays.codes < 0)
    if len(no_symbol):
        examples = tuple(
            Example(arrays.time_text(int(arrays.nanos[row])), "no symbol", int(row))
            for row in no_symbol[:MAX_EXAMPLES]
        )
        frame_findings.append(
            Finding(
                Check.MISSING_SYMBOL,
                Severity.ERROR,
                len(no_symbol),
                len(no_symbol),
                _message(Check.MISSING_SYMBOL, len(no_symbol), len(no_symbol)),
                examples,
            )
        )

    flags, usable = integrity_flags(arrays)
    expected: dict[int, int] = {}
    for market in sorted(set(markets), key=lambda m: m.value):
        codes = np.flatnonzero(np.array([m is market for m in markets]))
        rows = usable[np.isin(arrays.codes[usable], codes)]
        continuity = continuity_flags(arrays, rows, market=market, timeframe=parsed)
        flags.extend(continuity.flags)
        expected.update(continuity.expected)
        flags.extend(
            move_flags(
                arrays,
                rows,
                market=market,
                session_positions=continuity.session_positions,
                outlier_threshold=outlier_threshold,
                range_threshold=range_threshold,
                large_move=large_move,
                limit_tolerance=limit_tolerance,
            )
        )
    frame_error = any(found.severity is Severity.ERROR for found in frame_findings)
    results = _symbol_results(arrays, markets, flags, expected, usable, frame_error)
    return QualityReport(str(parsed), results, tuple(frame_findings), thresholds)


def _markets(symbols: tuple[str, ...], market_of: Mapping[str, Market] | Market) -> list[Market]:
    if isinstance(market_of, Market):
        return [market_of] * len(symbols)
    unknown = [symbol for symbol in symbols if symbol not in market_of]
    if unknown:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise QualityInputError(f"market_of has no market for {len(unknown)} symbols: {shown}")
    markets = [market_of[symbol] for symbol in symbols]
    wrong = [
        symbol
        for symbol, market in zip(symbols, markets, strict=True)
        if not isinstance(market, Market)
    ]
    if wrong:
        raise QualityInputError(f"market_of must map symbols to Market members; bad: {wrong[:10]}")
    return markets


def _symbol_results(
    arrays: BarArrays,
    markets: list[Market],
    flags: list[Flagged],
    expected: dict[int, int],
    usable: IntArray,
    frame_error: bool,
) -> tuple[SymbolQuality, ...]:
    count = len(arrays.symbols)
    rows_per_symbol = np.bincount(arrays.codes[arrays.codes >= 0], minlength=count)
    usable_per_symbol = np.bincount(arrays.codes[usable], minlength=count)
    findings: dict[int, list[Finding]] = defaultdict(list)
    error_rows: list[IntArray] = []
    warning_rows: list[IntArray] = []
    missing = np.zeros(count, dtype=np.int64)
    for flagged in flags:
        weights = (
            np.ones(len(flagged.codes), dtype=np.int64)
            if flagged.weights is None
            else flagged.weights
        )
        totals = np.bincount(flagged.codes, weights=weights, minlength=count).astype(np.int64)
        spans = np.bincount(flagged.codes, minlength=count)
        severity = flagged.check.severity
        if flagged.check in (Check.MISSING_SESSIONS, Check.MISSING_INTERVALS):
            missing += totals
        elif severity is Severity.ERROR:
            error_rows.append(flagged.rows)
        elif severity is Severity.WARNING:
            warning_rows.append(flagged.rows)
        rows_of = _rows_by_code(flagged)
        for code, items in _examples(flagged).items():
            findings[code].append(
                Finding(
                    flagged.check,
                    severity,
                    int(totals[code]),
                    int(spans[code]),
                    _message(flagged.check, int(totals[code]), int(spans[code])),
                    tuple(flagged.describe(item) for item in items),
                    rows_of.get(code, ()),
                )
            )
    bad = _rows_per_symbol(arrays, error_rows, count)
    doubtful = _rows_per_symbol(arrays, warning_rows, count, exclude=error_rows)
    order = list(Check)
    results = []
    for code, symbol in enumerate(arrays.symbols):
        mine = sorted(findings.get(code, []), key=lambda found: order.index(found.check))
        times = arrays.nanos[usable[arrays.codes[usable] == code]]
        has_error = frame_error or any(found.severity is Severity.ERROR for found in mine)
        score = score_symbol(
            rows=int(rows_per_symbol[code]),
            error_rows=int(bad[code]),
            warning_rows=int(doubtful[code]),
            missing=int(missing[code]),
            expected=expected.get(code, 0),
        )
        results.append(
            SymbolQuality(
                symbol=symbol,
                market=markets[code].value,
                rows=int(rows_per_symbol[code]),
                first=arrays.time_text(int(times.min())) if len(times) else None,
                last=arrays.time_text(int(times.max())) if len(times) else None,
                error_rows=int(bad[code]),
                warning_rows=int(doubtful[code]),
                missing=int(missing[code]),
                expected=expected.get(code, 0),
                score=score,
                recommendation=recommend(
                    score, usable_rows=int(usable_per_symbol[code]), has_error=has_error
                ),
                findings=tuple(mine),
            )
        )
    return tuple(results)


def _rows_per_symbol(
    arrays: BarArrays, groups: list[IntArray], count: int, exclude: list[IntArray] | None = None
) -> IntArray:
    """Distinct input rows per symbol among `groups`, leaving out rows in `exclude`."""
    if not groups:
        return np.zeros(count, dtype=np.int64)
    rows = np.unique(np.concatenate(groups))
    rows = rows[rows >= 0]
    if exclude:
        rows = np.setdiff1d(rows, np.concatenate(exclude), assume_unique=False)
    return np.bincount(arrays.codes[rows], minlength=count).astype(np.int64)


def _rows_by_code(flagged: Flagged) -> dict[int, tuple[int, ...]]:
    """The flagged input rows of each symbol code, in row order."""
    is_row = flagged.rows >= 0
    codes, rows = flagged.codes[is_row], flagged.rows[is_row]
    if not len(rows):
        return {}
    order = np.lexsort((rows, codes))
    codes, rows = codes[order], rows[order]
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    return {
        int(codes[start]): tuple(rows[start:end].tolist())
        for start, end in pairwise(bounds.tolist())
    }


def _examples(flagged: Flagged) -> dict[int, list[int]]:
    """Up to MAX_EXAMPLES item numbers per symbol code: highest priority, then input order."""
    items = np.arange(len(flagged.codes))
    priority = np.zeros(len(items)) if flagged.priority is None else flagged.priority
    order = np.lexsort((items, -priority, flagged.codes))
    codes = flagged.codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chosen: dict[int, list[int]] = defaultdict(list)
    for code, item in zip(
        codes[rank < MAX_EXAMPLES].tolist(), order[rank < MAX_EXAMPLES].tolist(), strict=True
    ):
        chosen[code].append(item)
    return chosen


def _message(check: Check, count: int, spans: int) -> str:
    if check in (Check.MISSING_SESSIONS, Check.MISSING_INTERVALS):
        return f"{count} {check.description.split(' without')[0]} missing in {spans} gaps"
    return f"{count} {check.description}"
