"""The rule engine: the trading desk's policy as ordered data, applied to one event at a time.

A `Rule` says: on an event of this type, when this condition holds (see
`orchestrade.orchestration.conditions`), take this action. Rules are data, loaded from YAML
(`orchestrade.orchestration.rule_files`) and changeable while trading: `RuleEngine.add`,
`remove`, `enable`, `disable`, `set_parameters`.

The decision policy of `RuleEngine.evaluate`:

- Rules of the event's type are tried in order of `priority` (larger first), ties in the
  order they were added (file order); disabled rules are skipped. Every enabled rule is
  tried: a match never hides a later rule.
- *Verdicts* (``approve``, ``reject``, ``require_confirmation``) decide whether the event's
  proposal (a signal, a rebalance) goes ahead: the first matching verdict rule decides,
  later matching verdicts are listed but not decisive. When no verdict rule matches the
  decision is ``approve``: the desk's policy lists what it refuses.
- *Effects* (``stop_bot``, ``stop_all_bots``, ``notify``) accumulate: every matching
  effect rule is in `RuleOutcome.effects`, in evaluation order, for the orchestrator to
  carry out (stopping a bot twice is harmless).

Every match carries a reason that quotes the rule and the event's numbers, e.g.
``min_signal_confidence: signal.confidence 0.6 < 0.65 ($min_confidence)``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from orchestrade.domain import EVENT_TYPES, BotId, Message
from orchestrade.orchestration.conditions import (
    Condition,
    ParameterValue,
    Predicate,
    check_condition,
    compile_condition,
    explain,
    parameter_names,
)
from orchestrade.orchestration.errors import RuleError
from orchestrade.settings import RiskSettings, RulesSettings


class Action(StrEnum):
    """What a matching rule asks for."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUIRE_CONFIRMATION = "require_confirmation"
    STOP_BOT = "stop_bot"
    STOP_ALL_BOTS = "stop_all_bots"
    NOTIFY = "notify"

    @property
    def is_verdict(self) -> bool:
        """True for approve, reject and require_confirmation (the first match decides)."""
        return self in _VERDICTS


_VERDICTS = frozenset({Action.APPROVE, Action.REJECT, Action.REQUIRE_CONFIRMATION})


class StopScope(StrEnum):
    """Which bots ``stop_all_bots`` stops: every bot, or only those losing money today."""

    ALL = "all"
    LOSING = "losing"


def _params_of(action: Action) -> Mapping[str, tuple[str, ...] | None]:
    params: dict[str, tuple[str, ...] | None] = {"reason": None}
    if action is Action.STOP_ALL_BOTS:
        params["scope"] = tuple(scope.value for scope in StopScope)
    if action is Action.NOTIFY:
        params["message"] = None
    return MappingProxyType(params)


ACTION_PARAMS: Mapping[Action, Mapping[str, tuple[str, ...] | None]] = MappingProxyType(
    {action: _params_of(action) for action in Action}
)
"""The params each action accepts, with their allowed values (None: any text).

Every action takes ``reason`` (text added to the match's reason); ``stop_all_bots`` takes
``scope`` (``all`` by default, or ``losing``); ``notify`` takes ``message``.
"""

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the desk's policy: on `event`, when `when` holds, take `action`.

    Attributes:
        name: unique in an engine; letters, digits, ``_ . -``.
        event: the event class name (a key of `orchestrade.domain.EVENT_TYPES`).
        action: what to do when the rule matches.
        when: the condition over the event's fields; None matches every event of the type.
        priority: larger is tried first; ties keep the order the rules were added in.
        params: action parameters (see `ACTION_PARAMS`).
        enabled: a disabled rule is kept but never tried.
        description: free text for people.
    """

    name: str
    event: str
    action: Action
    when: Condition | None = None
    priority: int = 0
    params: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise RuleError(
                f"a rule name is letters, digits, '_', '.' or '-', got {self.name!r}",
                field="name",
            )
        if self.event not in EVENT_TYPES:
            close = difflib.get_close_matches(str(self.event), list(EVENT_TYPES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RuleError(
                f"rule {self.name}: unknown event type {self.event!r}{hint}", field="event"
            )
        try:
            action = Action(self.action)
        except ValueError:
            raise RuleError(
                f"rule {self.name}: unknown action {self.action!r} (expected one of "
                f"{', '.join(action.value for action in Action)})",
                field="action",
            ) from None
        object.__setattr__(self, "action", action)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise RuleError(
                f"rule {self.name}: priority must be an integer, got {self.priority!r}",
                field="priority",
            )
        if not isinstance(self.enabled, bool):
            raise RuleError(
                f"rule {self.name}: enabled must be true or false, got {self.enabled!r}",
                field="enabled",
            )
        if not isinstance(self.description, str):
            raise RuleError(f"rule {self.name}: description must be text", field="description")
        object.__setattr__(self, "params", _checked_params(self.name, action, self.params))
        if self.when is not None:
            try:
                check_condition(EVENT_TYPES[self.event], self.when)
            except RuleError as error:
                raise RuleError(f"rule {self.name}: {error}", field=error.field) from None

    @property
    def event_type(self) -> type[Message]:
        """The event class the rule applies to."""
        return EVENT_TYPES[self.event]

    @property
    def parameters(self) -> frozenset[str]:
        """The settings the condition refers to with ``$name``."""
        return parameter_names(self.when)

    @property
    def scope(self) -> StopScope:
        """Which bots a ``stop_all_bots`` rule stops (``all`` unless params say ``losing``)."""
        return StopScope(self.params.get("scope", StopScope.ALL.value))


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule whose condition held, with the reason quoting the event's values."""

    rule: str
    action: Action
    reason: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> StopScope:
        """For ``stop_all_bots``: every bot, or only the losing ones."""
        return StopScope(self.params.get("scope", StopScope.ALL.value))


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What the rules say about one event (see the module docstring for the policy).

    Attributes:
        event_type: the event's class name.
        decision: approve (also when no verdict rule matched), reject or require_confirmation.
        decided_by: the match that made the decision, or None for the default approval.
        matches: every matching enabled rule, in evaluation order.
        bot_id: the bot the event is about (its `bot_id`, or that of its signal or order).
    """

    event_type: str
    decision: Action
    decided_by: RuleMatch | None
    matches: tuple[RuleMatch, ...]
    bot_id: BotId | None

    @property
    def approved(self) -> bool:
        """True when the decision is approve."""
        return self.decision is Action.APPROVE

    @property
    def effects(self) -> tuple[RuleMatch, ...]:
        """The matching stop_bot, stop_all_bots and notify rules, in evaluation order."""
        return tuple(match for match in self.matches if not match.action.is_verdict)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reason of every match, in evaluation order."""
        return tuple(match.reason for match in self.matches)


def rule_parameters(
    rules: RulesSettings | None = None, risk: RiskSettings | None = None
) -> dict[str, ParameterValue]:
    """The settings rules may name with ``$name``: every field of `RulesSettings`
    (``min_confidence``) and every limit of `RiskSettings` (``max_daily_loss_pct``, ...).

    With risk disabled (``--risk none``) every limit is None, as in the backtest kernel, so
    rules that compare with a limit never match.
    """
    rules = rules if rules is not None else RulesSettings()
    risk = risk if risk is not None else RiskSettings()
    values: dict[str, ParameterValue] = dict(rules.model_dump())
    for name, value in risk.model_dump().items():
        if name != "enabled":
            values[name] = value if risk.enabled else None
    return values


PARAMETER_NAMES: frozenset[str] = frozenset(rule_parameters())
"""The names ``$name`` may use in a rule file."""


class RuleEngine:
    """Ordered rules applied to events; rules and settings can change between evaluations.

    Args:
        rules: the initial rules (names must be unique).
        parameters: the values of ``$name`` settings (default: `rule_parameters()`).

    Raises:
        RuleError: two rules share a name, or a rule names a setting not in `parameters`.
    """

    def __init__(
        self,
        rules: Iterable[Rule] = (),
        *,
        parameters: Mapping[str, ParameterValue] | None = None,
    ) -> None:
        self._parameters: Mapping[str, ParameterValue] = MappingProxyType(
            dict(rule_parameters() if parameters is None else parameters)
        )
        self._rules: dict[str, tuple[int, Rule]] = {}
        self._sequence = 0
        self._by_event: dict[str, tuple[tuple[Rule, Predicate | None], ...]] = {}
        """The enabled rules of each event type in evaluation order, with their compiled
        conditions (None: no condition)."""
        self._unmatched: dict[tuple[str, BotId | None], RuleOutcome] = {}
        """The outcome of an event no rule matches, by event type and bot (immutable, so
        shared: most events match no rule)."""
        for rule in rules:
            self.add(rule)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, disabled ones included, in evaluation order."""
        entries = sorted(self._rules.values(), key=lambda entry: (-entry[1].priority, entry[0]))
        return tuple(rule for _, rule in entries)

    @property
    def parameters(self) -> Mapping[str, ParameterValue]:
        """The current values of the ``$name`` settings."""
        return self._parameters

    def rule(self, name: str) -> Rule:
        """The rule called `name`.

        Raises:
            RuleError: no such rule.
        """
        try:
            return self._rules[name][1]
        except KeyError:
            raise self._unknown(name) from None

    def add(self, rule: Rule) -> None:
        """Add `rule`; it takes part in the next evaluation.

        Raises:
            RuleError: the name is taken, or the rule names a setting the engine lacks.
        """
        if not isinstance(rule, Rule):
            raise RuleError(f"expected a Rule, got {type(rule).__name__}")
        if rule.name in self._rules:
            raise RuleError(f"a rule named {rule.name!r} already exists", field="name")
        missing = sorted(rule.parameters - set(self._parameters))
        if missing:
            raise RuleError(
                f"rule {rule.name}: unknown setting(s) {', '.join('$' + m for m in missing)} "
                f"(known: {', '.join(sorted(self._parameters))})",
                field="when",
            )
        self._rules[rule.name] = (self._sequence, rule)
        self._sequence += 1
        self._reindex()

    def remove(self, name: str) -> Rule:
        """Remove and return the rule called `name` (RuleError if there is none)."""
        rule = self.rule(name)
        del self._rules[name]
        self._reindex()
        return rule

    def enable(self, name: str) -> None:
        """Try the rule again from the next evaluation (RuleError if there is none)."""
        self._set_enabled(name, enabled=True)

    def disable(self, name: str) -> None:
        """Keep the rule but stop trying it (RuleError if there is none)."""
        self._set_enabled(name, enabled=False)

    def set_parameters(self, parameters: Mapping[str, ParameterValue]) -> None:
        """Replace the values of the ``$name`` settings (after a settings reload).

        Raises:
            RuleError: a rule refers to a setting missing from `parameters`, or a value is
                not a number, text, boolean or None; the old values are kept.
        """
        values = dict(parameters)
        for name, value in values.items():
            if value is not None and not isinstance(value, str | int | float | bool):
                raise RuleError(
                    f"setting ${name} must be a number, text, boolean or null, "
                    f"got {type(value).__name__}",
                    field=f"${name}",
                )
        for _, rule in self._rules.values():
            missing = sorted(rule.parameters - set(values))
            if missing:
                raise RuleError(
                    f"rule {rule.name} needs setting(s) {', '.join('$' + m for m in missing)}",
                    field="when",
                )
        self._parameters = MappingProxyType(values)

    def evaluate(self, event: Message) -> RuleOutcome:
        """Apply the enabled rules of the event's type (see the module docstring).

        Raises:
            RuleError: a setting's current value cannot be compared with the event's field
                (the message names the rule); no rule is skipped silently.
        """
        event_type = type(event).__name__
        matches: list[RuleMatch] = []
        decided_by: RuleMatch | None = None
        parameters = self._parameters
        for rule, predicate in self._by_event.get(event_type, ()):
            try:
                if predicate is not None and not predicate(event, parameters):
                    continue
                reason = self._reason(rule, event)
            except RuleError as error:
                raise RuleError(f"rule {rule.name}: {error}", field=error.field) from None
            match = RuleMatch(rule.name, rule.action, reason, rule.params)
            matches.append(match)
            if decided_by is None and rule.action.is_verdict:
                decided_by = match
        bot_id = _bot_of(event)
        if not matches:
            outcome = self._unmatched.get((event_type, bot_id))
            if outcome is None:
                outcome = RuleOutcome(event_type, Action.APPROVE, None, (), bot_id)
                self._unmatched[(event_type, bot_id)] = outcome
            return outcome
        return RuleOutcome(
            event_type=event_type,
            decision=Action.APPROVE if decided_by is None else decided_by.action,
            decided_by=decided_by,
            matches=tuple(matches),
            bot_id=bot_id,
        )

    def _reason(self, rule: Rule, event: Message) -> str:
        parts = []
        if "reason" in rule.params:
            parts.append(rule.params["reason"])
        if rule.when is not None:
            parts.append(explain(rule.when, event, self._parameters))
        return f"{rule.name}: {'; '.join(parts)}" if parts else rule.name

    def _set_enabled(self, name: str, *, enabled: bool) -> None:
        sequence, rule = self._rules.get(name, (0, None))
        if rule is None:
            raise self._unknown(name)
        self._rules[name] = (sequence, dataclasses.replace(rule, enabled=enabled))
        self._reindex()

    def _reindex(self) -> None:
        grouped: dict[str, list[tuple[Rule, Predicate | None]]] = {}
        for rule in self.rules:
            if rule.enabled:
                predicate = None if rule.when is None else compile_condition(rule.when)
                grouped.setdefault(rule.event, []).append((rule, predicate))
        self._by_event = {event: tuple(rules) for event, rules in grouped.items()}

    def _unknown(self, name: str) -> RuleError:
        close = difflib.get_close_matches(str(name), list(self._rules), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return RuleError(f"no rule named {name!r}{hint}", field="name")


def _checked_params(name: str, action: Action, params: object) -> Mapping[str, str]:
    if not isinstance(params, Mapping):
        raise RuleError(
            f"rule {name}: params must be a mapping of name: text, got {type(params).__name__}",
            field="params",
        )
    allowed = ACTION_PARAMS[action]
    checked: dict[str, str] = {}
    for key, value in params.items():
        if key not in allowed:
            raise RuleError(
                f"rule {name}: action {action.value} takes no param {key!r} "
                f"(it takes: {', '.join(allowed)})",
                field=f"params.{key}",
            )
        if not isinstance(value, str):
            raise RuleError(
                f"rule {name}: param {key} must be text, got {type(value).__name__} {value!r}",
                field=f"params.{key}",
            )
        choices = allowed[key]
        if choices is not None and value not in choices:
            raise RuleError(
                f"rule {name}: param {key} must be one of {', '.join(choices)}, got {value!r}",
                field=f"params.{key}",
            )
        checked[key] = value
    return MappingProxyType(checked)


def _bot_of(event: Any) -> BotId | None:
    """The bot an event is about: its own `bot_id`, or its signal's or order's."""
    holders = _BOT_HOLDERS.get(type(event))
    if holders is None:
        holders = _BOT_HOLDERS[type(event)] = _bot_holders(type(event))
    for holder in holders:
        bot: BotId | None = getattr(
            event if holder is None else getattr(event, holder, None), "bot_id", None
        )
        if bot is not None:
            return bot  # BotId(bot) is bot: NewType is the identity at run time
    return None


_BOT_HOLDERS: dict[type, tuple[str | None, ...]] = {}
"""`_bot_holders` of each event class seen."""


def _bot_holders(event_type: type) -> tuple[str | None, ...]:
    """What of an event of `event_type` may name its bot: itself (None), its `signal`, its
    `order`, in that order; what its class lacks is left out (asking an object for an
    attribute it does not have costs an exception), unless its instances can have
    attributes of their own (a class without slots)."""
    if _has_dict(event_type):
        return (None, "signal", "order")
    holders: list[str | None] = []
    if hasattr(event_type, "bot_id"):
        holders.append(None)
    holders += [name for name in ("signal", "order") if hasattr(event_type, name)]
    return tuple(holders)


def _has_dict(event_type: type) -> bool:
    return any("__dict__" in vars(cls) for cls in event_type.__mro__ if cls is not object)
