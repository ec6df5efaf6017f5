"""Bots: a strategy spec, its parameters and universe, a share of capital, and a run state.

The orchestrator owns bots and persists them; a bot's spec and parameters are JSON
documents (a bot is saved, listed by the API and reloaded after a restart), so they are
checked to be JSON-able here and frozen, lists becoming tuples and mappings read-only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.events import BotState
from orchestrade.domain.ids import BotId, Symbol
from orchestrade.domain.validation import (
    assign,
    require_decimal,
    require_enum,
    require_text,
    require_utc,
)


@dataclass(frozen=True, slots=True)
class Bot:
    """One trading bot: what it runs, on which symbols, with how much capital.

    `strategy` is the strategy spec document and `params` the values that override its
    parameter defaults; both are JSON-able mappings (str keys; str, int, finite float,
    bool, None, lists and mappings as values). `allocation` is the fraction of capital in
    [0, 1] (0 switches the bot off without stopping it). `updated_at` defaults to
    `created_at` and is never earlier.
    """

    bot_id: BotId
    name: str
    strategy: Mapping[str, Any]
    params: Mapping[str, Any]
    symbols: tuple[Symbol, ...]
    allocation: Decimal
    state: BotState
    created_at: datetime
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        require_text("Bot.bot_id", self.bot_id)
        require_text("Bot.name", self.name)
        assign(self, "strategy", _frozen_document("Bot.strategy", self.strategy))
        assign(self, "params", _frozen_document("Bot.params", self.params))
        assign(self, "symbols", _symbols(self.symbols))
        assign(self, "allocation", require_allocation("Bot.allocation", self.allocation))
        assign(self, "state", require_enum("Bot.state", BotState, self.state))
        created = require_utc("Bot.created_at", self.created_at)
        assign(self, "created_at", created)
        updated = (
            created if self.updated_at is None else require_utc("Bot.updated_at", self.updated_at)
        )
        if updated < created:
            raise ValidationError(
                f"Bot {self.bot_id}: updated_at {updated.isoformat()} is before "
                f"created_at {created.isoformat()}"
            )
        assign(self, "updated_at", updated)

    @property
    def is_running(self) -> bool:
        """True when the bot trades."""
        return self.state is BotState.RUNNING

    def with_state(self, state: BotState, *, at: datetime) -> Bot:
        """This bot moved to `state` at `at` (any state may follow any other)."""
        return dataclasses.replace(self, state=state, updated_at=at)

    def with_allocation(self, allocation: Decimal, *, at: datetime) -> Bot:
        """This bot with a new share of capital, changed at `at`."""
        return dataclasses.replace(self, allocation=allocation, updated_at=at)


def require_allocation(name: str, value: object) -> Decimal:
    """A Decimal fraction of capital within [0, 1]."""
    allocation = require_decimal(name, value)
    if not 0 <= allocation <= 1:
        raise ValidationError(f"{name} must be within [0, 1], got {allocation}")
    return allocation


def thaw(value: Any) -> Any:
    """A frozen JSON document (read-only mappings, tuples) as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(item) for item in value]
    return value


def _symbols(value: object) -> tuple[Symbol, ...]:
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise ValidationError(f"Bot.symbols must be a tuple of symbols, got {value!r}")
    symbols = tuple(
        Symbol(require_text(f"Bot.symbols[{index}]", item)) for index, item in enumerate(value)
    )
    repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
    if repeated:
        raise ValidationError(f"Bot.symbols lists {', '.join(repeated)} more than once")
    return symbols


def _frozen_document(name: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{name} must be a mapping, got {type(value).__name__}")
    return _frozen_mapping(name, value)


def _frozen(path: str, value: object) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{path} must be a finite number, got {value}")
        return value
    if isinstance(value, Mapping):
        return _frozen_mapping(path, value)
    if isinstance(value, tuple | list):
        return tuple(_frozen(f"{path}[{index}]", item) for index, item in enumerate(value))
    raise ValidationError(
        f"{path} must be JSON-able (str, int, float, bool, None, list, mapping), "
        f"got {type(value).__name__} {value!r}"
    )


def _frozen_mapping(path: str, value: Mapping[Any, Any]) -> Mapping[str, Any]:
    items: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValidationError(f"{path} has a non-text key {key!r}")
        items[key] = _frozen(f"{path}.{key}", item)
    return MappingProxyType(items)
