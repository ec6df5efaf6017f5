"""Pure domain types: instruments, market data, signals, orders, fills, events (stdlib only)."""

from orchestrade.domain.markets import Market

__all__ = ["Market"]
