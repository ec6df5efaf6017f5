"""Quality of order-book files: replay snapshots and deltas and flag what a venue cannot send.

The input is a raw book-levels frame (columns of `orchestrade.data.files.BOOK_COLUMNS`, every
row in file order). Messages are the runs of rows sharing a `msg_id`; a snapshot replaces a
symbol's book, a delta sets a level's size (size 0 removes the level). After every message the
book must not be crossed. The result is a `QualityReport` with the same score and
recommendation rules as for bars (`orchestrade.data.quality.report`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
from orchestrade.domain import Market

MAX_EXAMPLES = 5
BOOK_TIMEFRAME = "book"


def check_book_quality(
    frame: pd.DataFrame, *, market_of: Mapping[str, Market] | Market = Market.CRYPTO
) -> QualityReport:
    """Check a raw order-book frame symbol by symbol (never raises because of the data).

    Args:
        frame: book levels with the columns of `orchestrade.data.files.BOOK_COLUMNS`.
        market_of: the market of every symbol, or one market for all (only labels the report).
    """
    missing = [
        c
        for c in ("timestamp", "symbol", "msg_id", "update_type", "side", "price", "size")
        if c not in frame.columns
    ]
    if missing:
        schema = Finding(
            Check.SCHEMA,
            Severity.ERROR,
            len(frame),
            1,
            f"order-book frame lacks columns: {', '.join(missing)}",
        )
        return QualityReport(BOOK_TIMEFRAME, (), (schema,))
    results = []
    symbols = frame["symbol"]
    for symbol in pd.unique(symbols[symbols.notna()]):
        rows = np.flatnonzero((symbols == symbol).to_numpy())
        market = market_of if isinstance(market_of, Market) else market_of.get(str(symbol))
        results.append(_check_symbol(str(symbol), market or Market.CRYPTO, frame, rows))
    return QualityReport(BOOK_TIMEFRAME, tuple(results))


@dataclass(slots=True)
class _Flags:
    """Rows flagged per check for one symbol, with example texts."""

    rows: dict[Check, list[int]] = field(default_factory=lambda: defaultdict(list))
    examples: dict[Check, list[Example]] = field(default_factory=lambda: defaultdict(list))

    def add(self, check: Check, rows: list[int], when: str | None, detail: str) -> None:
        self.rows[check].extend(rows)
        if len(self.examples[check]) < MAX_EXAMPLES:
            self.examples[check].append(Example(when, detail, rows[0] if rows else None))


def _check_symbol(
    symbol: str, market: Market, frame: pd.DataFrame, rows: np.ndarray
) -> SymbolQuality:
    part = frame.iloc[rows]
    times = pd.to_datetime(part["timestamp"], utc=True, errors="coerce")
    prices = pd.to_numeric(part["price"], errors="coerce").to_numpy(dtype=float)
    sizes = pd.to_numeric(part["size"], errors="coerce").to_numpy(dtype=float)
    sides = part["side"].astype("string").str.lower().to_numpy()
    kinds = part["update_type"].astype("string").str.lower().to_numpy()
    messages = part["msg_id"].to_numpy()
    flags = _Flags()
    text: list[str | None] = [None if pd.isna(t) else t.isoformat() for t in times]

    _flag_rows(flags, Check.UNPARSEABLE_TIMESTAMP, rows, times.isna().to_numpy(), text, "no time")
    bad_price = ~np.isfinite(prices) | (prices <= 0)
    _flag_rows(flags, Check.NON_POSITIVE_PRICE, rows, bad_price, text, "price")
    _flag_rows(flags, Check.NEGATIVE_SIZE, rows, ~np.isfinite(sizes) | (sizes < 0), text, "size")
    unknown = ~(np.isin(sides, ["bid", "ask"]) & np.isin(kinds, ["snapshot", "delta"]))
    _flag_rows(flags, Check.UNKNOWN_SIDE, rows, unknown, text, "side/update type")
    nanos = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    valid_time = ~times.isna().to_numpy()
    earlier = np.zeros(len(rows), dtype=bool)
    earlier[1:] = valid_time[1:] & valid_time[:-1] & (nanos[1:] < nanos[:-1])
    _flag_rows(flags, Check.UNSORTED, rows, earlier, text, "earlier than the previous row")
    if "local_timestamp" in part.columns:
        local = pd.to_datetime(part["local_timestamp"], utc=True, errors="coerce")
        before = (local < times).fillna(False).to_numpy(dtype=bool)
        _flag_rows(flags, Check.RECEIVED_BEFORE_SENT, rows, before, text, "received before sent")

    usable = ~(bad_price | unknown | ~np.isfinite(sizes) | (sizes < 0))
    _replay(flags, rows, messages, kinds, sides, prices, sizes, usable, text)
    return _result(symbol, market, rows, flags, text)


def _flag_rows(
    flags: _Flags,
    check: Check,
    rows: np.ndarray,
    mask: np.ndarray,
    text: list[str | None],
    what: str,
) -> None:
    for position in np.flatnonzero(mask):
        flags.add(check, [int(rows[position])], text[position], what)


def _replay(
    flags: _Flags,
    rows: np.ndarray,
    messages: np.ndarray,
    kinds: np.ndarray,
    sides: np.ndarray,
    prices: np.ndarray,
    sizes: np.ndarray,
    usable: np.ndarray,
    text: list[str | None],
) -> None:
    """Apply each message in order; flag level order, deltas without a book, crossed books."""
    book: dict[str, dict[float, float]] = {"bid": {}, "ask": {}}
    have_snapshot = False
    starts = np.flatnonzero(np.r_[True, messages[1:] != messages[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    for start, end in zip(starts, ends, strict=True):
        members = [i for i in range(start, end) if usable[i]]
        if not members:
            continue
        message_rows = [int(rows[i]) for i in members]
        when = text[start]
        if kinds[members[0]] == "snapshot":
            have_snapshot = True
            book = {"bid": {}, "ask": {}}
            for side, descending in (("bid", True), ("ask", False)):
                levels = [prices[i] for i in members if sides[i] == side]
                ordered = sorted(levels, reverse=descending)
                if levels != ordered or len(set(levels)) != len(levels):
                    flags.add(Check.UNSORTED_LEVELS, message_rows, when, f"{side} levels")
                book[side] = {prices[i]: sizes[i] for i in members if sides[i] == side}
        else:
            if not have_snapshot:
                flags.add(Check.DELTA_BEFORE_SNAPSHOT, message_rows, when, "delta, no book yet")
            for i in members:
                side_levels = book[str(sides[i])]
                if sizes[i] == 0:
                    side_levels.pop(prices[i], None)
                else:
                    side_levels[prices[i]] = sizes[i]
        bids, asks = book["bid"], book["ask"]
        if bids and asks and max(bids) >= min(asks):
            flags.add(Check.CROSSED_BOOK, message_rows, when, f"bid {max(bids)} >= ask {min(asks)}")


def _result(
    symbol: str, market: Market, rows: np.ndarray, flags: _Flags, text: list[str | None]
) -> SymbolQuality:
    order = list(Check)
    findings = []
    error_rows: set[int] = set()
    warning_rows: set[int] = set()
    for check in sorted(flags.rows, key=order.index):
        flagged = sorted(set(flags.rows[check]))
        severity = check.severity
        (error_rows if severity is Severity.ERROR else warning_rows).update(flagged)
        findings.append(
            Finding(
                check,
                severity,
                len(flagged),
                len(flagged),
                f"{len(flagged)} {check.description}",
                tuple(flags.examples[check]),
                tuple(flagged),
            )
        )
    warning_rows -= error_rows
    score = score_symbol(
        rows=len(rows),
        error_rows=len(error_rows),
        warning_rows=len(warning_rows),
        missing=0,
        expected=0,
    )
    known = [t for t in text if t is not None]
    return SymbolQuality(
        symbol=symbol,
        market=market.value,
        rows=len(rows),
        first=min(known) if known else None,
        last=max(known) if known else None,
        error_rows=len(error_rows),
        warning_rows=len(warning_rows),
        missing=0,
        expected=0,
        score=score,
        recommendation=recommend(
            score,
            usable_rows=len(rows) - len(error_rows),
            has_error=any(f.severity is Severity.ERROR for f in findings),
        ),
        findings=tuple(findings),
    )
