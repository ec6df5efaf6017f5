"""What a backtest runs on: bars in any accepted form, as one aligned panel plus market rules.

Accepted data: a `BarPanel`, anything with a `.panel` (the store's `LoadedBars`), a long bar
frame (`orchestrade.data.files.BAR_COLUMNS`), or files/folders (read and cleaned on the fly,
nothing is written to a store). Rows that cannot be traded (missing or non-positive prices,
duplicates) are dropped first, exactly as the import does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orchestrade.backtest.errors import InputError
from orchestrade.data.cleaning import clean_bars
from orchestrade.data.errors import DataError
from orchestrade.data.files import (
    TIMEFRAME_NS,
    discover_files,
    infer_instrument_kind,
    infer_market,
    read_market_file,
)
from orchestrade.data.panel import BarPanel
from orchestrade.domain import InstrumentKind, Market

BarData = BarPanel | pd.DataFrame | str | Path | Sequence[str | Path] | Any
"""Anything `load_bar_data` accepts."""


@dataclass(frozen=True, slots=True)
class PreparedBars:
    """An aligned panel with the market of each symbol and the bars' timeframe."""

    panel: BarPanel
    markets: tuple[Market, ...]
    timeframe: str
    kinds: tuple[InstrumentKind, ...]

    @property
    def bar_count(self) -> int:
        """Bars that exist (not NaN) over all symbols."""
        return int(np.count_nonzero(~np.isnan(self.panel.close)))


def load_bar_data(
    data: BarData,
    *,
    market: Market | str | None = None,
    markets: Mapping[str, Market] | None = None,
    kinds: Mapping[str, InstrumentKind] | None = None,
) -> PreparedBars:
    """Turn `data` into a `PreparedBars`.

    Args:
        data: a BarPanel, an object with `.panel`, a long bar frame, or file/folder paths.
        market: the market of every symbol (overrides what files or symbols suggest).
        markets: the market of some symbols (e.g. from the store's instruments).
        kinds: the product kind of some symbols; others are inferred from file names
            (`orchestrade.data.files.infer_instrument_kind`), else stocks.

    Raises:
        InputError: no bars, unreadable files, or an unknown kind of data.
    """
    forced = Market(market) if market is not None else None
    known: dict[str, Market] = dict(markets or {})
    products: dict[str, InstrumentKind] = dict(kinds or {})
    attached = getattr(data, "panel", None)
    panel: BarPanel
    if isinstance(data, BarPanel):
        panel = data
    elif isinstance(attached, BarPanel):
        panel = attached
    elif isinstance(data, pd.DataFrame):
        panel = _panel_from_frame(data)
    elif isinstance(data, str | Path) or (
        isinstance(data, Sequence) and all(isinstance(item, str | Path) for item in data)
    ):
        paths = [data] if isinstance(data, str | Path) else list(data)
        panel, file_markets, file_kinds = _panel_from_files(paths, forced)
        known = {**file_markets, **known}
        products = {**file_kinds, **products}
    else:
        raise InputError(
            "data must be a BarPanel, loaded bars, a bar DataFrame or file/folder paths, "
            f"not {type(data).__name__}"
        )
    if not panel.symbols or not np.isfinite(panel.close).any():
        raise InputError("the data holds no bars to backtest")
    symbol_markets = tuple(
        forced or known.get(symbol) or infer_market(symbol) for symbol in panel.symbols
    )
    symbol_kinds = tuple(
        products.get(symbol) or infer_instrument_kind(symbol, symbol_market)
        for symbol, symbol_market in zip(panel.symbols, symbol_markets, strict=True)
    )
    return PreparedBars(panel, symbol_markets, infer_panel_timeframe(panel), symbol_kinds)


def infer_panel_timeframe(panel: BarPanel) -> str:
    """The longest known timeframe not above the median spacing of consecutive bars."""
    stamps = panel.timestamps.astype("datetime64[ns]").astype(np.int64)
    if len(stamps) < 2:
        return "1d"
    spacing = float(np.median(np.diff(stamps)))
    chosen = "1m"
    for name, length in TIMEFRAME_NS.items():
        if length <= spacing * 1.01:
            chosen = name
    return chosen


def _panel_from_frame(frame: pd.DataFrame) -> BarPanel:
    try:
        clean, _rejected = clean_bars(frame)
        return BarPanel.from_frame(clean)
    except DataError as error:
        raise InputError(f"bar frame: {error}") from error


def _panel_from_files(
    paths: Sequence[str | Path], market: Market | None
) -> tuple[BarPanel, dict[str, Market], dict[str, InstrumentKind]]:
    files = discover_files(paths)
    if not files:
        raise InputError(f"no CSV, CSV.gz or Parquet files in {', '.join(map(str, paths))}")
    frames = []
    markets: dict[str, Market] = {}
    kinds: dict[str, InstrumentKind] = {}
    timeframes: dict[str, str] = {}
    try:
        for path in files:
            market_file = read_market_file(path, market=market)
            if market_file.kind != "bars":
                raise InputError(f"{path}: order-book files cannot be backtested")
            frames.append(market_file.frame)
            markets.update(market_file.markets)
            kinds.update(
                {
                    symbol: infer_instrument_kind(symbol, info.market, info.name)
                    for symbol, info in market_file.instruments.items()
                }
            )
            timeframes[str(path)] = market_file.timeframe or "1d"
        if len(set(timeframes.values())) > 1:
            listing = ", ".join(f"{Path(p).name}={tf}" for p, tf in timeframes.items())
            raise InputError(f"files mix timeframes ({listing}); backtest one at a time")
        clean, _rejected = clean_bars(pd.concat(frames, ignore_index=True))
        return BarPanel.from_frame(clean), markets, kinds
    except DataError as error:
        raise InputError(str(error)) from error
