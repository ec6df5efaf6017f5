"""The paper broker's trading costs and per-symbol exchange rules.

The fields mirror `orchestrade.backtest.config.SimulationConfig` one for one (and
`PaperSettings.from_simulation` copies them), because replay through the paper broker must
fill at the same prices, with the same fees and taxes, as the backtest kernel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.costs import TICK_KINDS, market_conventions
from orchestrade.brokers.paper.errors import PaperSettingsError
from orchestrade.domain import InstrumentKind, Market, Symbol

FillTiming = Literal["next_open", "close"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolRules:
    """One symbol's exchange rules, as `SimulationConfig` takes them per symbol.

    Attributes:
        tick_kind: "none", "fixed" (uses `tick_size`), "krx" or "us" price grid.
        tick_size: the tick of the "fixed" grid.
        lot_size: quantity step (1 for shares, 1e-8 for crypto); order quantities must be
            multiples of it.
        price_limit: daily band as a fraction of the previous close (0.30 on KRX, 0 = none).
        sell_tax: fraction of the value of every sale.
    """

    tick_kind: str = "none"
    tick_size: float = 0.0
    lot_size: float = 1.0
    price_limit: float = 0.0
    sell_tax: float = 0.0

    def __post_init__(self) -> None:
        if self.tick_kind not in TICK_KINDS:
            raise PaperSettingsError(
                f"tick_kind must be one of {', '.join(TICK_KINDS)}, got {self.tick_kind!r}"
            )
        _check("tick_size", self.tick_size, low=0.0)
        if self.tick_kind == "fixed" and self.tick_size <= 0:
            raise PaperSettingsError(
                f"tick_size must be > 0 for a fixed grid, got {self.tick_size}"
            )
        _check("lot_size", self.lot_size, low=0.0, low_open=True)
        _check("price_limit", self.price_limit, low=0.0, high=1.0, high_open=True)
        _check("sell_tax", self.sell_tax, low=0.0, high=1.0, high_open=True)

    @classmethod
    def for_market(cls, market: Market, kind: InstrumentKind = InstrumentKind.STOCK) -> SymbolRules:
        """The default rules of `market` (`orchestrade.backtest.costs.market_conventions`)."""
        conventions = market_conventions(market, kind)
        return cls(
            tick_kind=conventions.tick_kind,
            tick_size=conventions.tick_size,
            lot_size=conventions.lot_size,
            price_limit=conventions.price_limit,
            sell_tax=conventions.sell_tax,
        )

    @property
    def tick_code(self) -> int:
        """The kernel's code of `tick_kind`."""
        return TICK_KINDS[self.tick_kind]

    @property
    def lot(self) -> Decimal:
        """`lot_size` as an exact Decimal: an integer for whole units, else the shortest
        decimal that round-trips the float (1e-08 -> Decimal("1E-8"))."""
        if self.lot_size.is_integer():
            return Decimal(int(self.lot_size))
        return Decimal(repr(self.lot_size))


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperSettings:
    """How the paper broker prices fills.

    Attributes:
        commission: fraction of traded value charged on every fill.
        commission_min: minimum commission per fill, in cash units.
        slippage_bps: adverse move of market and stop fills, in basis points of the price.
        slippage_range: adverse move of market and stop fills as a fraction of the bar's
            high - low; adds to `slippage_bps`.
        participation: largest fraction of a bar's volume one order may take in that bar,
            None = no cap; the rest stays open for the next bars (unless the order is IOC).
        fill_timing: where resting market orders fill: "next_open" (at the next bar's
            open) or "close" (at the close, after the bar traded).
        default_rules: rules of symbols not in `rules`.
        rules: per-symbol rules.
    """

    commission: float = 0.0
    commission_min: float = 0.0
    slippage_bps: float = 0.0
    slippage_range: float = 0.0
    participation: float | None = None
    fill_timing: FillTiming = "next_open"
    default_rules: SymbolRules = field(default_factory=SymbolRules)
    rules: Mapping[str, SymbolRules] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check("commission", self.commission, low=0.0, high=1.0, high_open=True)
        _check("commission_min", self.commission_min, low=0.0)
        _check("slippage_bps", self.slippage_bps, low=0.0, high=10_000.0, high_open=True)
        _check("slippage_range", self.slippage_range, low=0.0)
        if self.participation is not None:
            _check("participation", self.participation, low=0.0, high=1.0, low_open=True)
        if self.fill_timing not in ("next_open", "close"):
            raise PaperSettingsError(
                f"fill_timing must be next_open or close, got {self.fill_timing!r}"
            )
        for symbol, rules in self.rules.items():
            if not isinstance(rules, SymbolRules):
                raise PaperSettingsError(f"rules[{symbol!r}] must be SymbolRules")
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))

    def rules_for(self, symbol: Symbol) -> SymbolRules:
        """The rules of `symbol`."""
        return self.rules.get(symbol, self.default_rules)

    @classmethod
    def from_simulation(cls, config: SimulationConfig, symbols: Sequence[str]) -> PaperSettings:
        """The settings that make the paper broker fill like the kernel run by `config` on
        `symbols` (per-symbol tuples are matched to `symbols` by position)."""
        n = len(symbols)

        def per_symbol(name: str, value: object) -> list[object]:
            if isinstance(value, tuple):
                if len(value) != n:
                    raise PaperSettingsError(f"{name} has {len(value)} values for {n} symbols")
                return list(value)
            return [value] * n

        columns = {
            name: per_symbol(name, getattr(config, name))
            for name in ("tick_kind", "tick_size", "lot_size", "price_limit", "sell_tax")
        }
        rules = {
            symbol: SymbolRules(
                tick_kind=str(columns["tick_kind"][i]),
                tick_size=float(columns["tick_size"][i]),  # type: ignore[arg-type]
                lot_size=float(columns["lot_size"][i]),  # type: ignore[arg-type]
                price_limit=float(columns["price_limit"][i]),  # type: ignore[arg-type]
                sell_tax=float(columns["sell_tax"][i]),  # type: ignore[arg-type]
            )
            for i, symbol in enumerate(symbols)
        }
        return cls(
            commission=config.commission,
            commission_min=config.commission_min,
            slippage_bps=config.slippage_bps,
            slippage_range=config.slippage_range,
            participation=config.participation,
            fill_timing=config.fill,
            rules=rules,
        )


def _check(
    name: str,
    value: object,
    *,
    low: float,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PaperSettingsError(f"{name} must be a finite number, got {value!r}")
    if value < low or (low_open and value == low):
        raise PaperSettingsError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise PaperSettingsError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
