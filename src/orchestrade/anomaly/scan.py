"""Run the market detectors over a stored bar or order-book history, as a live feed would.

The same streaming detectors the anomaly agent runs are fed every bar of a history in time
order, symbol by symbol (bars of different symbols never share a detector window), and
every order-book message after it is applied (a snapshot replaces the book, a delta sets a
level, size 0 removes it). What trips them is returned with the bar or message that did.

The inputs are the normalized frames of `orchestrade.data` (`read_market_file`, then
`clean_bars` / `clean_book_levels`): bars with columns symbol, timestamp (aware UTC, the
bar's start), open, high, low, close, volume; book levels with timestamp, symbol, msg_id,
update_type (snapshot/delta), side (bid/ask), price, size, in message order.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

import numpy as np
import pandas as pd

from orchestrade.anomaly.market_detectors import (
    BookImbalanceDetector,
    PriceMoveDetector,
    VolumeSpikeDetector,
)
from orchestrade.anomaly.thresholds import AnomalyThresholds
from orchestrade.domain import TIMEFRAME_SECONDS, AnomalyDetected, Symbol

BAR_INPUT = ("symbol", "timestamp", "open", "high", "low", "close", "volume")
BOOK_INPUT = ("timestamp", "symbol", "msg_id", "update_type", "side", "price", "size")


@dataclass(frozen=True, slots=True)
class ScanFinding:
    """One anomaly of a history and the bar (its start) or book message that caused it."""

    anomaly: AnomalyDetected
    at: datetime
    """The start of the bar, or the time of the book message."""


@dataclass(slots=True)
class ScanReport:
    """What a scan saw and found."""

    source: str
    kind: str  # "bars" or "book"
    rows: int = 0
    symbols: int = 0
    timeframe: str | None = None
    findings: list[ScanFinding] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """Findings per detector."""
        return Counter(finding.anomaly.detector for finding in self.findings)

    def of(self, detector: str) -> list[ScanFinding]:
        """The findings of one detector, in time order per symbol."""
        return [finding for finding in self.findings if finding.anomaly.detector == detector]


def scan_bars(
    frame: pd.DataFrame,
    timeframe: str,
    *,
    thresholds: AnomalyThresholds | None = None,
    source: str = "",
) -> ScanReport:
    """Feed every bar of `frame` to the price-move and volume-spike detectors.

    Args:
        frame: clean bars (see the module docstring), any order: they are taken per symbol
            in time order.
        timeframe: the bars' length ("1m", "1d", ...).

    Raises:
        ValueError: an unknown timeframe or missing columns.
    """
    if timeframe not in TIMEFRAME_SECONDS:
        raise ValueError(f"unknown timeframe {timeframe!r}; use one of {list(TIMEFRAME_SECONDS)}")
    missing = [column for column in BAR_INPUT if column not in frame.columns]
    if missing:
        raise ValueError(f"bar frame lacks columns: {', '.join(missing)}")
    chosen = thresholds or AnomalyThresholds()
    moves, volumes = PriceMoveDetector(chosen), VolumeSpikeDetector(chosen)
    ordered = frame.sort_values(["symbol", "timestamp"], kind="stable")
    report = ScanReport(source, "bars", rows=len(ordered), timeframe=timeframe)
    report.symbols = int(ordered["symbol"].nunique())
    step = timedelta(seconds=TIMEFRAME_SECONDS[timeframe])
    starts = _datetimes(ordered["timestamp"])
    symbols = ordered["symbol"].astype(str).tolist()
    columns = [
        ordered[name].to_numpy(dtype="float64").tolist()
        for name in ("open", "high", "low", "close", "volume")
    ]
    for symbol, start, open_, high, low, close, volume in zip(
        symbols, starts, *columns, strict=True
    ):
        end = start + step
        name = Symbol(symbol)
        move = moves.update(name, start, end, open_, high, low, close)
        if move is not None:
            report.findings.append(ScanFinding(move, start))
        spike = volumes.update(name, start, volume)
        if spike is not None:
            report.findings.append(ScanFinding(spike, start))
    return report


def scan_book(
    frame: pd.DataFrame,
    *,
    thresholds: AnomalyThresholds | None = None,
    source: str = "",
) -> ScanReport:
    """Replay order-book messages and judge the imbalance of the book after each one.

    Raises:
        ValueError: missing columns.
    """
    missing = [column for column in BOOK_INPUT if column not in frame.columns]
    if missing:
        raise ValueError(f"book frame lacks columns: {', '.join(missing)}")
    chosen = thresholds or AnomalyThresholds()
    detector = BookImbalanceDetector(chosen)
    levels = chosen.book_levels
    report = ScanReport(source, "book", rows=len(frame))
    report.symbols = int(frame["symbol"].nunique())
    times = _datetimes(frame["timestamp"])
    symbols = frame["symbol"].astype(str).to_numpy()
    messages = frame["msg_id"].to_numpy()
    kinds = frame["update_type"].astype(str).str.lower().to_numpy()
    sides = frame["side"].astype(str).str.lower().to_numpy()
    prices = frame["price"].to_numpy(dtype="float64")
    sizes = frame["size"].to_numpy(dtype="float64")
    books: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
    keys = list(zip(symbols, messages, strict=True))
    boundaries = [0, *(i for i in range(1, len(keys)) if keys[i] != keys[i - 1]), len(keys)]
    for first, end in pairwise(boundaries):
        symbol = str(symbols[first])
        if kinds[first] == "snapshot" or symbol not in books:
            books[symbol] = ({}, {})
        bids, asks = books[symbol]
        for row in range(first, end):
            side = bids if sides[row] == "bid" else asks
            if sizes[row] == 0:
                side.pop(float(prices[row]), None)
            else:
                side[float(prices[row])] = float(sizes[row])
        best_bids = heapq.nlargest(levels, bids)
        best_asks = heapq.nsmallest(levels, asks)
        finding = detector.update(
            Symbol(symbol),
            times[first],
            [bids[price] for price in best_bids],
            [asks[price] for price in best_asks],
        )
        if finding is not None:
            report.findings.append(ScanFinding(finding, times[first]))
    return report


def _datetimes(values: pd.Series) -> list[datetime]:
    """Aware UTC datetimes of a timestamp column (naive values are taken as UTC)."""
    stamps = pd.to_datetime(values, utc=True)
    nanos = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    epoch = pd.Timestamp(0, tz="UTC").to_pydatetime()
    # datetime arithmetic in microseconds: exact for every time the files carry.
    return [epoch + timedelta(microseconds=int(value) // 1000) for value in nanos.tolist()]
