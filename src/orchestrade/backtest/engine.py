"""The research front door: `Backtest(data, strategy, ...).run(**params)`.

    from orchestrade import Backtest
    result = Backtest("krx/", "sma_cross", cash=10_000_000, fees=0.001).run(fast=5)
    print(result.metrics["sharpe_ratio"], result.trades.head())

Data is loaded and aligned once in the constructor; each `run` computes the strategy's
signals with the given parameters, simulates them in the compiled kernel and returns a
`BacktestResult`. Risk limits and the minimum signal confidence default to the same
settings the live risk engine and orchestrator use (`orchestrade.settings`), so a backtest
decides the way live trading would.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from orchestrade.backtest.config import SimulationConfig
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.inputs import BarData, PreparedBars, load_bar_data
from orchestrade.backtest.kernel import simulate
from orchestrade.backtest.metrics import Metrics, compute_metrics, traded_value
from orchestrade.backtest.periods import periods_per_year
from orchestrade.backtest.results import BacktestResult
from orchestrade.backtest.simulation_tables import simulation_tables
from orchestrade.backtest.sizing import Sizing
from orchestrade.backtest.tables import TOTAL_COLUMN
from orchestrade.domain import InstrumentKind, Market
from orchestrade.settings import RiskSettings, RulesSettings, load_risk_settings
from orchestrade.strategies import (
    Strategy,
    StrategySpec,
    compile_signals,
    load_spec,
    resolve_spec,
    run_strategy,
)
from orchestrade.strategies.arrays import SignalArrays, TradingSignals
from orchestrade.strategies.compiler import compile_trading_signals

StrategyLike = str | Path | Mapping[str, Any] | StrategySpec | type[Strategy]
"""A built-in name, a spec (file path, JSON text, mapping or loaded) or a Strategy class."""


class Backtest:
    """A strategy on a fixed set of bars with fixed costs, runnable with many parameters.

    Options are keyword-only. `fees` is the commission as a fraction of traded value;
    `tax` the sell-side transaction tax (None: each market's default: KRX's rate for KRX
    stocks, 0 for KRX ETFs/ETNs (`kinds`, or inferred from names in files) and elsewhere);
    `risk` a `RiskSettings`, a YAML/JSON file or "none" (default: the live defaults);
    `min_confidence` None means the live rules' default.
    `load_seconds` adds time a caller spent reading the data before (reported in `timing`).
    """

    def __init__(
        self,
        data: BarData,
        strategy: StrategyLike,
        *,
        cash: float = 10_000_000.0,
        fees: float = 0.001,
        fee_min: float = 0.0,
        tax: float | None = None,
        slippage_bps: float = 0.0,
        slippage_range: float = 0.0,
        participation: float | None = None,
        latency_bars: int = 0,
        mode: Literal["isolated", "portfolio"] = "isolated",
        fill: Literal["next_open", "close"] = "next_open",
        risk: RiskSettings | str | Path | None = None,
        min_confidence: float | None = None,
        market: Market | str | None = None,
        markets: Mapping[str, Market] | None = None,
        kinds: Mapping[str, InstrumentKind] | None = None,
        position_allocation: float = 1.0,
        load_seconds: float = 0.0,
    ) -> None:
        started = time.perf_counter()
        self._bars: PreparedBars = load_bar_data(data, market=market, markets=markets, kinds=kinds)
        self._load_seconds = load_seconds + time.perf_counter() - started
        self._strategy = _resolve_strategy(strategy)
        rules = RulesSettings(
            min_confidence=RulesSettings().min_confidence
            if min_confidence is None
            else min_confidence
        )
        base = SimulationConfig(
            mode=mode,
            fill=fill,
            cash=cash,
            commission=fees,
            commission_min=fee_min,
            slippage_bps=slippage_bps,
            slippage_range=slippage_range,
            participation=participation,
            latency_bars=latency_bars,
            position_allocation=position_allocation,
        )
        config = (
            base.with_markets(self._bars.markets, self._bars.kinds)
            .with_risk(_risk(risk))
            .with_rules(rules)
        )
        if tax is not None:
            config = dataclasses.replace(config, sell_tax=tax)
        self._config = config
        self._risk = _risk(risk)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable state (Ray workers): a spec travels as its JSON document.

        A Strategy class travels by reference, so it must be importable by the worker.
        """
        strategy: Any = self._strategy
        if isinstance(strategy, StrategySpec):
            strategy = {"spec_document": strategy.to_dict()}
        return {
            "bars": self._bars,
            "load_seconds": self._load_seconds,
            "strategy": strategy,
            "config": self._config,
            "risk": self._risk,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        strategy = state["strategy"]
        if isinstance(strategy, dict):
            strategy = load_spec(strategy["spec_document"])
        self._bars = state["bars"]
        self._load_seconds = state["load_seconds"]
        self._strategy = strategy
        self._config = state["config"]
        self._risk = state["risk"]

    @property
    def bars(self) -> PreparedBars:
        """The aligned bars, their markets and timeframe."""
        return self._bars

    @property
    def config(self) -> SimulationConfig:
        """The kernel configuration before the strategy's sizing and stops are applied."""
        return self._config

    @property
    def risk(self) -> RiskSettings:
        """The risk settings the run's limits come from (the live risk engine reads the same)."""
        return self._risk

    def run_config(self, **params: Any) -> SimulationConfig:
        """The kernel configuration of `run(**params)`: with the strategy's sizing, stops and
        allocation cap applied (the trading stack plans its orders from the same numbers)."""
        return self._config_for_run(params)

    @property
    def strategy(self) -> StrategySpec | type[Strategy]:
        """The resolved strategy: a spec or a Strategy class."""
        return self._strategy

    @property
    def strategy_name(self) -> str:
        """The spec's name or the class name."""
        if isinstance(self._strategy, StrategySpec):
            return self._strategy.name
        return self._strategy.__name__

    def default_parameters(self) -> dict[str, Any]:
        """The strategy's parameters and their default values."""
        if isinstance(self._strategy, StrategySpec):
            return dict(self._strategy.values)
        return dict(self._strategy.parameters())

    def signals(self, **params: Any) -> SignalArrays:
        """The strategy's signals on the bars with `params` (unknown names are refused)."""
        if isinstance(self._strategy, StrategySpec):
            return compile_signals(self._strategy, self._bars.panel, params)
        return run_strategy(
            self._strategy, self._bars.panel, params, timeframe=self._bars.timeframe
        )

    def run(self, **params: Any) -> BacktestResult:
        """Signals, simulation and results for one set of parameters.

        Raises:
            ParameterError: a parameter the strategy does not have (the message names the
                closest valid one) or a value out of range.
        """
        started = time.perf_counter()
        signals = self._trading_signals(params)
        config = self._config_for_run(params)
        simulation = simulate(self._bars.panel, signals, config)
        tables = simulation_tables(simulation, self._bars.panel)
        bars = self._bars.bar_count
        result = BacktestResult.from_frames(
            equity=tables.equity,
            positions=tables.positions,
            trades=tables.trades,
            fills=tables.fills,
            periods_per_year=periods_per_year(self._bars.timeframe, self._main_market()),
            timing={
                "bars": bars,
                "seconds": time.perf_counter() - started,
                "load_seconds": self._load_seconds,
            },
            parameters={**self.default_parameters(), **params},
            settings=self._settings_summary(config, simulation.refusals, simulation.capped),
            closes=tables.closes,
        )
        return result

    def evaluate(self, window: tuple[int, int] | None = None, **params: Any) -> Metrics:
        """Whole-account metrics of one parameter set, without per-symbol tables (sweeps).

        Args:
            window: (first, last) bar indices, last exclusive: the metrics cover only the
                equity and the trades closed inside it, while signals and positions still
                use every bar before it (walk-forward out-of-sample scoring).
        """
        signals = self._trading_signals(params)
        simulation = simulate(self._bars.panel, signals, self._config_for_run(params))
        tables = simulation_tables(simulation, self._bars.panel)
        first, last = window if window is not None else (0, len(tables.equity))
        if not 0 <= first < last <= len(tables.equity):
            raise InputError(f"window {window} is outside the {len(tables.equity)} bars")
        equity = tables.equity[TOTAL_COLUMN].iloc[first:last]
        trades = tables.trades
        closed = trades["exit_time"].between(equity.index[0], equity.index[-1])
        fills = tables.fills
        in_window = fills["time"].between(equity.index[0], equity.index[-1])
        held = (tables.positions.iloc[first:last] != 0).any(axis=1).to_numpy()
        return compute_metrics(
            equity,
            trades[closed],
            positions=held,
            traded_value=traded_value(fills[in_window]),
            periods_per_year=periods_per_year(self._bars.timeframe, self._main_market()),
        )

    def _trading_signals(self, params: Mapping[str, Any]) -> SignalArrays | TradingSignals:
        """What the simulation reads of `signals(**params)` (a spec's signals are compiled
        without their reasons and exit confidence, which a run does not use)."""
        if isinstance(self._strategy, StrategySpec):
            return compile_trading_signals(self._strategy, self._bars.panel, params)
        return self.signals(**params)

    def _config_for_run(self, params: Mapping[str, Any]) -> SimulationConfig:
        """The configuration with the spec's sizing, stops and allocation cap applied."""
        if not isinstance(self._strategy, StrategySpec):
            return self._config
        spec = self._strategy.with_params(**params) if params else self._strategy
        sizing = spec.sizing
        kernel_sizing = Sizing(
            method=sizing.method,
            quantity=sizing.quantity,
            fraction=sizing.fraction,
            annual_vol=sizing.annual_vol,
            lookback=sizing.lookback,
            bars_per_year=float(periods_per_year(self._bars.timeframe, self._main_market())),
        )
        return dataclasses.replace(
            self._config,
            sizing=kernel_sizing,
            stop_loss=spec.stops.stop_loss,
            take_profit=spec.stops.take_profit,
            trailing_stop=spec.stops.trailing_stop,
            position_allocation=min(self._config.position_allocation, sizing.max_fraction),
        )

    def _main_market(self) -> Market:
        """The most common market of the symbols (decides the annualisation)."""
        return Counter(self._bars.markets).most_common(1)[0][0]

    def _settings_summary(
        self, config: SimulationConfig, refusals: Mapping[str, int], capped: Mapping[str, int]
    ) -> dict[str, Any]:
        taxes = config.sell_tax if isinstance(config.sell_tax, tuple) else (config.sell_tax,)
        return {
            "strategy": self.strategy_name,
            "mode": config.mode,
            "fill": config.fill,
            "cash": config.cash,
            "fees": config.commission,
            "fee_min": config.commission_min,
            "sell_tax": sorted(set(taxes)),
            "slippage_bps": config.slippage_bps,
            "slippage_range": config.slippage_range,
            "participation": config.participation,
            "latency_bars": config.latency_bars,
            "min_confidence": config.min_confidence,
            "risk": self._risk.model_dump(),
            "timeframe": self._bars.timeframe,
            "markets": sorted({market.value for market in self._bars.markets}),
            "refused": {check: count for check, count in refusals.items() if count},
            "capped": {check: count for check, count in capped.items() if count},
        }


def _resolve_strategy(strategy: StrategyLike) -> StrategySpec | type[Strategy]:
    if isinstance(strategy, StrategySpec):
        return strategy
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return strategy
    if isinstance(strategy, Mapping):
        return load_spec(strategy)
    if isinstance(strategy, str | Path):
        return resolve_spec(str(strategy))
    raise InputError(
        "strategy must be a built-in name, a spec (path, JSON text, mapping) or a Strategy "
        f"subclass, not {type(strategy).__name__}"
    )


def _risk(risk: RiskSettings | str | Path | None) -> RiskSettings:
    if risk is None:
        return RiskSettings()
    if isinstance(risk, RiskSettings):
        return risk
    return load_risk_settings(risk)
