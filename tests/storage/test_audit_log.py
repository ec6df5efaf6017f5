"""AuditLog: one line per fact, filtered and paged; the journal's lines come with its writes."""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from orchestrade.data.errors import QueryError
from orchestrade.domain import (
    AnomalyDetected,
    BarClosed,
    BotId,
    BotState,
    BotStateChanged,
    OrderFilled,
    OrderStatus,
    RiskRejected,
    Severity,
    SignalGenerated,
    Symbol,
)
from orchestrade.domain.market_data import Bar
from orchestrade.storage import AuditEntry, AuditLog, SqlOrderJournal, Store
from orchestrade.storage.audit import event_entry

from .trading import T0, accepted, at, fill_of, limit_buy, signal


@pytest.fixture
def audit(store: Store) -> AuditLog:
    return AuditLog(store)


def test_an_entry_reads_back_unchanged_with_its_payload(audit: AuditLog) -> None:
    entry = AuditEntry(
        at=at(1),
        kind="rule.rejected",
        reason="confidence 0.4 < 0.65",
        bot_id=BotId("b-1"),
        symbol=Symbol("005930"),
        side="buy",
        quantity=Decimal("0.00000001"),
        price=Decimal("71000.123456789012345"),
        payload={"rule": "min_confidence", "values": [0.4, 0.65], "nested": {"ok": False}},
    )

    sequence = audit.append(entry)

    page = audit.query()
    assert [(r.sequence, r.entry) for r in page.records] == [(sequence, entry)]
    assert page.next_cursor is None
    assert str(page.records[0].entry.price) == "71000.123456789012345"


def test_an_entry_prints_as_one_line() -> None:
    entry = AuditEntry(
        at=T0,
        kind="order.submitted",
        reason="routed to paper",
        bot_id=BotId("b-1"),
        symbol=Symbol("005930"),
        side="buy",
        quantity=Decimal(10),
        price=Decimal("71000.5"),
    )

    assert entry.line() == (
        "2024-03-04T00:30:00.123456Z order.submitted bot=b-1 005930 buy 10 @ 71000.5"
        " - routed to paper"
    )


def test_queries_filter_by_time_bot_kind_and_symbol(audit: AuditLog) -> None:
    entries = [
        AuditEntry(at(0), "a", bot_id=BotId("b-1"), symbol=Symbol("X")),
        AuditEntry(at(10), "b", bot_id=BotId("b-2"), symbol=Symbol("Y")),
        AuditEntry(at(20), "a", bot_id=BotId("b-2"), symbol=Symbol("X")),
        AuditEntry(at(30), "a"),
    ]
    for entry in entries:
        audit.append(entry)

    def found(**filters: object) -> list[AuditEntry]:
        return [record.entry for record in audit.query(**filters).records]  # type: ignore[arg-type]

    assert found(start=at(10), end=at(30)) == entries[1:3]
    # bounds in another zone mean the same instants
    seoul = timezone(timedelta(hours=9))
    assert found(start=at(10).astimezone(seoul), end=at(30).astimezone(seoul)) == entries[1:3]
    assert found(bot_id=BotId("b-2")) == entries[1:3]
    assert found(kind="a") == [entries[0], entries[2], entries[3]]
    assert found(symbol=Symbol("X"), kind="a", bot_id=BotId("b-2")) == [entries[2]]
    assert found(newest_first=True, kind="a") == [entries[3], entries[2], entries[0]]


def test_pages_follow_each_other_with_the_cursor(audit: AuditLog) -> None:
    entries = [AuditEntry(at(i), "tick", reason=str(i)) for i in range(7)]
    for entry in entries:
        audit.append(entry)

    pages, cursor = [], None
    while True:
        page = audit.query(limit=3, cursor=cursor)
        pages.append([record.entry.reason for record in page.records])
        cursor = page.next_cursor
        if cursor is None:
            break
    backwards = audit.query(limit=4, newest_first=True)
    rest = audit.query(limit=4, newest_first=True, cursor=backwards.next_cursor)

    assert pages == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert [r.entry.reason for r in backwards.records + rest.records] == list("6543210")
    assert rest.next_cursor is None


def test_bad_queries_are_refused(audit: AuditLog) -> None:
    with pytest.raises(QueryError, match=r"limit must be within 1..1000, got 1001"):
        audit.query(limit=1001)
    with pytest.raises(QueryError, match="end must be timezone-aware"):
        audit.query(end=T0.replace(tzinfo=None))


def test_the_journal_writes_one_line_per_transition_and_fill(store: Store, audit: AuditLog) -> None:
    journal = SqlOrderJournal(store)
    new = limit_buy()
    live = accepted(new)
    fill = fill_of(live, "f-1", "4", "71000")
    journal.record_order(new, at=at(0), reason="sized from signal")
    journal.record_order(live, at=at(1))
    journal.record_fill(fill, live.with_fill(fill), at=at(2))
    journal.record_order(live.with_fill(fill).with_status(OrderStatus.CANCELLED), at=at(3))

    lines = [record.entry.line() for record in audit.query().records]

    assert lines == [
        "2024-03-04T00:30:00.123456Z order.new bot=b-1 005930 buy 10 @ 71000.5 - sized from signal",
        "2024-03-04T00:30:01.123456Z order.accepted bot=b-1 005930 buy 10 @ 71000.5",
        "2024-03-04T00:30:02.123456Z fill bot=b-1 005930 buy 4 @ 71000"
        " - fill f-1 of order o-1: 4/10 filled, partially_filled",
        "2024-03-04T00:30:03.123456Z order.cancelled bot=b-1 005930 buy 10 @ 71000.5",
    ]
    payload = audit.query(kind="fill").records[0].entry.payload
    assert payload["fill"]["price"] == "71000"
    assert payload["order"]["status"] == "partially_filled"


def test_events_become_lines_with_their_order_fill_or_signal_fields(audit: AuditLog) -> None:
    order = accepted(limit_buy())
    fill = fill_of(order, "f-1", "4", "70999")
    rejected = RiskRejected(order, "max_notional", "notional 710005 > limit 500000")
    anomaly = AnomalyDetected(
        T0, "zscore", Severity.HIGH, "005930", 5.2, 4.0, "price jump", BotId("b-1")
    )
    stopped = BotStateChanged(BotId("b-1"), T0, BotState.RUNNING, BotState.STOPPED, "anomaly")

    audit.append_event(rejected, at=at(1))
    audit.append_event(OrderFilled(order.with_fill(fill), fill), at=at(2))
    audit.append_event(SignalGenerated(signal()), at=at(3))
    audit.append_event(anomaly, at=at(4))
    audit.append_event(stopped, at=at(5), reason="stopped by rule high_anomaly")

    entries = [record.entry for record in audit.query().records]
    assert [e.kind for e in entries] == [
        "RiskRejected",
        "OrderFilled",
        "SignalGenerated",
        "AnomalyDetected",
        "BotStateChanged",
    ]
    assert entries[0].reason == "max_notional: notional 710005 > limit 500000"
    assert (entries[1].quantity, entries[1].price) == (Decimal(4), Decimal(70999))
    assert entries[2].reason == "sma 5 crossed above sma 20; volume above average"
    assert (entries[2].side, entries[2].price) == ("buy", Decimal("71000.5"))
    assert (entries[3].bot_id, entries[3].reason) == ("b-1", "price jump")
    assert entries[4].reason == "stopped by rule high_anomaly"
    assert entries[0].payload["order"]["limit_price"] == "71000.5"
    assert entries[4].payload["state"] == "stopped"


def test_an_event_without_an_order_still_gets_a_line() -> None:
    bar = Bar(
        symbol=Symbol("005930"),
        timeframe="1d",
        start=T0,
        open=Decimal(1),
        high=Decimal(2),
        low=Decimal(1),
        close=Decimal(2),
        volume=Decimal(10),
    )

    entry = event_entry(BarClosed(bar), at=T0)

    assert (entry.kind, entry.bot_id, entry.reason) == ("BarClosed", None, "")
    assert entry.payload["bar"]["close"] == "2"
