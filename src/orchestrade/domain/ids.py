"""Identifiers as distinct types, so an order id can never be passed where a bot id is due."""

from __future__ import annotations

import uuid
from typing import NewType

Symbol = NewType("Symbol", str)
"""Ticker as the venue spells it: "005930", "AAPL", "BTCUSDT"."""

OrderId = NewType("OrderId", str)
"""Client order id: chosen by us before submission, the idempotency key at every broker."""

BrokerOrderId = NewType("BrokerOrderId", str)
"""The id a broker assigns once it has the order."""

BotId = NewType("BotId", str)
StrategyId = NewType("StrategyId", str)
FillId = NewType("FillId", str)
AgentId = NewType("AgentId", str)
CorrelationId = NewType("CorrelationId", str)
"""Shared by every message of one conversation (request, replies, follow-ups)."""

MessageId = NewType("MessageId", str)


def new_message_id() -> MessageId:
    """A fresh random message id (uuid4, 32 hex characters)."""
    return MessageId(uuid.uuid4().hex)


def new_order_id() -> OrderId:
    """A fresh random client order id (uuid4, 32 hex characters)."""
    return OrderId(uuid.uuid4().hex)
