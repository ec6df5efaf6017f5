"""Signal quality before any backtest: how often a strategy speaks, with the trend or not,
and how sure it is, per symbol and overall.

Definitions (per symbol; "overall" pools every symbol's bars and signals):

* ``bars``: the bars the symbol has (finite close); ``signals``: bars carrying an entry or
  an exit (exit wins, so a bar counts once);
* ``density`` = signals / bars, the share of bars with a signal. It is a share, so it
  needs no annualising; ``signals_per_year`` = density * `bars_per_year` states the same
  rate per year. ``in_target_band`` tells whether density lies in the target band
  (5% to 15% by default, inclusive);
* ``trend_alignment``: among entries taken where the symbol's `trend_period`-bar SMA of
  the close (200 by default, on the symbol's own bars) is defined, the share taken while
  the close is above it (NaN when there is no such entry);
* ``entry_confidence`` / ``exit_confidence``: count, min, mean, max and the 25/50/75%
  quantiles (linear interpolation) of the confidences of entries / exits (NaN if none).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from orchestrade.indicators import sma
from orchestrade.strategies.arrays import SignalArrays
from orchestrade.strategies.compiler import panel_fields
from orchestrade.strategies.errors import SignalArraysError
from orchestrade.strategies.ports import PanelLike

TARGET_BAND = (0.05, 0.15)
"""The share of bars that should carry a signal: 5% to 15%."""


@dataclass(frozen=True, slots=True)
class ConfidenceSummary:
    """Distribution of the confidences of a set of signals (NaN fields when empty)."""

    count: int
    minimum: float
    mean: float
    maximum: float
    p25: float
    median: float
    p75: float

    @classmethod
    def of(cls, values: npt.NDArray[np.float64]) -> ConfidenceSummary:
        """The summary of `values` (confidences of signal bars)."""
        if values.size == 0:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, nan)
        p25, median, p75 = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75]))
        return cls(
            count=int(values.size),
            minimum=float(values.min()),
            mean=float(values.mean()),
            maximum=float(values.max()),
            p25=p25,
            median=median,
            p75=p75,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (NaN stays NaN)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SymbolSignalQuality:
    """Signal quality of one symbol (or of all of them, symbol ``"*"``)."""

    symbol: str
    bars: int
    entries: int
    exits: int
    signals: int
    density: float
    signals_per_year: float
    in_target_band: bool
    trend_entries: int
    trend_aligned_entries: int
    trend_alignment: float
    entry_confidence: ConfidenceSummary
    exit_confidence: ConfidenceSummary

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SignalQuality:
    """Signal quality of one strategy: per symbol and overall."""

    strategy: str
    target_band: tuple[float, float]
    trend_period: int
    bars_per_year: float
    per_symbol: tuple[SymbolSignalQuality, ...]
    overall: SymbolSignalQuality

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``per_symbol`` is keyed by symbol."""
        return {
            "strategy": self.strategy,
            "target_band": list(self.target_band),
            "trend_period": self.trend_period,
            "bars_per_year": self.bars_per_year,
            "overall": self.overall.to_dict(),
            "per_symbol": {item.symbol: item.to_dict() for item in self.per_symbol},
        }


def evaluate_signals(
    signals: SignalArrays,
    panel: PanelLike,
    *,
    strategy: str = "",
    trend_period: int = 200,
    bars_per_year: float = 252.0,
    target_band: tuple[float, float] = TARGET_BAND,
) -> SignalQuality:
    """Measure `signals` (computed on `panel`) as described in the module docstring.

    Raises:
        SignalArraysError: `panel` does not have the signals' symbols and timestamps, or a
            bad `trend_period`, `bars_per_year` or `target_band`.
    """
    fields, present = panel_fields(panel)
    if tuple(str(s) for s in panel.symbols) != signals.symbols or not np.array_equal(
        np.asarray(panel.timestamps, dtype="datetime64[ns]"), signals.timestamps
    ):
        raise SignalArraysError("the panel must have the signals' symbols and timestamps")
    if isinstance(trend_period, bool) or not isinstance(trend_period, int) or trend_period < 2:
        raise SignalArraysError(f"trend_period must be an integer >= 2, got {trend_period!r}")
    if not bars_per_year > 0:
        raise SignalArraysError(f"bars_per_year must be positive, got {bars_per_year!r}")
    low, high = target_band
    if not 0 <= low <= high <= 1:
        raise SignalArraysError(
            f"target_band must satisfy 0 <= low <= high <= 1, got {target_band}"
        )
    close = fields["close"]
    trend = np.full(close.shape, np.nan)
    for row in range(close.shape[0]):
        bars = np.flatnonzero(present[row])
        if bars.size:
            trend[row, bars] = sma(close[row, bars], trend_period)
    exits = signals.exits & present
    entries = signals.entries & present & ~exits
    trend_defined = entries & ~np.isnan(trend)
    aligned = trend_defined & (close > trend)
    per_symbol = tuple(
        _quality(
            symbol,
            present[row],
            entries[row],
            exits[row],
            trend_defined[row],
            aligned[row],
            signals.entry_confidence[row],
            signals.exit_confidence[row],
            bars_per_year,
            target_band,
        )
        for row, symbol in enumerate(signals.symbols)
    )
    overall = _quality(
        "*",
        present,
        entries,
        exits,
        trend_defined,
        aligned,
        signals.entry_confidence,
        signals.exit_confidence,
        bars_per_year,
        target_band,
    )
    return SignalQuality(
        strategy=strategy,
        target_band=(float(low), float(high)),
        trend_period=trend_period,
        bars_per_year=float(bars_per_year),
        per_symbol=per_symbol,
        overall=overall,
    )


def _quality(
    symbol: str,
    present: npt.NDArray[np.bool_],
    entries: npt.NDArray[np.bool_],
    exits: npt.NDArray[np.bool_],
    trend_defined: npt.NDArray[np.bool_],
    aligned: npt.NDArray[np.bool_],
    entry_confidence: npt.NDArray[np.float64],
    exit_confidence: npt.NDArray[np.float64],
    bars_per_year: float,
    target_band: tuple[float, float],
) -> SymbolSignalQuality:
    bars = int(present.sum())
    n_entries, n_exits = int(entries.sum()), int(exits.sum())
    signals = n_entries + n_exits
    density = signals / bars if bars else math.nan
    trend_entries, aligned_entries = int(trend_defined.sum()), int(aligned.sum())
    return SymbolSignalQuality(
        symbol=symbol,
        bars=bars,
        entries=n_entries,
        exits=n_exits,
        signals=signals,
        density=density,
        signals_per_year=density * bars_per_year if bars else math.nan,
        in_target_band=bool(bars) and target_band[0] <= density <= target_band[1],
        trend_entries=trend_entries,
        trend_aligned_entries=aligned_entries,
        trend_alignment=aligned_entries / trend_entries if trend_entries else math.nan,
        entry_confidence=ConfidenceSummary.of(entry_confidence[entries]),
        exit_confidence=ConfidenceSummary.of(exit_confidence[exits]),
    )
