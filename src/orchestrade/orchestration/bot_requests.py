"""From a `BotRequest` to a bot that can run: every field checked against the strategy and
the store (errors name the field), and from a stored bot back to the `Backtest` its trading
node trades (the same bars and options a backtest of it would use).

Strategies come by built-in name or as a spec document, never as a path: requests arrive
from remote callers, who must not make the server read its own files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from orchestrade.backtest.engine import Backtest
from orchestrade.data.files import infer_instrument_kind
from orchestrade.domain import Bot, Market, OrchestradeError
from orchestrade.domain.bots import require_allocation, thaw
from orchestrade.orchestration.control import BotMode, BotRequest, ControlError
from orchestrade.settings import RiskSettings, RulesSettings
from orchestrade.storage import Store
from orchestrade.strategies.builtin import builtin_names, builtin_spec
from orchestrade.strategies.errors import StrategyError
from orchestrade.strategies.spec import StrategySpec, closest, load_spec


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How a bot runs, recorded at its creation (see `BotRequest` for each field)."""

    mode: BotMode = "paper"
    interval_s: float = 1.0
    speed: float | str = "max"
    cash: float = 10_000_000.0
    timeframe: str = "1d"
    market: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """The settings as JSON-able values."""
        return {
            "mode": self.mode,
            "interval_s": self.interval_s,
            "speed": self.speed,
            "cash": self.cash,
            "timeframe": self.timeframe,
            "market": self.market,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RunSettings:
        """The settings `to_payload` wrote (missing keys take the defaults)."""
        known = {name: payload[name] for name in cls.__dataclass_fields__ if name in payload}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    """A request whose every field passed: what the supervisor stores."""

    name: str
    spec: StrategySpec
    params: dict[str, Any]
    symbols: tuple[str, ...]
    allocation: Decimal
    settings: RunSettings


def check_request(request: BotRequest, store: Store) -> CheckedRequest:
    """`request` checked against the strategy and the stored bars.

    Raises:
        ControlError: the message starts with the bad field (strategy, params, symbols,
            market, timeframe, cash, allocation, mode, interval_s, speed, name).
    """
    spec = strategy_spec(request.strategy)
    params = _checked_params(spec, request.params)
    settings = _checked_settings(request)
    allocation = checked_allocation(request.allocation)
    symbols = _checked_symbols(request.symbols, spec, settings, store)
    name = request.name if request.name is not None else spec.name
    if not isinstance(name, str) or not name.strip():
        raise ControlError(f"name: must be non-blank text, got {name!r}")
    return CheckedRequest(name.strip(), spec, params, symbols, allocation, settings)


def bot_backtest(
    bot: Bot,
    settings: RunSettings,
    store: Store,
    *,
    risk: RiskSettings,
    rules: RulesSettings,
) -> Backtest:
    """The bot's strategy over the stored bars of its symbols, with `risk` and `rules`
    (blocking: reads the bars).

    Raises:
        ControlError: a symbol has no stored bars of the timeframe any more.
    """
    panel = store.load_bars(list(bot.symbols), timeframe=settings.timeframe).panel
    missing = sorted(set(bot.symbols) - set(panel.symbols))
    if missing:
        raise ControlError(
            f"bot {bot.bot_id}: no stored {settings.timeframe} bars of {', '.join(missing)}"
        )
    known = {info.symbol: info for info in store.list_instruments()}
    markets = {symbol: known[symbol].market for symbol in panel.symbols}
    kinds = {
        symbol: infer_instrument_kind(symbol, markets[symbol], known[symbol].name)
        for symbol in panel.symbols
    }
    return Backtest(
        panel,
        thaw(bot.strategy),
        cash=settings.cash,
        markets=markets,
        kinds=kinds,
        risk=risk,
        min_confidence=rules.min_confidence,
    )


def strategy_spec(strategy: object) -> StrategySpec:
    """A built-in by name, or a spec document (ControlError naming ``strategy``)."""
    if isinstance(strategy, str):
        names = list(builtin_names())
        if strategy not in names:
            raise ControlError(
                f"strategy: no built-in strategy {strategy!r}{closest(strategy, names)} "
                f"(built-ins: {', '.join(names)}); give a spec document for your own"
            )
        return builtin_spec(strategy)
    if isinstance(strategy, Mapping):
        try:
            return load_spec(thaw(strategy))
        except StrategyError as error:
            raise ControlError(f"strategy: {error}") from None
    raise ControlError(
        f"strategy: a built-in name or a spec document, got {type(strategy).__name__}"
    )


def checked_allocation(allocation: object) -> Decimal:
    """A Decimal share of capital in [0, 1] (ControlError naming ``allocation``)."""
    try:
        return require_allocation("allocation", allocation)
    except OrchestradeError as error:
        raise ControlError(str(error)) from None


def _checked_params(spec: StrategySpec, params: object) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise ControlError(f"params: a mapping of name: value, got {type(params).__name__}")
    checked = dict(params)
    try:
        spec.with_params(**checked)
    except StrategyError as error:
        raise ControlError(f"params: {error}") from None
    return checked


def _checked_settings(request: BotRequest) -> RunSettings:
    mode = request.mode
    if mode != "paper" and mode != "replay":
        raise ControlError(f"mode: must be paper or replay, got {mode!r}")
    interval = _positive("interval_s", request.interval_s)
    cash = _positive("cash", request.cash)
    speed: float | str = request.speed
    if speed != "max":
        speed = _positive("speed", speed, also="or 'max'")
    timeframe = request.timeframe
    if not isinstance(timeframe, str) or not timeframe.strip():
        raise ControlError(f"timeframe: must be non-blank text like 1d, got {timeframe!r}")
    market = request.market
    if market is not None:
        try:
            market = Market(str(market).lower()).value
        except ValueError:
            choices = ", ".join(item.value for item in Market)
            raise ControlError(f"market: must be one of {choices}, got {market!r}") from None
    return RunSettings(mode, interval, speed, cash, timeframe.strip(), market)


def _checked_symbols(
    requested: object, spec: StrategySpec, settings: RunSettings, store: Store
) -> tuple[str, ...]:
    """The requested symbols (or the spec's universe, or every stored one of the market)
    with stored bars of the timeframe, all of one market."""
    stored = {
        summary.symbol: summary.market
        for summary in store.bar_summaries(settings.market)
        if summary.timeframe == settings.timeframe
    }
    where = f" of market {settings.market}" if settings.market else ""
    asked = _texts("symbols", requested) or tuple(spec.universe.symbols)
    if asked:
        symbols = tuple(dict.fromkeys(asked))
        unknown = [symbol for symbol in symbols if symbol not in stored]
        if unknown:
            raise ControlError(
                f"symbols: no stored {settings.timeframe} bars{where} of "
                f"{', '.join(unknown)}{closest(unknown[0], list(stored))}"
            )
    else:
        symbols = tuple(sorted(stored))
        if not symbols:
            raise ControlError(
                f"symbols: the store has no {settings.timeframe} bars{where}: import some "
                "(`orchestrade data import`) or give other symbols"
            )
    markets = sorted({stored[symbol] for symbol in symbols})
    if len(markets) > 1:
        raise ControlError(
            f"symbols: a bot trades one market, these span {', '.join(markets)}: "
            "give market or symbols of one market"
        )
    return symbols


def _positive(name: str, value: object, *, also: str = "") -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        suffix = f" {also}" if also else ""
        raise ControlError(f"{name}: must be a finite number > 0{suffix}, got {value!r}")
    return float(value)


def _texts(name: str, values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ControlError(f"{name}: a list of text, got {values!r}")
    bad = [value for value in values if not isinstance(value, str) or not value.strip()]
    if bad:
        raise ControlError(f"{name}: every entry must be non-blank text, got {bad[0]!r}")
    return tuple(value.strip() for value in values)
