"""The message bus: the `Bus` protocol, the in-process bus, codecs and errors.

The Redis Streams bus lives in `orchestrade.bus.redis_streams` (it imports the `redis`
client, which a one-process system does not need to load).
"""

from orchestrade.bus.codec import Codec, JsonCodec, MsgpackCodec
from orchestrade.bus.errors import (
    BusError,
    BusNotRunningError,
    MessageDecodeError,
    MessageEncodeError,
    QueueFullError,
    RequestTimeoutError,
    SubscriptionError,
    UnknownMessageTypeError,
)
from orchestrade.bus.memory import InMemoryBus
from orchestrade.bus.protocol import (
    DEFAULT_MAXSIZE,
    Bus,
    DeliveryStats,
    Handler,
    Overflow,
    Subscription,
    Target,
)

__all__ = [
    "DEFAULT_MAXSIZE",
    "Bus",
    "BusError",
    "BusNotRunningError",
    "Codec",
    "DeliveryStats",
    "Handler",
    "InMemoryBus",
    "JsonCodec",
    "MessageDecodeError",
    "MessageEncodeError",
    "MsgpackCodec",
    "Overflow",
    "QueueFullError",
    "RequestTimeoutError",
    "Subscription",
    "SubscriptionError",
    "Target",
    "UnknownMessageTypeError",
]
