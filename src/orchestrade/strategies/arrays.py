"""Signals of a whole universe as dense arrays: what the backtest kernel consumes.

Long-only: an entry opens (or, if the kernel allows, raises) a long position, an exit
closes it. A signal at bar ``t`` is decided at bar ``t``'s close from data up to and
including bar ``t`` (never later bars). When entry and exit are both set on one bar, the
exit wins: consumers must treat the bar as an exit only (the compiler and the runners of
this package never emit both).

`SignalArrays` carries everything (both sides' confidence and the reasons, dense);
`TradingSignals` only what a simulation reads (the entries' confidence packed, one value
per entry), which on a large panel is a third of the memory: three (symbols, times)
float or int64 arrays fewer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from orchestrade.domain import SignalSide
from orchestrade.strategies.errors import SignalArraysError

MAX_REASONS = 63
"""Reasons are bits of an int64 mask; the sign bit is not used."""


class SignalRow(NamedTuple):
    """One signal read back from the arrays (see `SignalArrays.rows`)."""

    symbol: str
    bar: int
    side: SignalSide
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SignalArrays:
    """Entry and exit signals for every (symbol, bar) of an aligned panel.

    Attributes:
        symbols: one symbol per row.
        timestamps: datetime64[ns] bar start times, shape (n_times,).
        entries: bool (n_symbols, n_times): buy signal decided at bar t's close.
        exits: bool (n_symbols, n_times): sell/close signal decided at bar t's close.
        entry_confidence: float64 in [0, 1] where `entries`, NaN elsewhere.
        exit_confidence: float64 in [0, 1] where `exits`, NaN elsewhere.
        reasons: int64 bitmask of the reasons that fired for the signal of that bar
            (0 where there is none); bit i stands for ``reason_names[i]``.
        reason_names: the reason of each bit, at most 63.
        entry_limit: float64 limit price of the entry order placed at t (NaN = market).
        entry_stop: float64 stop price of the entry order placed at t (NaN = none).

    Equality compares every array (NaN equal to NaN).
    """

    symbols: tuple[str, ...]
    timestamps: np.ndarray
    entries: np.ndarray
    exits: np.ndarray
    entry_confidence: np.ndarray
    exit_confidence: np.ndarray
    reasons: np.ndarray
    reason_names: tuple[str, ...]
    entry_limit: np.ndarray | None = None
    entry_stop: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = _require_axes(self.symbols, self.timestamps)
        _require("entries", self.entries, np.bool_, shape)
        _require("exits", self.exits, np.bool_, shape)
        _require("entry_confidence", self.entry_confidence, np.float64, shape)
        _require("exit_confidence", self.exit_confidence, np.float64, shape)
        _require("reasons", self.reasons, np.int64, shape)
        if self.entry_limit is not None:
            _require("entry_limit", self.entry_limit, np.float64, shape)
        if self.entry_stop is not None:
            _require("entry_stop", self.entry_stop, np.float64, shape)
        if not isinstance(self.reason_names, tuple) or not all(
            isinstance(name, str) and name for name in self.reason_names
        ):
            raise SignalArraysError("reason_names must be a tuple of non-empty strings")
        if len(set(self.reason_names)) != len(self.reason_names):
            raise SignalArraysError(f"reason_names repeat a name: {self.reason_names}")
        if len(self.reason_names) > MAX_REASONS:
            raise SignalArraysError(
                f"at most {MAX_REASONS} reasons fit the bitmask, got {len(self.reason_names)}"
            )
        _require_confidence("entry_confidence", self.entry_confidence, self.entries)
        _require_confidence("exit_confidence", self.exit_confidence, self.exits)
        used_bits = int(np.bitwise_or.reduce(self.reasons, axis=None)) if self.reasons.size else 0
        if used_bits < 0 or used_bits >> len(self.reason_names):
            raise SignalArraysError(
                f"reasons has bits beyond the {len(self.reason_names)} reason_names"
            )

    @classmethod
    def from_masks(
        cls,
        symbols: Sequence[str],
        timestamps: np.ndarray,
        entries: np.ndarray,
        exits: np.ndarray,
        *,
        confidence: float = 1.0,
    ) -> SignalArrays:
        """Signal arrays from two boolean masks, every signal with the same `confidence`
        and no reasons; where both masks are set the exit wins."""
        entries = np.asarray(entries, dtype=np.bool_)
        exits = np.asarray(exits, dtype=np.bool_)
        entries = entries & ~exits
        return cls(
            symbols=tuple(symbols),
            timestamps=np.asarray(timestamps, dtype="datetime64[ns]"),
            entries=entries,
            exits=exits,
            entry_confidence=np.where(entries, confidence, np.nan),
            exit_confidence=np.where(exits, confidence, np.nan),
            reasons=np.zeros(entries.shape, dtype=np.int64),
            reason_names=(),
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(number of symbols, number of bars)."""
        return len(self.symbols), self.timestamps.size

    def reasons_of(self, symbol: int, bar: int) -> tuple[str, ...]:
        """The reason names whose bits are set at (`symbol` row, `bar`), in bit order."""
        mask = int(self.reasons[symbol, bar])
        return tuple(name for bit, name in enumerate(self.reason_names) if mask >> bit & 1)

    def rows(self) -> Iterator[SignalRow]:
        """Every signal, by symbol row then bar; exits win over entries on the same bar."""
        rows, bars = np.nonzero(self.entries | self.exits)
        for row, bar in zip(rows.tolist(), bars.tolist(), strict=True):
            if self.exits[row, bar]:
                side, confidence = SignalSide.SELL, self.exit_confidence[row, bar]
            else:
                side, confidence = SignalSide.BUY, self.entry_confidence[row, bar]
            yield SignalRow(
                self.symbols[row], bar, side, float(confidence), self.reasons_of(row, bar)
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignalArrays):
            return NotImplemented
        if self.symbols != other.symbols or self.reason_names != other.reason_names:
            return False
        pairs = [
            (self.timestamps, other.timestamps),
            (self.entries, other.entries),
            (self.exits, other.exits),
            (self.entry_confidence, other.entry_confidence),
            (self.exit_confidence, other.exit_confidence),
            (self.reasons, other.reasons),
        ]
        for mine, theirs in (
            (self.entry_limit, other.entry_limit),
            (self.entry_stop, other.entry_stop),
        ):
            if (mine is None) != (theirs is None):
                return False
            if mine is not None and theirs is not None:
                pairs.append((mine, theirs))
        return all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") for a, b in pairs)


@dataclass(frozen=True, slots=True, eq=False)
class TradingSignals:
    """Entries and exits with only what a simulation reads of them.

    The lean form of `SignalArrays` (`compile_trading_signals` builds it without computing
    the rest): no exit confidence, no reasons, and the entry confidence only where an
    entry fires.

    Attributes:
        symbols, timestamps, entries, exits, entry_limit, entry_stop: as in `SignalArrays`.
        entry_scores: float64 (number of entries,): the confidence in [0, 1] of each entry,
            in the row-major order of `entries` (symbol by symbol, bar by bar).

    Equality compares every array (NaN equal to NaN).
    """

    symbols: tuple[str, ...]
    timestamps: np.ndarray
    entries: np.ndarray
    exits: np.ndarray
    entry_scores: np.ndarray
    entry_limit: np.ndarray | None = None
    entry_stop: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = _require_axes(self.symbols, self.timestamps)
        _require("entries", self.entries, np.bool_, shape)
        _require("exits", self.exits, np.bool_, shape)
        count = int(np.count_nonzero(self.entries))
        scores = self.entry_scores
        if not isinstance(scores, np.ndarray) or scores.dtype != np.float64 or scores.ndim != 1:
            raise SignalArraysError(
                f"entry_scores must be a 1-D float64 array, got {_describe(scores)}"
            )
        if scores.size != count:
            raise SignalArraysError(
                f"entry_scores has {scores.size} values for {count} entries (one per entry)"
            )
        if scores.size and not bool(np.all((scores >= 0.0) & (scores <= 1.0))):
            raise SignalArraysError("entry_scores must be within [0, 1] (NaN is not)")
        if self.entry_limit is not None:
            _require("entry_limit", self.entry_limit, np.float64, shape)
        if self.entry_stop is not None:
            _require("entry_stop", self.entry_stop, np.float64, shape)

    @classmethod
    def from_arrays(cls, signals: SignalArrays) -> TradingSignals:
        """The lean form of `signals` (sharing its entry, exit and order price arrays)."""
        return cls(
            symbols=signals.symbols,
            timestamps=signals.timestamps,
            entries=signals.entries,
            exits=signals.exits,
            entry_scores=signals.entry_confidence[signals.entries],
            entry_limit=signals.entry_limit,
            entry_stop=signals.entry_stop,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(number of symbols, number of bars)."""
        return len(self.symbols), self.timestamps.size

    @property
    def entry_confidence(self) -> np.ndarray:
        """float64 (n_symbols, n_times): each entry's confidence at its bar, NaN elsewhere
        (as `SignalArrays.entry_confidence`; built on each access)."""
        dense = np.full(self.entries.shape, np.nan)
        dense[self.entries] = self.entry_scores
        return dense

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TradingSignals):
            return NotImplemented
        if self.symbols != other.symbols:
            return False
        pairs = [
            (self.timestamps, other.timestamps),
            (self.entries, other.entries),
            (self.exits, other.exits),
            (self.entry_scores, other.entry_scores),
        ]
        for mine, theirs in (
            (self.entry_limit, other.entry_limit),
            (self.entry_stop, other.entry_stop),
        ):
            if (mine is None) != (theirs is None):
                return False
            if mine is not None and theirs is not None:
                pairs.append((mine, theirs))
        return all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") for a, b in pairs)


def _require_axes(symbols: object, timestamps: object) -> tuple[int, int]:
    """The (symbols, times) shape the arrays must have, after checking both axes."""
    if not isinstance(symbols, tuple) or not all(isinstance(symbol, str) for symbol in symbols):
        raise SignalArraysError("symbols must be a tuple of strings")
    if len(set(symbols)) != len(symbols):
        raise SignalArraysError("symbols must be distinct")
    if (
        not isinstance(timestamps, np.ndarray)
        or timestamps.ndim != 1
        or timestamps.dtype != np.dtype("datetime64[ns]")
    ):
        raise SignalArraysError(
            f"timestamps must be a 1-D datetime64[ns] array, got {_describe(timestamps)}"
        )
    return len(symbols), timestamps.size


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def _require(name: str, array: object, dtype: type[np.generic], shape: tuple[int, int]) -> None:
    if not isinstance(array, np.ndarray) or array.dtype != np.dtype(dtype) or array.shape != shape:
        raise SignalArraysError(
            f"{name} must be a {np.dtype(dtype)} array of shape {shape} "
            f"(symbols, timestamps), got {_describe(array)}"
        )


SCAN_CELLS = 1 << 20
"""From this many cells on, a confidence array is checked in one compiled pass (see
`confidence_check`); smaller ones with numpy, which does not need numba to be imported."""


def _require_confidence(name: str, confidence: np.ndarray, signals: np.ndarray) -> None:
    if confidence.size == 0:
        return
    if confidence.size >= SCAN_CELLS:
        # Imported here: numba is loaded only by those who build large arrays.
        from orchestrade.strategies.confidence_check import confidence_faults

        outside, missing = confidence_faults(confidence.ravel(), signals.ravel())
    else:
        low, high = np.fmin.reduce(confidence, axis=None), np.fmax.reduce(confidence, axis=None)
        outside = bool(low < 0.0 or high > 1.0)
        missing = bool(np.isnan(confidence[signals]).any())
    if outside:
        raise SignalArraysError(f"{name} must be within [0, 1] or NaN")
    if missing:
        raise SignalArraysError(f"{name} must be within [0, 1] on every signal bar")
