"""Strategies: declarative JSON specs and Python classes that turn bars into signals.

A spec (`load_spec`, validated against `strategy_spec_schema()`) compiles to array form
for the backtest kernel (`compile_signals` -> `SignalArrays`) and to a streaming engine
for live agents (`compile_streaming`); both give the same signals on the same bars.
Python strategies subclass `Strategy` and run with `run_strategy`. Built-ins:
`builtin_spec(name)`, `builtin_names()`. Signal quality: `evaluate_signals`.

The names are imported on first use: the array backtest (spec, compiler) does not load
the streaming engine's TA-Lib or the runner's pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrade.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from orchestrade.strategies.arrays import SignalArrays, SignalRow
    from orchestrade.strategies.base import Strategy
    from orchestrade.strategies.builtin import builtin_names, builtin_spec, resolve_spec
    from orchestrade.strategies.compiler import compile_signals
    from orchestrade.strategies.errors import (
        ParameterError,
        SignalArraysError,
        SpecError,
        StrategyError,
    )
    from orchestrade.strategies.evaluation import (
        ConfidenceSummary,
        SignalQuality,
        SymbolSignalQuality,
        evaluate_signals,
    )
    from orchestrade.strategies.ports import PanelLike, SignalSource
    from orchestrade.strategies.runner import replay_signals, run_strategy
    from orchestrade.strategies.schema import strategy_spec_schema
    from orchestrade.strategies.spec import (
        ConfidenceRule,
        ConfidenceTerm,
        Indicator,
        OrderSpec,
        Parameter,
        Sizing,
        Stops,
        StrategySpec,
        Universe,
        load_spec,
    )
    from orchestrade.strategies.streaming import StreamingSignalEngine, compile_streaming
    from orchestrade.strategies.sweeps import parameter_grid, parse_grid

__all__ = [
    "ConfidenceRule",
    "ConfidenceSummary",
    "ConfidenceTerm",
    "Indicator",
    "OrderSpec",
    "PanelLike",
    "Parameter",
    "ParameterError",
    "SignalArrays",
    "SignalArraysError",
    "SignalQuality",
    "SignalRow",
    "SignalSource",
    "Sizing",
    "SpecError",
    "Stops",
    "Strategy",
    "StrategyError",
    "StrategySpec",
    "StreamingSignalEngine",
    "SymbolSignalQuality",
    "Universe",
    "builtin_names",
    "builtin_spec",
    "compile_signals",
    "compile_streaming",
    "evaluate_signals",
    "load_spec",
    "parameter_grid",
    "parse_grid",
    "replay_signals",
    "resolve_spec",
    "run_strategy",
    "strategy_spec_schema",
]

_MODULES = {
    "arrays": ("SignalArrays", "SignalRow"),
    "base": ("Strategy",),
    "builtin": ("builtin_names", "builtin_spec", "resolve_spec"),
    "compiler": ("compile_signals",),
    "errors": ("ParameterError", "SignalArraysError", "SpecError", "StrategyError"),
    "evaluation": ("ConfidenceSummary", "SignalQuality", "SymbolSignalQuality", "evaluate_signals"),
    "ports": ("PanelLike", "SignalSource"),
    "runner": ("replay_signals", "run_strategy"),
    "schema": ("strategy_spec_schema",),
    "spec": (
        "ConfidenceRule",
        "ConfidenceTerm",
        "Indicator",
        "OrderSpec",
        "Parameter",
        "Sizing",
        "Stops",
        "StrategySpec",
        "Universe",
        "load_spec",
    ),
    "streaming": ("StreamingSignalEngine", "compile_streaming"),
    "sweeps": ("parameter_grid", "parse_grid"),
}
_HOMES = {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
