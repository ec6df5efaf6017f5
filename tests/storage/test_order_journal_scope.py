"""SqlOrderJournal scoped to some bots: the OMS of one broker account sees its own orders and
fills only, when other accounts' bots share the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from orchestrade.domain import BotId, OrderStatus
from orchestrade.storage import SqlOrderJournal, Store

from .trading import T0, accepted, fill_of, limit_buy


def test_a_scoped_journal_lists_only_its_bots_open_orders_and_fills(store: Store) -> None:
    everything = SqlOrderJournal(store)
    mine, theirs, done = (
        accepted(limit_buy("a-1", bot_id=BotId("a"))),
        accepted(limit_buy("b-1", bot_id=BotId("b"))),
        accepted(limit_buy("a-2", bot_id=BotId("a"))),
    )
    everything.record_orders([mine, theirs, done], at=T0)
    for order, fill_id in ((mine, "fa-1"), (theirs, "fb-1")):
        fill = fill_of(order, fill_id, "4", "71000")
        everything.record_fill(fill, order.with_fill(fill), at=T0)
    full = fill_of(done, "fa-2", "10", "71000")
    everything.record_fill(full, done.with_fill(full), at=T0)

    scoped = SqlOrderJournal(store, bot_ids=[BotId("a")])
    both = SqlOrderJournal(store, bot_ids=[BotId("a"), BotId("b")])

    assert [order.order_id for order in scoped.open_orders()] == ["a-1"]
    assert [fill.fill_id for fill in scoped.fills()] == ["fa-1", "fa-2"]
    assert [fill.fill_id for fill in scoped.fills(mine.order_id)] == ["fa-1"]
    assert scoped.fills(theirs.order_id) == []
    assert [order.order_id for order in both.open_orders()] == ["a-1", "b-1"]
    assert [fill.fill_id for fill in everything.fills()] == ["fa-1", "fb-1", "fa-2"]
    assert scoped.get_order(theirs.order_id) is not None  # by id: ids are unique anyway
    assert scoped.get_order(done.order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
