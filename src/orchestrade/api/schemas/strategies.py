"""The `strategy` field of bots and backtests: a built-in's name or a spec document.

A name must be a built-in's: the CLI also takes a spec file's path there, but a path sent
over HTTP would make the server read its own files. A document is validated here, so a
bad field is a 422 naming its JSON path before anything runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from orchestrade.strategies import StrategySpec, builtin_spec, load_spec
from orchestrade.strategies.errors import StrategyError


def strategy_spec(strategy: str | dict[str, Any]) -> StrategySpec:
    """The built-in named `strategy`, or the spec document `strategy`.

    Raises:
        StrategyError: no such built-in, or an invalid document (path of the bad field).
    """
    if isinstance(strategy, str):
        return builtin_spec(strategy)
    return load_spec(strategy)


def _checked(strategy: str | dict[str, Any]) -> str | dict[str, Any]:
    try:
        strategy_spec(strategy)
    except StrategyError as error:
        raise ValueError(str(error)) from None
    return strategy


StrategyChoice = Annotated[
    str | dict[str, Any],
    AfterValidator(_checked),
    Field(
        description="A built-in strategy's name (sma_cross, rsi_reversion, ...) or a strategy "
        "spec document (its JSON Schema is published with the strategies).",
        examples=["sma_cross"],
    ),
]
