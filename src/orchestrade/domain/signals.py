"""A strategy's opinion about one symbol at one instant, with the reasons behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from orchestrade.domain.errors import ValidationError
from orchestrade.domain.ids import BotId, StrategyId, Symbol
from orchestrade.domain.validation import (
    assign,
    optional_positive,
    optional_text,
    require_enum,
    require_float,
    require_text,
    require_texts,
    require_utc,
)


class SignalSide(StrEnum):
    """Go long, go short, or hold nothing."""

    BUY = "buy"
    SELL = "sell"
    FLAT = "flat"


@dataclass(frozen=True, slots=True)
class Signal:
    """What a strategy wants, before any rule, risk check or sizing has looked at it.

    `confidence` is in [0, 1]; `reference_price` is the price the strategy saw when it
    decided (usually the close of the bar that triggered it).
    """

    time: datetime
    symbol: Symbol
    side: SignalSide
    confidence: float
    strategy_id: StrategyId
    bot_id: BotId | None = None
    reasons: tuple[str, ...] = ()
    reference_price: Decimal | None = None

    def __post_init__(self) -> None:
        assign(self, "time", require_utc("Signal.time", self.time))
        require_text("Signal.symbol", self.symbol)
        assign(self, "side", require_enum("Signal.side", SignalSide, self.side))
        confidence = require_float("Signal.confidence", self.confidence)
        if not 0 <= confidence <= 1:
            raise ValidationError(f"Signal.confidence must be within [0, 1], got {confidence}")
        assign(self, "confidence", confidence)
        require_text("Signal.strategy_id", self.strategy_id)
        optional_text("Signal.bot_id", self.bot_id)
        assign(self, "reasons", require_texts("Signal.reasons", self.reasons))
        assign(
            self,
            "reference_price",
            optional_positive("Signal.reference_price", self.reference_price),
        )
