"""SqlOrderJournal.list_orders: recorded orders newest first, filtered for the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrade.data.errors import QueryError
from orchestrade.domain import BotId, OrderStatus, Symbol
from orchestrade.storage import SqlOrderJournal, Store

from .trading import at, limit_buy


@pytest.fixture
def journal(store: Store) -> SqlOrderJournal:
    return SqlOrderJournal(store)


def test_orders_list_newest_first_with_each_filter(journal: SqlOrderJournal) -> None:
    first = limit_buy("o-1", created_at=at(0))
    second = limit_buy("o-2", created_at=at(60), symbol=Symbol("000660"))
    third = limit_buy("o-3", created_at=at(120), bot_id=BotId("b-2"))
    fourth = limit_buy("o-4", created_at=at(180), bot_id=None).with_status(OrderStatus.SUBMITTED)
    for order in (third, first, fourth, second):
        journal.record_order(order, at=order.created_at)

    assert journal.list_orders() == [fourth, third, second, first]
    assert journal.list_orders(limit=2) == [fourth, third]
    assert journal.list_orders(bot_id=BotId("b-1")) == [second, first]
    assert journal.list_orders(symbol=Symbol("000660")) == [second]
    assert journal.list_orders(status=OrderStatus.SUBMITTED) == [fourth]
    assert journal.list_orders(since=at(60)) == [fourth, third, second]
    assert journal.list_orders(since=at(61), bot_id=BotId("b-1")) == []


def test_bad_limits_and_naive_bounds_are_refused(journal: SqlOrderJournal) -> None:
    with pytest.raises(QueryError, match=r"order limit must be within 1\.\.1000, got 0"):
        journal.list_orders(limit=0)
    with pytest.raises(QueryError, match="since must be timezone-aware"):
        journal.list_orders(since=datetime(2024, 1, 1))  # noqa: DTZ001 - the point of the test
    assert journal.list_orders(since=datetime(2030, 1, 1, tzinfo=UTC)) == []
