"""SimulationConfig: every setting of one kernel run, validated when it is built.

Fields are keyword-only. Per-symbol settings (tick rule, lot size, price limit, sell tax)
take one value for every symbol or a tuple with one value per symbol (its length is
checked against the panel when the simulation starts). Optional limits are `None` = off.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from orchestrade.backtest.costs import TICK_KINDS, market_conventions
from orchestrade.backtest.errors import ConfigError
from orchestrade.backtest.sizing import Sizing
from orchestrade.domain import InstrumentKind, Market

if TYPE_CHECKING:  # imported when used: the kernel path does not load pydantic-settings
    from orchestrade.settings import RiskSettings, RulesSettings

Mode = Literal["isolated", "portfolio"]
FillTiming = Literal["next_open", "close"]
PerSymbol = float | tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """Settings of one simulation (the kernel's docstring states the execution semantics).

    Attributes:
        mode: "isolated" (each symbol trades its own `cash`) or "portfolio" (one shared
            `cash` for all symbols).
        fill: "next_open" (market orders decided at a close fill at the next bar's open)
            or "close" (at the decision bar's close).
        cash: starting cash per symbol (isolated) or in total (portfolio).
        commission: fraction of traded value charged on every fill.
        commission_min: minimum commission per fill, in cash units.
        sell_tax: fraction of the value of every sale (per symbol or one for all).
        slippage_bps: adverse price move of market and stop fills, in basis points.
        slippage_range: adverse price move of market and stop fills as a fraction of the
            bar's high - low range; adds to `slippage_bps`.
        participation: largest fraction of a bar's volume one fill may take, None = no
            cap. An entry's excess is dropped; an exit's rest is carried to the next bars.
        latency_bars: extra bars of the symbol between a decision and its order.
        tick_kind: "none", "fixed" (uses `tick_size`), "krx" or "us" tick grid.
        tick_size: the tick of the "fixed" rule (ignored for the others).
        lot_size: quantity step: 1 for shares, 1e-8 for crypto.
        price_limit: daily price band as a fraction of the previous close (0.30 on KRX,
            0 = none); a fill outside the band does not happen.
        sizing: the sizing method (`orchestrade.backtest.sizing`).
        stop_loss, take_profit, trailing_stop: fractions of the entry price (trailing: of
            the highest high since entry); None or NaN = off.
        max_position_pct: largest position value after an entry, fraction of equity.
        max_open_positions: most symbols held at once (portfolio mode only).
        max_daily_loss_pct: no new entry once equity fell this fraction below the day's
            first equity.
        max_price_deviation_pct: fat finger: an order price this far from the last close
            is refused.
        max_order_notional: largest value of one entry order.
        min_confidence: entry signals with a lower confidence are not traded.
        position_allocation: largest share of equity one entry may spend (the budget is
            min(cash, position_allocation x equity)).
    """

    mode: Mode = "isolated"
    fill: FillTiming = "next_open"
    cash: float = 10_000_000.0
    commission: float = 0.0
    commission_min: float = 0.0
    sell_tax: PerSymbol = 0.0
    slippage_bps: float = 0.0
    slippage_range: float = 0.0
    participation: float | None = None
    latency_bars: int = 0
    tick_kind: str | tuple[str, ...] = "none"
    tick_size: PerSymbol = 0.0
    lot_size: PerSymbol = 1.0
    price_limit: PerSymbol = 0.0
    sizing: Sizing = field(default_factory=Sizing)
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    max_position_pct: float | None = None
    max_open_positions: int | None = None
    max_daily_loss_pct: float | None = None
    max_price_deviation_pct: float | None = None
    max_order_notional: float | None = None
    min_confidence: float = 0.0
    position_allocation: float = 1.0

    def __post_init__(self) -> None:
        _one_of("mode", self.mode, ("isolated", "portfolio"))
        _one_of("fill", self.fill, ("next_open", "close"))
        _number("cash", self.cash, low=0.0, low_open=True)
        _number("commission", self.commission, low=0.0, high=1.0, high_open=True)
        _number("commission_min", self.commission_min, low=0.0)
        _number("slippage_bps", self.slippage_bps, low=0.0, high=10_000.0, high_open=True)
        _number("slippage_range", self.slippage_range, low=0.0)
        if self.participation is not None:
            _number("participation", self.participation, low=0.0, high=1.0, low_open=True)
        if isinstance(self.latency_bars, bool) or not isinstance(self.latency_bars, int):
            raise ConfigError(f"latency_bars must be an int, got {self.latency_bars!r}")
        if self.latency_bars < 0:
            raise ConfigError(f"latency_bars must be >= 0, got {self.latency_bars}")
        self._set("tick_kind", _per_symbol_kinds(self.tick_kind))
        self._set("tick_size", _per_symbol("tick_size", self.tick_size, low=0.0))
        self._set("lot_size", _per_symbol("lot_size", self.lot_size, low=0.0, low_open=True))
        self._set("price_limit", _per_symbol("price_limit", self.price_limit, 0.0, 1.0, True))
        self._set("sell_tax", _per_symbol("sell_tax", self.sell_tax, 0.0, 1.0, True))
        if not isinstance(self.sizing, Sizing):
            raise ConfigError(f"sizing must be a Sizing, got {type(self.sizing).__name__}")
        for name in ("stop_loss", "trailing_stop"):
            self._set(name, _optional_fraction(name, getattr(self, name), high=1.0))
        self._set("take_profit", _optional_fraction("take_profit", self.take_profit, None))
        for name in ("max_position_pct", "max_price_deviation_pct", "max_order_notional"):
            self._set(name, _optional_fraction(name, getattr(self, name), None))
        self._set(
            "max_daily_loss_pct",
            _optional_fraction("max_daily_loss_pct", self.max_daily_loss_pct, 1.0, True),
        )
        if self.max_open_positions is not None and (
            isinstance(self.max_open_positions, bool)
            or not isinstance(self.max_open_positions, int)
            or self.max_open_positions < 1
        ):
            raise ConfigError(
                f"max_open_positions must be an int >= 1 or None, got {self.max_open_positions!r}"
            )
        _number("min_confidence", self.min_confidence, low=0.0, high=1.0)
        _number("position_allocation", self.position_allocation, 0.0, 1.0, low_open=True)

    def with_risk(self, risk: RiskSettings) -> SimulationConfig:
        """This configuration with the limits of `risk` (all off when it is disabled)."""
        from orchestrade.settings import RiskSettings

        if not risk.enabled:
            risk = RiskSettings(
                max_position_pct=None,
                max_open_positions=None,
                max_daily_loss_pct=None,
                max_price_deviation_pct=None,
                max_order_notional=None,
            )
        return dataclasses.replace(
            self,
            max_position_pct=risk.max_position_pct,
            max_open_positions=risk.max_open_positions,
            max_daily_loss_pct=risk.max_daily_loss_pct,
            max_price_deviation_pct=risk.max_price_deviation_pct,
            max_order_notional=risk.max_order_notional,
        )

    def with_rules(self, rules: RulesSettings) -> SimulationConfig:
        """This configuration with the orchestrator's decision policy (`min_confidence`)."""
        return dataclasses.replace(self, min_confidence=rules.min_confidence)

    def with_markets(
        self, markets: Sequence[Market], kinds: Sequence[InstrumentKind] | None = None
    ) -> SimulationConfig:
        """Per-symbol tick rule, lot size, price limit and sell tax from each symbol's market
        and product kind (`orchestrade.backtest.costs.market_conventions`; stocks when
        `kinds` is None)."""
        products = list(kinds) if kinds is not None else [InstrumentKind.STOCK] * len(markets)
        if len(products) != len(markets):
            raise ConfigError(f"{len(products)} kinds for {len(markets)} markets")
        conventions = [
            market_conventions(market, kind) for market, kind in zip(markets, products, strict=True)
        ]
        return dataclasses.replace(
            self,
            tick_kind=tuple(c.tick_kind for c in conventions),
            tick_size=tuple(c.tick_size for c in conventions),
            lot_size=tuple(c.lot_size for c in conventions),
            price_limit=tuple(c.price_limit for c in conventions),
            sell_tax=tuple(c.sell_tax for c in conventions),
        )

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    if low is not None and (number < low or (low_open and number == low)):
        bound = ">" if low_open else ">="
        raise ConfigError(f"{name} must be {bound} {low}, got {value!r}")
    if high is not None and (number > high or (high_open and number == high)):
        bound = "<" if high_open else "<="
        raise ConfigError(f"{name} must be {bound} {high}, got {value!r}")
    return number


def _per_symbol(
    name: str,
    value: object,
    low: float,
    high: float | None = None,
    high_open: bool = False,
    low_open: bool = False,
) -> PerSymbol:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return _number(name, value, low, high, low_open, high_open)
    return tuple(
        _number(f"{name}[{i}]", item, low, high, low_open, high_open)
        for i, item in enumerate(value)
    )


def _per_symbol_kinds(value: object) -> str | tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise ConfigError(f"tick_kind must be a name or a sequence of names, got {value!r}")
    for i, item in enumerate(items):
        if item not in TICK_KINDS:
            where = "tick_kind" if isinstance(value, str) else f"tick_kind[{i}]"
            raise ConfigError(f"{where} must be one of {', '.join(TICK_KINDS)}, got {item!r}")
    return value if isinstance(value, str) else tuple(str(item) for item in items)


def _optional_fraction(
    name: str, value: float | None, high: float | None, high_closed: bool = False
) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    number = _number(name, value, low=0.0, high=high, low_open=True, high_open=not high_closed)
    return number
