"""What a quality check found: findings per symbol, a score, a recommendation, and renderings.

Score (per symbol, 0..1)::

    score = integrity * completeness * cleanliness
    integrity    = max(0, 1 - 10 * error_rows / rows)        # harsh: 10% bad rows -> 0
    completeness = 1 - 0.5 * missing / expected               # expected = bars + missing bars
    cleanliness  = 1 - warning_rows / rows

*error_rows* are the rows hit by at least one ERROR check (integrity: unparseable timestamp,
missing or non-positive price, missing or negative volume, inconsistent OHLC, duplicate
timestamp, a move beyond the KRX daily price limit); *warning_rows* the other rows hit by a
WARNING check (unsorted, off-grid, outside any session, zero volume, outlier return or range);
*missing* the sessions or intervals the calendar expects between the symbol's first and last
bar that have no bar. INFO findings (extended-hours bars, large moves) do not lower the score.

Recommendation:

* ``reject``: no usable row, or score < 0.5 (missing bars alone halve the score at most, so
  they never reject a symbol on their own: the bars that exist are still right);
* ``use with care``: score < 0.9, or any ERROR finding for the symbol or the frame;
* ``use``: otherwise (warnings allowed).

The report's overall recommendation is ``reject`` when the frame cannot be checked (no symbol
column) or every symbol is rejected, ``use`` when every symbol is ``use`` and the frame has no
error, else ``use with care``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

USE_THRESHOLD = 0.9
REJECT_THRESHOLD = 0.5
ERROR_PENALTY = 10.0
MISSING_WEIGHT = 0.5


class Severity(StrEnum):
    """How much a finding matters: errors corrupt numbers, warnings need a look, info informs."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Recommendation(StrEnum):
    """What to do with a symbol's data (thresholds in the module docstring)."""

    USE = "use"
    USE_WITH_CARE = "use with care"
    REJECT = "reject"


class Check(StrEnum):
    """Every check the quality report runs; the value is the key used in dicts and tables."""

    SCHEMA = "schema"
    MISSING_SYMBOL = "missing_symbol"
    UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
    MISSING_PRICE = "missing_price"
    MISSING_VOLUME = "missing_volume"
    NON_POSITIVE_PRICE = "non_positive_price"
    HIGH_BELOW_OPEN_CLOSE = "high_below_open_close"
    LOW_ABOVE_OPEN_CLOSE = "low_above_open_close"
    HIGH_BELOW_LOW = "high_below_low"
    NEGATIVE_VOLUME = "negative_volume"
    DUPLICATE_TIMESTAMP = "duplicate_timestamp"
    PRICE_LIMIT_BREACH = "price_limit_breach"
    UNSORTED = "unsorted"
    OFF_GRID = "off_grid"
    OUTSIDE_SESSION = "outside_session"
    MISSING_SESSIONS = "missing_sessions"
    MISSING_INTERVALS = "missing_intervals"
    ZERO_VOLUME = "zero_volume"
    OUTLIER_RETURN = "outlier_return"
    OUTLIER_RANGE = "outlier_range"
    EXTENDED_HOURS = "extended_hours"
    LARGE_MOVE = "large_move"
    # Order-book files (`orchestrade.data.quality.book`).
    UNKNOWN_SIDE = "unknown_side"
    NEGATIVE_SIZE = "negative_size"
    UNSORTED_LEVELS = "unsorted_levels"
    CROSSED_BOOK = "crossed_book"
    DELTA_BEFORE_SNAPSHOT = "delta_before_snapshot"
    RECEIVED_BEFORE_SENT = "received_before_sent"

    @property
    def severity(self) -> Severity:
        """The fixed severity of this check (schema findings carry their own)."""
        return _SEVERITY.get(self, Severity.ERROR)

    @property
    def description(self) -> str:
        """One line saying what the check counts."""
        return _DESCRIPTION[self]


_SEVERITY = {
    Check.UNSORTED: Severity.WARNING,
    Check.OFF_GRID: Severity.WARNING,
    Check.OUTSIDE_SESSION: Severity.WARNING,
    Check.MISSING_SESSIONS: Severity.WARNING,
    Check.MISSING_INTERVALS: Severity.WARNING,
    Check.ZERO_VOLUME: Severity.WARNING,
    Check.OUTLIER_RETURN: Severity.WARNING,
    Check.OUTLIER_RANGE: Severity.WARNING,
    Check.EXTENDED_HOURS: Severity.INFO,
    Check.LARGE_MOVE: Severity.INFO,
    Check.DELTA_BEFORE_SNAPSHOT: Severity.WARNING,
    Check.RECEIVED_BEFORE_SENT: Severity.WARNING,
}

_DESCRIPTION = {
    Check.SCHEMA: "columns or dtypes differ from the normalized bar frame contract",
    Check.MISSING_SYMBOL: "rows without a symbol (left out of the per-symbol checks)",
    Check.UNPARSEABLE_TIMESTAMP: "rows whose timestamp is missing or could not be parsed",
    Check.MISSING_PRICE: "rows with a missing or infinite open, high, low or close",
    Check.MISSING_VOLUME: "rows with a missing or infinite volume",
    Check.NON_POSITIVE_PRICE: "rows with a zero or negative price",
    Check.HIGH_BELOW_OPEN_CLOSE: "rows whose high is below the open or the close",
    Check.LOW_ABOVE_OPEN_CLOSE: "rows whose low is above the open or the close",
    Check.HIGH_BELOW_LOW: "rows whose high is below the low",
    Check.NEGATIVE_VOLUME: "rows with a negative volume",
    Check.DUPLICATE_TIMESTAMP: "rows repeating an earlier timestamp of the same symbol",
    Check.PRICE_LIMIT_BREACH: "closes beyond the KRX daily price limit from the previous session",
    Check.UNSORTED: "rows earlier than the previous row of the same symbol",
    Check.OFF_GRID: "bars not starting on the timeframe's grid",
    Check.OUTSIDE_SESSION: "bars on a date that is not a trading session of the market",
    Check.MISSING_SESSIONS: "trading sessions without a bar between the first and last bar",
    Check.MISSING_INTERVALS: "regular-hours intervals without a bar between the first and last bar",
    Check.ZERO_VOLUME: "bars with zero volume",
    Check.OUTLIER_RETURN: "close-to-close log returns with a robust z-score beyond the threshold",
    Check.OUTLIER_RANGE: "bars whose log(high/low) has a robust z-score beyond the threshold",
    Check.EXTENDED_HOURS: "bars outside regular hours on a trading date (pre/post-market)",
    Check.LARGE_MOVE: "close-to-close moves beyond the large-move threshold",
    Check.UNKNOWN_SIDE: "book rows whose side is not bid/ask or update type not snapshot/delta",
    Check.NEGATIVE_SIZE: "book rows with a missing or negative size",
    Check.UNSORTED_LEVELS: "snapshot levels not strictly best-first (bids down, asks up)",
    Check.CROSSED_BOOK: "book messages after which the best bid is at or above the best ask",
    Check.DELTA_BEFORE_SNAPSHOT: "delta rows that arrive before any snapshot of the symbol",
    Check.RECEIVED_BEFORE_SENT: "rows whose local (receive) time is before the exchange time",
}


@dataclass(frozen=True, slots=True)
class Example:
    """One instance of a finding: when, what, and the row in the input frame (if a row)."""

    timestamp: str | None
    detail: str
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"timestamp": self.timestamp, "detail": self.detail, "row": self.row}


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check found for one symbol (or for the whole frame).

    `count` is the number of bars (rows, or sessions/intervals for the missing checks)
    affected; `spans` the number of separate occurrences (gaps for the missing checks, else
    equal to `count`). `examples` holds up to five instances; `rows` every flagged input row
    (positions in the checked frame, empty for the missing checks; not in `to_dict`).
    """

    check: Check
    severity: Severity
    count: int
    spans: int
    message: str
    examples: tuple[Example, ...] = ()
    rows: tuple[int, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "check": self.check.value,
            "severity": self.severity.value,
            "count": self.count,
            "spans": self.spans,
            "message": self.message,
            "examples": [example.to_dict() for example in self.examples],
        }


@dataclass(frozen=True, slots=True)
class SymbolQuality:
    """The quality of one symbol's bars."""

    symbol: str
    market: str
    rows: int
    first: str | None
    last: str | None
    error_rows: int
    warning_rows: int
    missing: int
    expected: int
    score: float
    recommendation: Recommendation
    findings: tuple[Finding, ...] = ()

    def finding(self, check: Check | str) -> Finding | None:
        """The finding of `check`, or None when the check found nothing."""
        key = Check(check)
        return next((found for found in self.findings if found.check is key), None)

    def count(self, check: Check | str) -> int:
        """How many bars `check` flagged (0 when it found nothing)."""
        found = self.finding(check)
        return 0 if found is None else found.count

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "symbol": self.symbol,
            "market": self.market,
            "rows": self.rows,
            "first": self.first,
            "last": self.last,
            "error_rows": self.error_rows,
            "warning_rows": self.warning_rows,
            "missing": self.missing,
            "expected": self.expected,
            "score": self.score,
            "recommendation": self.recommendation.value,
            "findings": [found.to_dict() for found in self.findings],
        }


TABLE_COLUMNS = ("symbol", "market", "rows", "score", "recommendation", "errors", "warnings")
"""Column names of `QualityReport.table_rows`."""


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Per-symbol quality of a bar frame, frame-level findings, and an overall verdict."""

    timeframe: str
    symbols: tuple[SymbolQuality, ...]
    frame_findings: tuple[Finding, ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, symbol: str) -> SymbolQuality:
        for result in self.symbols:
            if result.symbol == symbol:
                return result
        raise KeyError(symbol)

    @property
    def recommendation(self) -> Recommendation:
        """Overall verdict (rule in the module docstring)."""
        if not self.symbols or all(
            result.recommendation is Recommendation.REJECT for result in self.symbols
        ):
            return Recommendation.REJECT
        frame_error = any(found.severity is Severity.ERROR for found in self.frame_findings)
        if frame_error or any(
            result.recommendation is not Recommendation.USE for result in self.symbols
        ):
            return Recommendation.USE_WITH_CARE
        return Recommendation.USE

    def totals(self) -> dict[str, int]:
        """Bars flagged per check over all symbols and the frame."""
        totals: Counter[str] = Counter()
        for result in self.symbols:
            for found in result.findings:
                totals[found.check.value] += found.count
        for found in self.frame_findings:
            totals[found.check.value] += found.count
        return dict(sorted(totals.items()))

    def summary(self) -> dict[str, Any]:
        """Overall figures: symbols, rows, scores, recommendations, flagged bars per check."""
        scores = [result.score for result in self.symbols]
        verdicts = Counter(result.recommendation.value for result in self.symbols)
        return {
            "timeframe": self.timeframe,
            "symbols": len(self.symbols),
            "rows": sum(result.rows for result in self.symbols),
            "mean_score": round(sum(scores) / len(scores), 4) if scores else 0.0,
            "min_score": min(scores) if scores else 0.0,
            "recommendation": self.recommendation.value,
            "recommendations": {
                verdict.value: verdicts[verdict.value] for verdict in Recommendation
            },
            "checks": self.totals(),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of the whole report."""
        return {
            "summary": self.summary(),
            "parameters": dict(self.parameters),
            "frame_findings": [found.to_dict() for found in self.frame_findings],
            "symbols": [result.to_dict() for result in self.symbols],
        }

    def table_rows(self) -> list[dict[str, str | int | float]]:
        """One plain row per symbol (keys `TABLE_COLUMNS`) for a CLI table.

        `errors` and `warnings` list the flagged checks with their counts, worst first.
        """
        rows: list[dict[str, str | int | float]] = []
        for result in self.symbols:
            rows.append(
                {
                    "symbol": result.symbol,
                    "market": result.market,
                    "rows": result.rows,
                    "score": result.score,
                    "recommendation": result.recommendation.value,
                    "errors": _summarize(result.findings, Severity.ERROR),
                    "warnings": _summarize(result.findings, Severity.WARNING),
                }
            )
        return rows


def score_symbol(
    *, rows: int, error_rows: int, warning_rows: int, missing: int, expected: int
) -> float:
    """The documented score formula (module docstring), rounded to 4 decimals."""
    if rows <= 0:
        return 0.0
    integrity = max(0.0, 1.0 - ERROR_PENALTY * error_rows / rows)
    completeness = 1.0 - MISSING_WEIGHT * (missing / expected if expected > 0 else 0.0)
    cleanliness = 1.0 - min(warning_rows, rows) / rows
    return round(integrity * completeness * cleanliness, 4)


def recommend(score: float, *, usable_rows: int, has_error: bool) -> Recommendation:
    """The documented recommendation rule (module docstring)."""
    if usable_rows == 0 or score < REJECT_THRESHOLD:
        return Recommendation.REJECT
    if score < USE_THRESHOLD or has_error:
        return Recommendation.USE_WITH_CARE
    return Recommendation.USE


def _summarize(findings: tuple[Finding, ...], severity: Severity) -> str:
    chosen = sorted(
        (found for found in findings if found.severity is severity), key=lambda f: -f.count
    )
    return ", ".join(f"{found.check.value} {found.count}" for found in chosen)
