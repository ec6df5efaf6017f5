"""Turn raw frames into clean ones, counting every row that had to go and why.

Each rejected row is counted once, under the first reason that applies, in the order of
`RejectReason`. What is *not* rejected here: OHLC-inconsistent bars (high below open, ...)
are kept because they are quality warts for the quality checker, not import errors; and an
unsorted file is simply sorted.

A missing (empty) volume is not a reason to drop a bar whose prices are fine: it becomes 0.0
(no reported trades) and is counted in `RejectedRows.filled_volume`, so the import report
still shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from orchestrade.data.errors import FrameError
from orchestrade.data.files import BAR_COLUMNS, BOOK_COLUMNS

MAX_EXAMPLES = 5
BOOK_SIDES = frozenset({"bid", "ask"})
BOOK_UPDATE_TYPES = frozenset({"snapshot", "delta"})
BOOK_KEY = ("exchange", "symbol", "timestamp", "msg_id", "side", "price")


class RejectReason(StrEnum):
    """Why a raw row was dropped; the order is the order in which reasons are tested."""

    UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
    MISSING_SYMBOL = "missing_symbol"
    MISSING_PRICE = "missing_price"  # any of open/high/low/close (book: price/size) NaN or inf
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_VOLUME = "negative_volume"  # also an infinite volume (book: size)
    INVALID_FIELD = "invalid_field"  # book only: side, update_type, msg_id or exchange
    DUPLICATE = "duplicate"  # same key as an earlier row of the file; the first is kept


@dataclass(frozen=True, slots=True)
class RejectedRows:
    """How many raw rows were dropped per reason, with a few example row positions.

    Attributes:
        counts: rows dropped per reason (every reason present, zeros included).
        examples: up to `MAX_EXAMPLES` 0-based row positions in the raw frame per reason
            (for a CSV file, position p is line p + 2 counting the header as line 1).
        filled_volume: kept rows whose missing volume became 0.0 (not a rejection).
    """

    counts: Mapping[RejectReason, int] = field(
        default_factory=lambda: dict.fromkeys(RejectReason, 0)
    )
    examples: Mapping[RejectReason, tuple[int, ...]] = field(
        default_factory=lambda: dict.fromkeys(RejectReason, ())
    )
    filled_volume: int = 0

    @property
    def total(self) -> int:
        """Rows dropped for any reason."""
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, int]:
        """Counts by reason name, for reports and the import log."""
        return {reason.value: self.counts[reason] for reason in RejectReason}


def clean_bars(raw: pd.DataFrame) -> tuple[pd.DataFrame, RejectedRows]:
    """Drop unusable bars, keep the first of duplicate (symbol, timestamp) rows, sort.

    Args:
        raw: a raw bar frame (columns `BAR_COLUMNS`, file order, NaN/NaT where unparseable).

    Returns:
        The clean frame (sorted by symbol then timestamp, unique, finite positive prices,
        finite non-negative volumes, fresh RangeIndex) and the rejected-row counts.

    Raises:
        FrameError: the frame does not have the bar columns.
    """
    _require_columns(raw, BAR_COLUMNS)
    prices = raw[["open", "high", "low", "close"]].to_numpy(dtype="float64")
    volume = raw["volume"].to_numpy(dtype="float64")
    reasons = {
        RejectReason.UNPARSEABLE_TIMESTAMP: raw["timestamp"].isna().to_numpy(),
        RejectReason.MISSING_SYMBOL: raw["symbol"].isna().to_numpy(),
        RejectReason.MISSING_PRICE: ~np.isfinite(prices).all(axis=1),
        RejectReason.NON_POSITIVE_PRICE: (prices <= 0).any(axis=1),
        RejectReason.NEGATIVE_VOLUME: (volume < 0) | np.isinf(volume),
    }
    dropped, rejected = _reject(raw, reasons, key=["symbol", "timestamp"])
    kept = raw.loc[~dropped]
    missing_volume = kept["volume"].isna()
    clean = kept.assign(volume=kept["volume"].fillna(0.0))
    clean = clean.sort_values(["symbol", "timestamp"], kind="stable").reset_index(drop=True)
    clean = clean.astype({"symbol": "object"})
    result = RejectedRows(rejected.counts, rejected.examples, int(missing_volume.sum()))
    return clean[list(BAR_COLUMNS)], result


def clean_book_levels(raw: pd.DataFrame) -> tuple[pd.DataFrame, RejectedRows]:
    """Drop unusable order-book rows; keep file (message) order.

    Args:
        raw: a raw book-levels frame (columns `BOOK_COLUMNS`).

    Returns:
        The clean frame with `msg_id` as int64 (level stays nullable: deltas have none)
        and the rejected-row counts. Duplicates share `BOOK_KEY`.

    Raises:
        FrameError: the frame does not have the book columns.
    """
    _require_columns(raw, BOOK_COLUMNS)
    values = raw[["price", "size"]].to_numpy(dtype="float64")
    size = values[:, 1]
    invalid = (
        raw["msg_id"].isna().to_numpy()
        | raw["exchange"].isna().to_numpy()
        | ~raw["side"].isin(BOOK_SIDES).to_numpy()
        | ~raw["update_type"].isin(BOOK_UPDATE_TYPES).to_numpy()
    )
    reasons = {
        RejectReason.UNPARSEABLE_TIMESTAMP: raw["timestamp"].isna().to_numpy(),
        RejectReason.MISSING_SYMBOL: raw["symbol"].isna().to_numpy(),
        RejectReason.MISSING_PRICE: ~np.isfinite(values).all(axis=1),
        RejectReason.NON_POSITIVE_PRICE: values[:, 0] <= 0,
        RejectReason.NEGATIVE_VOLUME: size < 0,
        RejectReason.INVALID_FIELD: invalid,
    }
    dropped, rejected = _reject(raw, reasons, key=list(BOOK_KEY))
    clean = raw.loc[~dropped].reset_index(drop=True)
    clean = clean.astype({"msg_id": "int64"})
    return clean[list(BOOK_COLUMNS)], rejected


def _reject(
    raw: pd.DataFrame, reasons: Mapping[RejectReason, np.ndarray], *, key: list[str]
) -> tuple[np.ndarray, RejectedRows]:
    """Assign each bad row to its first reason, then mark later duplicates of kept rows."""
    dropped = np.zeros(len(raw), dtype=bool)
    counts = dict.fromkeys(RejectReason, 0)
    examples: dict[RejectReason, tuple[int, ...]] = dict.fromkeys(RejectReason, ())
    for reason, mask in reasons.items():
        new = np.asarray(mask, dtype=bool) & ~dropped
        _count(reason, new, counts, examples)
        dropped |= new
    duplicate = np.zeros(len(raw), dtype=bool)
    survivors = ~dropped
    duplicate[survivors] = raw.loc[survivors].duplicated(key, keep="first").to_numpy()
    _count(RejectReason.DUPLICATE, duplicate, counts, examples)
    return dropped | duplicate, RejectedRows(counts, examples)


def _count(
    reason: RejectReason,
    mask: np.ndarray,
    counts: dict[RejectReason, int],
    examples: dict[RejectReason, tuple[int, ...]],
) -> None:
    positions = np.flatnonzero(mask)
    counts[reason] = int(positions.size)
    examples[reason] = tuple(int(p) for p in positions[:MAX_EXAMPLES])


def _require_columns(frame: pd.DataFrame, expected: tuple[str, ...]) -> None:
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        raise FrameError(f"frame lacks column(s) {', '.join(missing)}; expected {expected}")
