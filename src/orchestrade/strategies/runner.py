"""Run event-driven signal sources over a panel, bar by bar, and collect signal arrays.

This is the slow, faithful path: every bar becomes a domain `Bar` and goes through the
same `update` a live agent calls. Bars are fed in time order; bars of one instant go in
the panel's symbol order; cells without a bar are skipped.

Collection rules: a SELL (or FLAT) signal is an exit, a BUY an entry; when one bar gets
both, the exit wins; when it gets two of one side, the later one's confidence is kept and
the reasons are merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from orchestrade.domain import TIMEFRAMES, Bar, SignalSide, Symbol
from orchestrade.strategies.arrays import SignalArrays
from orchestrade.strategies.base import Strategy
from orchestrade.strategies.compiler import panel_fields
from orchestrade.strategies.errors import StrategyError
from orchestrade.strategies.ports import PanelLike, SignalSource


def run_strategy(
    strategy_cls: type[Strategy],
    panel: PanelLike,
    params: dict[str, Any] | None = None,
    *,
    timeframe: str = "1d",
) -> SignalArrays:
    """Instantiate `strategy_cls` with `params` and replay `panel` through it.

    Raises:
        ParameterError: an unknown or ill-typed parameter.
    """
    return replay_signals(strategy_cls(**(params or {})), panel, timeframe=timeframe)


def replay_signals(
    source: SignalSource,
    panel: PanelLike,
    *,
    timeframe: str = "1d",
    reason_names: Sequence[str] | None = None,
) -> SignalArrays:
    """Feed every bar of `panel` to `source` in time order and collect its signals.

    Args:
        source: a `Strategy` instance, a `StreamingSignalEngine`, or any `SignalSource`.
        panel: aligned OHLCV arrays.
        timeframe: the bars' timeframe (``"1d"``, ``"1h"``, ...), stamped on each `Bar`.
        reason_names: the reason of each bit of the result; by default the sorted names
            of the reasons that occurred. Pass a spec's `reason_names` to compare with
            `compile_signals`.

    Raises:
        StrategyError: a signal for another symbol than the bar's, or a reason missing
            from `reason_names`.
    """
    if timeframe not in TIMEFRAMES:
        raise StrategyError(f"timeframe must be one of {TIMEFRAMES}, got {timeframe!r}")
    fields, present = panel_fields(panel)
    symbols = tuple(str(symbol) for symbol in panel.symbols)
    timestamps = np.asarray(panel.timestamps, dtype="datetime64[ns]")
    times = pd.DatetimeIndex(timestamps).tz_localize("UTC").to_pydatetime()
    shape = present.shape
    entries = np.zeros(shape, dtype=np.bool_)
    exits = np.zeros(shape, dtype=np.bool_)
    entry_confidence = np.full(shape, np.nan)
    exit_confidence = np.full(shape, np.nan)
    reason_sets: dict[tuple[int, int], tuple[set[str], set[str]]] = {}
    columns = [fields[name].T for name in ("open", "high", "low", "close", "volume")]
    for col in range(shape[1]):
        rows = np.flatnonzero(present[:, col])
        if rows.size == 0:
            continue
        values = [column[col, rows].tolist() for column in columns]
        for k, row in enumerate(rows.tolist()):
            bar = Bar(
                symbol=Symbol(symbols[row]),
                timeframe=timeframe,
                start=times[col],
                open=Decimal(repr(values[0][k])),
                high=Decimal(repr(values[1][k])),
                low=Decimal(repr(values[2][k])),
                close=Decimal(repr(values[3][k])),
                volume=Decimal(repr(values[4][k])),
            )
            for signal in source.update(bar):
                if signal.symbol != bar.symbol:
                    raise StrategyError(
                        f"a signal for {signal.symbol!r} came back from a bar of {bar.symbol!r}"
                    )
                entry_reasons, exit_reasons = reason_sets.setdefault((row, col), (set(), set()))
                if signal.side is SignalSide.BUY:
                    entries[row, col] = True
                    entry_confidence[row, col] = signal.confidence
                    entry_reasons.update(signal.reasons)
                else:
                    exits[row, col] = True
                    exit_confidence[row, col] = signal.confidence
                    exit_reasons.update(signal.reasons)
    entries &= ~exits
    entry_confidence[~entries] = np.nan
    used = {
        name
        for (row, col), (entry_reasons, exit_reasons) in reason_sets.items()
        for name in (exit_reasons if exits[row, col] else entry_reasons)
    }
    names = tuple(sorted(used)) if reason_names is None else tuple(reason_names)
    unknown = used - set(names)
    if unknown:
        raise StrategyError(f"reasons {sorted(unknown)} are not among reason_names {names}")
    bits = {name: 1 << i for i, name in enumerate(names)}
    reasons = np.zeros(shape, dtype=np.int64)
    for (row, col), (entry_reasons, exit_reasons) in reason_sets.items():
        fired = exit_reasons if exits[row, col] else entry_reasons
        reasons[row, col] = sum(bits[name] for name in fired)
    return SignalArrays(
        symbols=symbols,
        timestamps=timestamps,
        entries=entries,
        exits=exits,
        entry_confidence=entry_confidence,
        exit_confidence=exit_confidence,
        reasons=reasons,
        reason_names=names,
    )
