"""The rule engine's rules and the risk limits in force, read and changed live."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrade.domain.bots import thaw
from orchestrade.orchestration.control import RuleInfo
from orchestrade.settings import RiskSettings

RULE_NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class RuleOut(BaseModel):
    """One rule: when `event` matches `when`, do `action` (larger `priority` first)."""

    name: str
    description: str
    priority: int
    event: str
    action: str
    enabled: bool
    when: dict[str, Any] = Field(description="The condition ({} matches every event).")
    params: dict[str, Any]

    @classmethod
    def of(cls, info: RuleInfo) -> RuleOut:
        return cls(
            name=info.name,
            description=info.description,
            priority=info.priority,
            event=info.event,
            action=info.action,
            enabled=info.enabled,
            when=thaw(info.when) if info.when else {},
            params=thaw(info.params) if info.params else {},
        )


class RuleIn(BaseModel):
    """A new rule, written as in the rule files (see the default rules for examples)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=RULE_NAME_PATTERN)
    description: str = ""
    priority: int = Field(default=0, description="Larger is tried first.")
    event: str = Field(min_length=1, examples=["SignalGenerated"])
    when: dict[str, Any] | None = Field(
        default=None,
        description="A condition such as {field: signal.confidence, lt: 0.7} or {all: [...]}.",
    )
    action: str = Field(
        min_length=1,
        description="approve, reject, require_confirmation, stop_bot, stop_all_bots or notify.",
    )
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True

    def to_document(self) -> dict[str, Any]:
        """The rule as a rule file's entry (fields left out keep the files' defaults)."""
        return self.model_dump(exclude_unset=True)


class RuleEnabledIn(BaseModel):
    """Switch a rule on or off."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool


class RiskLimitsOut(RiskSettings):
    """The risk limits in force for every bot (fractions of equity; null: limit off)."""


class RiskLimitsPatch(BaseModel):
    """Limits to change, put in force for every bot at once; omitted ones stay, null
    switches one off. The same fields and bounds as `RiskLimitsOut`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="false switches every limit off.")
    max_position_pct: float | None = Field(default=None, gt=0)
    max_open_positions: int | None = Field(default=None, ge=1)
    max_daily_loss_pct: float | None = Field(default=None, gt=0, le=1)
    max_price_deviation_pct: float | None = Field(default=None, gt=0)
    max_order_notional: float | None = Field(default=None, gt=0)

    def changes(self) -> dict[str, Any]:
        """The fields the request gave, with their values (null included)."""
        return self.model_dump(exclude_unset=True)
