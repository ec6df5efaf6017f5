"""The paper account's books in memory: its orders, fills, cash, positions and markets.

`PaperBook` is the state the matching rules change and the state file persists; every
change goes through `put`, `add_fill` or `set_market`, which also note it in the call's
`Changes`, so what is written is exactly what changed.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from orchestrade.brokers.paper.store import Changes, MarketRecord, OrderRecord, StoredState
from orchestrade.domain import Account, Fill, OrderId, Symbol


class PaperBook:
    """Orders by client order id (with the open ones per symbol, in arrival order), fills in
    execution order, the account they add up to, and each symbol's market state."""

    def __init__(self, state: StoredState) -> None:
        self.records: dict[OrderId, OrderRecord] = {}
        self.resting: dict[Symbol, list[OrderId]] = {}
        self.fills: list[Fill] = []
        self.account = Account(state.currency or "KRW", state.initial_cash or Decimal(0))
        self.markets: dict[Symbol, MarketRecord] = {}
        self.dirty: set[Symbol] = set()
        """Symbols whose market state changed since the last write."""
        self._fill_counts: dict[OrderId, int] = {}
        self._next_sequence = 1
        self._restore(state)

    def next_sequence(self) -> int:
        """The arrival rank of the next new order."""
        sequence = self._next_sequence
        self._next_sequence += 1
        return sequence

    def next_fill_id(self, order_id: OrderId) -> str:
        """The id of the order's next fill: "<order id>-<n>", n counting from 1, so that a
        fill reported again is recognised."""
        return f"{order_id}-{self._fill_counts.get(order_id, 0) + 1}"

    def resting_orders(self, symbol: Symbol) -> list[OrderRecord]:
        """The symbol's open orders in arrival order (a snapshot)."""
        return [self.records[order_id] for order_id in self.resting.get(symbol, ())]

    def held(self, symbol: Symbol) -> Decimal:
        """Quantity held of `symbol`."""
        return self.account.position(symbol).quantity

    def put(self, record: OrderRecord, changes: Changes) -> None:
        """Store the new state of an order."""
        order = record.order
        self.records[order.order_id] = record
        changes.orders[order.order_id] = record
        resting = self.resting.setdefault(order.symbol, [])
        if order.is_terminal:
            if order.order_id in resting:
                resting.remove(order.order_id)
        elif order.order_id not in resting:
            resting.append(order.order_id)

    def add_fill(self, fill: Fill, record: OrderRecord, changes: Changes) -> OrderRecord:
        """Book `fill` of `record`'s order: the order, the fills and the account move."""
        filled = dataclasses.replace(record, order=record.order.with_fill(fill))
        self._fill_counts[fill.order_id] = self._fill_counts.get(fill.order_id, 0) + 1
        self.fills.append(fill)
        self.account = self.account.apply(fill)
        changes.fills.append(fill)
        self.put(filled, changes)
        return filled

    def set_market(self, symbol: Symbol, market: MarketRecord) -> None:
        """The symbol's market moved (written with the next commit)."""
        self.markets[symbol] = market
        self.dirty.add(symbol)

    def _restore(self, state: StoredState) -> None:
        for record in state.orders:
            self.records[record.order.order_id] = record
            if not record.order.is_terminal:
                self.resting.setdefault(record.order.symbol, []).append(record.order.order_id)
        self._next_sequence = max((r.sequence for r in state.orders), default=0) + 1
        for fill in state.fills:
            self.fills.append(fill)
            self.account = self.account.apply(fill)
            self._fill_counts[fill.order_id] = self._fill_counts.get(fill.order_id, 0) + 1
        self.markets = dict(state.markets)
