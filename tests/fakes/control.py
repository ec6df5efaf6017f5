"""FakeControl: `TradingControl` in memory, for the API's route tests.

Bots, agents, rules and risk limits are plain state; every check a caller can trip is the
real one where the real one is importable (strategy specs and parameters, rule documents,
risk settings, allocations), and raises the control's errors the way `BotSupervisor` does.
Orders to cancel are the ones a test puts in `open_orders`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import pydantic
import yaml

from orchestrade.domain import (
    Bot,
    BotId,
    BotState,
    Order,
    OrderId,
    OrderStatus,
    Symbol,
    ValidationError,
)
from orchestrade.domain.bots import require_allocation
from orchestrade.orchestration.control import (
    AgentInfo,
    BotRequest,
    ControlConflictError,
    ControlError,
    RuleInfo,
    StreamEvent,
    UnknownBotError,
)
from orchestrade.orchestration.errors import RuleError
from orchestrade.orchestration.rule_files import parse_rules
from orchestrade.settings import RiskSettings
from orchestrade.strategies import StrategySpec, builtin_spec, load_spec
from orchestrade.strategies.errors import StrategyError

from .orders import FakeClock

AGENT_NAMES = ("data", "strategy", "risk", "execution", "portfolio")
"""The agents a running fake bot has."""


class FakeControl:
    """The running bots of an imaginary trading node (see the module docstring).

    Args:
        clock: aware UTC now, for bots' times and heartbeats.
        symbols: the stored symbols a bot may trade (others are refused).
        rules: rule documents in force at the start, as in the rule files.
    """

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        symbols: Sequence[str] = ("005930", "000660"),
        rules: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.clock = clock or FakeClock()
        self.symbols = tuple(symbols)
        self.open_orders: dict[OrderId, Order] = {}
        self.calls: list[tuple[str, Any]] = []
        self._bots: dict[BotId, Bot] = {}
        self._agents: dict[tuple[BotId, str], AgentInfo] = {}
        self._rules: dict[str, RuleInfo] = {}
        self._risk: dict[str, Any] = RiskSettings().model_dump()
        self._numbers = itertools.count(1)
        for document in rules:
            self._add_rule(document)

    def keep(self, bot: Bot) -> None:
        """Know `bot` as if it had been created (and stored) before."""
        self._bots[bot.bot_id] = bot

    # -- bots ------------------------------------------------------------------------------

    def bots(self) -> Sequence[Bot]:
        return list(self._bots.values())

    def bot(self, bot_id: BotId) -> Bot:
        bot = self._bots.get(bot_id)
        if bot is None:
            raise UnknownBotError(f"no bot {bot_id!r}")
        return bot

    async def create_bot(self, request: BotRequest) -> Bot:
        self.calls.append(("create_bot", request))
        spec = _spec(request.strategy)
        try:
            spec.with_params(**request.params)
        except StrategyError as error:
            raise ControlError(f"params: {error}") from None
        unknown = [symbol for symbol in request.symbols if symbol not in self.symbols]
        if unknown:
            raise ControlError(f"symbols: no bars are stored for {', '.join(unknown)}")
        try:
            allocation = require_allocation("allocation", request.allocation)
        except ValidationError as error:
            raise ControlError(str(error)) from None
        bot = Bot(
            bot_id=BotId(f"bot-{next(self._numbers)}"),
            name=request.name or spec.name,
            strategy=spec.to_dict(),
            params=dict(request.params),
            symbols=tuple(Symbol(symbol) for symbol in request.symbols or self.symbols),
            allocation=allocation,
            state=BotState.PAUSED,
            created_at=self.clock(),
        )
        self._bots[bot.bot_id] = bot
        return bot

    async def start_bot(self, bot_id: BotId) -> Bot:
        self.calls.append(("start_bot", bot_id))
        bot = self._set_state(bot_id, BotState.RUNNING)
        for name in AGENT_NAMES:
            self._agents[(bot_id, name)] = AgentInfo(
                bot_id, name, f"{bot_id}/{name}", "running", self.clock(), 0
            )
        return bot

    async def pause_bot(self, bot_id: BotId) -> Bot:
        self.calls.append(("pause_bot", bot_id))
        return self._set_state(bot_id, BotState.PAUSED)

    async def stop_bot(self, bot_id: BotId) -> Bot:
        self.calls.append(("stop_bot", bot_id))
        return self._set_state(bot_id, BotState.STOPPED)

    async def delete_bot(self, bot_id: BotId) -> None:
        self.calls.append(("delete_bot", bot_id))
        if self.bot(bot_id).is_running:
            raise ControlConflictError(f"bot {bot_id} is running: stop or pause it first")
        del self._bots[bot_id]

    async def set_allocation(self, bot_id: BotId, allocation: Decimal) -> Bot:
        self.calls.append(("set_allocation", (bot_id, allocation)))
        bot = self.bot(bot_id)
        try:
            changed = bot.with_allocation(allocation, at=self.clock())
        except ValidationError as error:
            raise ControlError(str(error)) from None
        self._bots[bot_id] = changed
        return changed

    # -- orders ----------------------------------------------------------------------------

    async def cancel_order(self, order_id: OrderId) -> Order:
        self.calls.append(("cancel_order", order_id))
        order = self.open_orders.pop(order_id, None)
        if order is None:
            raise ControlConflictError(f"no running bot holds order {order_id!r}")
        return order.with_status(OrderStatus.CANCEL_REQUESTED)

    # -- agents ----------------------------------------------------------------------------

    def agents(self) -> Sequence[AgentInfo]:
        return [info for (bot_id, _), info in self._agents.items() if self._bots[bot_id].is_running]

    async def restart_agent(self, bot_id: BotId, name: str) -> AgentInfo:
        self.calls.append(("restart_agent", (bot_id, name)))
        if not self.bot(bot_id).is_running:
            raise ControlConflictError(f"bot {bot_id} is not running")
        info = self._agents.get((bot_id, name))
        if info is None:
            raise ControlError(f"bot {bot_id} has no agent {name!r} ({', '.join(AGENT_NAMES)})")
        restarted = AgentInfo(
            bot_id, name, info.agent_id, "running", self.clock(), info.restarts + 1
        )
        self._agents[(bot_id, name)] = restarted
        return restarted

    # -- rules and risk --------------------------------------------------------------------

    def rules(self) -> Sequence[RuleInfo]:
        return sorted(self._rules.values(), key=lambda rule: -rule.priority)

    async def add_rule(self, document: Mapping[str, Any]) -> RuleInfo:
        self.calls.append(("add_rule", dict(document)))
        return self._add_rule(document)

    async def set_rule_enabled(self, name: str, enabled: bool) -> RuleInfo:
        self.calls.append(("set_rule_enabled", (name, enabled)))
        info = self._rules.get(name)
        if info is None:
            raise ControlError(f"no rule {name!r}")
        changed = RuleInfo(
            info.name,
            info.description,
            info.priority,
            info.event,
            info.action,
            enabled,
            info.when,
            info.params,
        )
        self._rules[name] = changed
        return changed

    def risk_limits(self) -> Mapping[str, Any]:
        return dict(self._risk)

    async def update_risk_limits(self, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        self.calls.append(("update_risk_limits", dict(changes)))
        try:
            limits = RiskSettings(**{**self._risk, **changes})
        except pydantic.ValidationError as error:
            raise ControlError(f"risk limits: {error.errors()[0]['msg']}") from None
        self._risk = limits.model_dump()
        return dict(self._risk)

    # -- the live stream -------------------------------------------------------------------

    def events_after(self, event_id: int, *, limit: int = 1000) -> Sequence[StreamEvent]:
        return []

    async def wait_for_event(self, after_id: int, timeout_s: float) -> bool:
        return False

    # -- helpers ---------------------------------------------------------------------------

    def _set_state(self, bot_id: BotId, state: BotState) -> Bot:
        bot = self.bot(bot_id).with_state(state, at=self.clock())
        self._bots[bot_id] = bot
        return bot

    def _add_rule(self, document: Mapping[str, Any]) -> RuleInfo:
        try:
            (rule,) = parse_rules(yaml.safe_dump({"rules": [dict(document)]}), source="request")
        except RuleError as error:
            raise ControlError(str(error)) from None
        if rule.name in self._rules:
            raise ControlConflictError(f"a rule named {rule.name!r} exists already")
        info = RuleInfo(
            name=rule.name,
            description=rule.description,
            priority=rule.priority,
            event=rule.event,
            action=rule.action.value,
            enabled=rule.enabled,
            when=dict(document.get("when") or {}),
            params=dict(rule.params),
        )
        self._rules[rule.name] = info
        return info


def _spec(strategy: str | Mapping[str, Any]) -> StrategySpec:
    try:
        return builtin_spec(strategy) if isinstance(strategy, str) else load_spec(strategy)
    except StrategyError as error:
        raise ControlError(f"strategy: {error}") from None
