"""Bots and their agents: what the trading node runs and how to ask it for more."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrade.api.schemas.strategies import StrategyChoice
from orchestrade.domain import Bot, BotState, Market
from orchestrade.domain.bots import thaw
from orchestrade.orchestration.control import AgentInfo, BotRequest

ShareOfCapital = Annotated[
    Decimal,
    Field(ge=0, le=1, description="Fraction of the portfolio's capital (0 switches it off)."),
]


class BotOut(BaseModel):
    """A bot: its strategy spec and parameters, universe, share of capital and state."""

    bot_id: str
    name: str
    strategy_name: str = Field(description="The spec's `name`.")
    strategy: dict[str, Any] = Field(description="The strategy spec document.")
    params: dict[str, Any] = Field(description="Overrides of the spec's parameter defaults.")
    symbols: list[str]
    allocation: Decimal
    state: BotState
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, bot: Bot) -> BotOut:
        name = bot.strategy.get("name")
        return cls(
            bot_id=bot.bot_id,
            name=bot.name,
            strategy_name=name if isinstance(name, str) else "",
            strategy=thaw(bot.strategy),
            params=thaw(bot.params),
            symbols=list(bot.symbols),
            allocation=bot.allocation,
            state=bot.state,
            created_at=bot.created_at,
            updated_at=bot.updated_at or bot.created_at,
        )


class BotIn(BaseModel):
    """A new bot (created paused: start it with POST /bots/{bot_id}/start)."""

    model_config = ConfigDict(extra="forbid")

    strategy: StrategyChoice
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="Default: the strategy's."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the strategy's parameter defaults."
    )
    symbols: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Stored symbols to trade (default: the spec's universe, else every "
        "stored symbol of `market`).",
    )
    market: Market | None = None
    timeframe: str = Field(default="1d", min_length=1, description="Of the stored bars.")
    cash: float = Field(default=10_000_000.0, gt=0, allow_inf_nan=False)
    allocation: ShareOfCapital = Decimal(1)
    mode: Literal["paper", "replay"] = Field(
        default="paper",
        description="paper: one bar slice every `interval_s` seconds of wall time; replay: "
        "the stored bars as fast as `speed` allows.",
    )
    interval_s: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    speed: Annotated[float, Field(gt=0, allow_inf_nan=False)] | Literal["max"] = Field(
        default="max", description='Replay only: "max" or a factor of real time.'
    )

    def to_request(self) -> BotRequest:
        """The control's request for this bot."""
        return BotRequest(
            strategy=self.strategy,
            name=self.name,
            params=self.params,
            symbols=tuple(self.symbols),
            market=None if self.market is None else self.market.value,
            timeframe=self.timeframe,
            cash=self.cash,
            allocation=self.allocation,
            mode=self.mode,
            interval_s=self.interval_s,
            speed=self.speed,
        )


class AllocationIn(BaseModel):
    """A bot's new share of capital."""

    model_config = ConfigDict(extra="forbid")

    allocation: ShareOfCapital


class BotDeletedOut(BaseModel):
    """The bot is forgotten (its orders, fills and audit lines stay on record)."""

    bot_id: str
    deleted: Literal[True] = True


class AgentOut(BaseModel):
    """One agent of one bot's node, as the health monitor sees it."""

    bot_id: str
    name: str
    agent_id: str
    status: str
    last_heartbeat: datetime | None
    restarts: int

    @classmethod
    def of(cls, info: AgentInfo) -> AgentOut:
        return cls(
            bot_id=info.bot_id,
            name=info.name,
            agent_id=info.agent_id,
            status=info.status,
            last_heartbeat=info.last_heartbeat,
            restarts=info.restarts,
        )
