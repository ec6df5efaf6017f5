"""Errors of the orchestration layer: a bad rule or rule file, a bad health policy."""

from __future__ import annotations

from orchestrade.domain import OrchestradeError


class OrchestrationError(OrchestradeError):
    """Base class of every error raised by `orchestrade.orchestration`."""


class RuleError(OrchestrationError, ValueError):
    """A rule is invalid, or a run-time change to the rules was refused.

    `field` names the part of the rule at fault, as a path into the rule
    (``"action"``, ``"params.scope"``, ``"when.all[1].lt"``), or is empty.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class RuleFileError(RuleError):
    """A rule file cannot be loaded; the message starts with ``file:line:`` and the field.

    Attributes:
        source: the file (or the name given to the text).
        line: 1-based line of the offending YAML node (0 when the file cannot be read).
        field: path of the offending field, e.g. ``"rules[2].when.all[0].field"``.
        problem: what is wrong, without the location.
    """

    def __init__(self, source: str, line: int, field: str, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
        self.field = field
        self.source = source
        self.line = line
        self.problem = problem


class HealthConfigurationError(OrchestrationError, ValueError):
    """A health-monitor setting is out of range (the message names it and the value)."""


class PlanningError(OrchestrationError, ValueError):
    """The orchestrator cannot turn signals into orders for this configuration (the message
    says which setting is not supported)."""


class RuntimeConfigurationError(OrchestrationError, ValueError):
    """A trading node cannot be assembled from the options given (the message says which)."""
