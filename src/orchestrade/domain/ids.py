"""Identifiers as distinct types, so an order id can never be passed where a bot id is due."""

from __future__ import annotations

import itertools
import os
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


class _MessageIds:
    """Message ids: this process's random 64-bit prefix and a counter, 32 hex characters.

    Unique across processes like a uuid4 (the prefixes are random; a forked child draws its
    own) at a fraction of its cost: a bus wraps several messages per market-data slice, and
    uuid4 reads the OS's random source every time. Message ids are not secrets.
    """

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def __call__(self) -> MessageId:
        return MessageId(f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}")


new_message_id = _MessageIds()
"""A fresh message id (32 hex characters; see `_MessageIds`)."""


def new_order_id() -> OrderId:
    """A fresh random client order id (uuid4, 32 hex characters)."""
    return OrderId(uuid.uuid4().hex)
