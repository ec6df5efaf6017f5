"""TradingControl: what people and programs (the API, the dashboard, the CLI) may ask of the
bots running in this process, and the values they get back.

`orchestrade serve` runs a `BotSupervisor` (orchestration/supervisor.py) that implements this
protocol; the API's routes talk to the protocol only, so they are tested against a fake and
never reach into agents. Every method that changes something is safe to call from the API's
event loop; every failure a user can cause raises `ControlError` (or a subclass) with a
message that names what is wrong, which the API turns into a 4xx JSON error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

import msgspec

from orchestrade.bus import JsonCodec
from orchestrade.domain import Bot, BotId, Message, Order, OrderId
from orchestrade.orchestration.errors import OrchestrationError

BotMode = Literal["paper", "replay"]

_payload_codec = JsonCodec()
_frame_encoder = msgspec.json.Encoder()


class ControlError(OrchestrationError):
    """A request to the running system cannot be carried out (bad input or state)."""


class UnknownBotError(ControlError):
    """No bot with that id (the API answers 404)."""


class ControlConflictError(ControlError):
    """The request conflicts with the current state, e.g. deleting a running bot (409)."""


@dataclass(frozen=True, slots=True)
class BotRequest:
    """A new bot: a strategy (a built-in name or a spec document) over stored bars.

    Attributes:
        strategy: a built-in strategy name (``sma_cross``) or a strategy spec document.
        name: a display name (default: the strategy's name).
        params: overrides of the strategy's parameter defaults.
        symbols: the stored symbols it trades (default: the spec's universe, or every
            stored symbol of `market`).
        market: restricts the default universe to one market (krx, us, crypto).
        timeframe: the stored bars' timeframe.
        cash: the bot's starting capital.
        allocation: its share of the portfolio in [0, 1].
        mode: ``paper`` (one bar slice every `interval_s` seconds of wall time) or
            ``replay`` (stored bars as fast as `speed` allows).
        interval_s: paper only.
        speed: replay only: "max" or a factor of real time.
    """

    strategy: str | Mapping[str, Any]
    name: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    symbols: tuple[str, ...] = ()
    market: str | None = None
    timeframe: str = "1d"
    cash: float = 10_000_000.0
    allocation: Decimal = Decimal(1)
    mode: BotMode = "paper"
    interval_s: float = 1.0
    speed: float | str = "max"


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """One agent of one bot's node, as the health monitor sees it."""

    bot_id: BotId
    name: str
    agent_id: str
    status: str
    last_heartbeat: datetime | None
    restarts: int


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule of the rule engine, as loaded or added."""

    name: str
    description: str
    priority: int
    event: str
    action: str
    enabled: bool
    when: Mapping[str, Any]
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One bus event for the live stream, numbered for resumption.

    `event_id` increases by one per event across every bot of the process; a client that
    reconnects asks for the events after the last id it saw."""

    event_id: int
    at: datetime
    bot_id: BotId | None
    type_name: str
    payload: Message
    _json: str | None = field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> str:
        """The event as one JSON object, ``{"id", "at", "bot_id", "type", "data"}``, with
        ``data`` the payload as the bus's JSON codec encodes it (Decimals as text, times as
        RFC 3339 UTC): the frame the live stream sends (api/routers/stream.py).

        Encoded at the first call and kept, since every client of the stream sends the same
        text (the event itself stays as it was: the text is left out of equality)."""
        text = self._json
        if text is None:
            frame = {
                "id": self.event_id,
                "at": self.at,
                "bot_id": self.bot_id,
                "type": self.type_name,
                "data": msgspec.Raw(_payload_codec.encode_message(self.payload)),
            }
            text = _frame_encoder.encode(frame).decode()
            object.__setattr__(self, "_json", text)  # frozen: a cache, set once
        return text


class TradingControl(Protocol):
    """The running bots of this process (see the module docstring)."""

    # -- bots ------------------------------------------------------------------------------

    def bots(self) -> Sequence[Bot]:
        """Every known bot (stored ones included), oldest first."""
        ...

    def bot(self, bot_id: BotId) -> Bot:
        """One bot. Raises UnknownBotError."""
        ...

    async def create_bot(self, request: BotRequest) -> Bot:
        """Check `request`, store the bot (state paused) and return it. Raises ControlError
        naming the bad field (unknown strategy or symbol, bad parameter, ...)."""
        ...

    async def start_bot(self, bot_id: BotId) -> Bot:
        """Run the bot (a paused one resumes; a stopped one starts again)."""
        ...

    async def pause_bot(self, bot_id: BotId) -> Bot:
        """Stop taking new decisions; open orders and positions stay."""
        ...

    async def stop_bot(self, bot_id: BotId) -> Bot:
        """Stop the bot's node cleanly (after the slice in progress)."""
        ...

    async def delete_bot(self, bot_id: BotId) -> None:
        """Forget a stopped or paused bot. Raises ControlConflictError while it runs."""
        ...

    async def set_allocation(self, bot_id: BotId, allocation: Decimal) -> Bot:
        """Change the bot's share of capital in [0, 1]."""
        ...

    # -- orders ----------------------------------------------------------------------------

    async def cancel_order(self, order_id: OrderId) -> Order:
        """Ask the OMS of the order's bot to cancel an open order; returns the order as the
        OMS holds it afterwards (cancel_requested or cancelled; a fill may have won).
        Raises ControlConflictError when the order is finished already or no running bot
        holds it (the API checks first that the order is recorded at all)."""
        ...

    # -- agents ----------------------------------------------------------------------------

    def agents(self) -> Sequence[AgentInfo]:
        """Every agent of every running bot."""
        ...

    async def restart_agent(self, bot_id: BotId, name: str) -> AgentInfo:
        """Restart one agent of a running bot. Raises UnknownBotError or ControlError."""
        ...

    # -- rules and risk --------------------------------------------------------------------

    def rules(self) -> Sequence[RuleInfo]:
        """The rules in force, by priority."""
        ...

    async def add_rule(self, document: Mapping[str, Any]) -> RuleInfo:
        """Add one rule written as in the rule files. Raises ControlError (field named)."""
        ...

    async def set_rule_enabled(self, name: str, enabled: bool) -> RuleInfo:
        """Enable or disable a rule by name."""
        ...

    def risk_limits(self) -> Mapping[str, Any]:
        """The risk limits in force (the RiskSettings fields)."""
        ...

    async def update_risk_limits(self, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        """Put changed limits in force for every bot at once; returns all of them."""
        ...

    # -- the live stream -------------------------------------------------------------------

    def events_after(self, event_id: int, *, limit: int = 1000) -> Sequence[StreamEvent]:
        """The buffered events after `event_id`, oldest first (the buffer keeps the last
        few thousand; older ones are gone and a client starts from the oldest kept)."""
        ...

    async def wait_for_event(self, after_id: int, timeout_s: float) -> bool:
        """Wait until an event after `after_id` exists (True) or `timeout_s` passes."""
        ...
