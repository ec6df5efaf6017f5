"""Wiring: the orchestrator, the rule engine, the health monitor and the trading runtime.

The rule engine (`RuleEngine`, rules from YAML with `load_rules` / `default_rules`) applies
the desk's policy to events; the `HealthMonitor` restarts failed agents with backoff.
"""

from orchestrade.orchestration.conditions import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Not,
    Operator,
    Parameter,
)
from orchestrade.orchestration.errors import (
    HealthConfigurationError,
    OrchestrationError,
    PlanningError,
    RuleError,
    RuleFileError,
)
from orchestrade.orchestration.health import AgentHealth, HealthMonitor, HealthPolicy, Supervised
from orchestrade.orchestration.rule_files import default_rules, load_rules, parse_rules
from orchestrade.orchestration.rules import (
    PARAMETER_NAMES,
    Action,
    Rule,
    RuleEngine,
    RuleMatch,
    RuleOutcome,
    StopScope,
    rule_parameters,
)

__all__ = [
    "PARAMETER_NAMES",
    "Action",
    "AgentHealth",
    "AllOf",
    "AnyOf",
    "Comparison",
    "Condition",
    "HealthConfigurationError",
    "HealthMonitor",
    "HealthPolicy",
    "Not",
    "Operator",
    "OrchestrationError",
    "Parameter",
    "PlanningError",
    "Rule",
    "RuleEngine",
    "RuleError",
    "RuleFileError",
    "RuleMatch",
    "RuleOutcome",
    "StopScope",
    "Supervised",
    "default_rules",
    "load_rules",
    "parse_rules",
    "rule_parameters",
]
