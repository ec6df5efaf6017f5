"""PortfolioAgent: fills booked into the bot's accounts, equity after each close, and the
round-trip trades with their P&L after fees and taxes (numbers worked out by hand)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from agents.support import Recorder
from fakes import DAY0, buy, daily_bar, sell
from orchestrade.agents.portfolio import EquityCurve, PortfolioAgent, Trade
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    Bar,
    BarsClosed,
    BarsOpened,
    BotId,
    Fill,
    FillId,
    Message,
    OrderFilled,
    Position,
    PositionChanged,
    Side,
    Symbol,
)
from orchestrade.portfolio import Ledger
from orchestrade.portfolio.snapshots import PortfolioSnapshot

pytestmark = pytest.mark.anyio

D = Decimal
BOT = BotId("bot-1")
SAMSUNG = Symbol("005930")
HYNIX = Symbol("000660")
DAY1 = DAY0 + timedelta(days=1)
DAY2 = DAY0 + timedelta(days=2)
DAY3 = DAY0 + timedelta(days=3)
ACCOUNT = "bot-1/005930"
_count = iter(range(1, 1_000_000))


def filled(
    side: Side,
    quantity: int,
    price: str | int,
    *,
    fee: str | int = 0,
    tax: str | int = 0,
    symbol: Symbol = SAMSUNG,
    bot: str | None = "bot-1",
) -> OrderFilled:
    number = next(_count)
    order = (buy if side is Side.BUY else sell)(f"o{number}", quantity, symbol=symbol, bot=bot)
    fill = Fill(
        FillId(f"o{number}-1"),
        order.order_id,
        symbol,
        side,
        D(quantity),
        D(price),
        # the broker's clock: later than the bar's start, which the trades report
        DAY0 + timedelta(days=30),
        fee=D(fee),
        tax=D(tax),
    )
    return OrderFilled(order, fill)


async def start_portfolio(bus: InMemoryBus, ledger: Ledger) -> AsyncIterator[PortfolioAgent]:
    agent = PortfolioAgent(bus, ledger, heartbeat_interval_s=3600)
    await agent.start()
    try:
        yield agent
    finally:
        await agent.stop()


@pytest.fixture
async def portfolio(bus: InMemoryBus) -> AsyncIterator[PortfolioAgent]:
    ledger = Ledger(mode="isolated", track_days=False)
    ledger.open_account(ACCOUNT, D(1_000_000), [SAMSUNG])
    ledger.open_account("bot-1/000660", D(1_000_000), [HYNIX])
    async for agent in start_portfolio(bus, ledger):
        yield agent


@pytest.fixture
async def positions(bus: InMemoryBus) -> Recorder:
    recorder = Recorder()
    await bus.subscribe(PositionChanged, recorder)
    return recorder


async def send(bus: InMemoryBus, *messages: Message) -> None:
    for message in messages:
        await bus.publish(message)
        await bus.wait_idle()


async def trade_day(bus: InMemoryBus, bars: tuple[Bar, ...], *fills: OrderFilled) -> None:
    start = bars[0].start
    await send(bus, BarsOpened(start, bars), *fills, BarsClosed(start, bars))


async def test_a_round_trip_is_one_trade_with_its_pnl_after_fees_and_taxes(
    bus: InMemoryBus, portfolio: PortfolioAgent, positions: Recorder
) -> None:
    await trade_day(
        bus, (daily_bar(1, 10_000, close=10_100),), filled(Side.BUY, 10, 10_010, fee=10)
    )
    await trade_day(
        bus,
        (daily_bar(2, 10_200, close=10_300),),
        filled(Side.SELL, 10, 10_200, fee="10.2", tax="20.4"),
    )

    # pnl = 102,000 - 100,100 - (10 + 10.2 + 20.4) = 1,859.4
    assert portfolio.trades == [
        Trade(
            account_id=ACCOUNT,
            symbol=SAMSUNG,
            entry_time=DAY1,
            entry_price=D(10_010),
            exit_time=DAY2,
            exit_price=D(10_200),
            quantity=D(10),
            pnl=D("1859.4"),
            fees=D("40.6"),
        )
    ]
    # day 1: cash 1,000,000 - 100,110 = 899,890, + 10 x 10,100 = 1,000,890
    # day 2: 899,890 + 102,000 - 30.6 = 1,001,859.4 (flat)
    assert portfolio.curves[ACCOUNT] == EquityCurve([DAY1, DAY2], [D(1_000_890), D("1001859.4")])
    assert portfolio.curves[ACCOUNT].values[-1] - D(1_000_000) == portfolio.trades[0].pnl
    changes = [event.position.quantity for event in positions.payloads]  # type: ignore[union-attr]
    assert changes == [D(10), D(0)]
    assert {event.bot_id for event in positions.payloads} == {BOT}  # type: ignore[union-attr]
    assert [account for account, _ in portfolio.fills] == [ACCOUNT, ACCOUNT]
    assert portfolio.open_trades() == {}


async def test_an_exit_in_several_fills_is_one_trade_at_the_average_exit_price(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    await trade_day(bus, (daily_bar(1, 100),), filled(Side.BUY, 10, 100))
    await trade_day(bus, (daily_bar(2, 110),), filled(Side.SELL, 4, 110))
    assert portfolio.trades == []
    await trade_day(bus, (daily_bar(3, 120),), filled(Side.SELL, 6, 120))

    (trade,) = portfolio.trades
    # (4 x 110 + 6 x 120) / 10 = 116; pnl 1,160 - 1,000 = 160
    assert (trade.exit_time, trade.exit_price, trade.quantity, trade.pnl) == (
        DAY3,
        D(116),
        D(10),
        D(160),
    )


async def test_an_entry_in_several_fills_is_one_trade_at_the_average_entry_price(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    await trade_day(
        bus, (daily_bar(1, 100),), filled(Side.BUY, 6, 100), filled(Side.BUY, 4, 105, fee=1)
    )
    await trade_day(bus, (daily_bar(2, 110),), filled(Side.SELL, 10, 110))

    (trade,) = portfolio.trades
    # (6 x 100 + 4 x 105) / 10 = 102; pnl 1,100 - 1,020 - 1 = 79
    assert (trade.entry_time, trade.entry_price, trade.quantity, trade.pnl, trade.fees) == (
        DAY1,
        D(102),
        D(10),
        D(79),
        D(1),
    )


async def test_a_position_still_open_is_an_open_trade(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    await trade_day(bus, (daily_bar(1, 100),), filled(Side.BUY, 10, 100, fee=3))
    await trade_day(bus, (daily_bar(2, 110),), filled(Side.SELL, 4, 110))

    (key, open_trade), *_ = portfolio.open_trades().items()
    assert key == (ACCOUNT, SAMSUNG)
    assert (open_trade.quantity, open_trade.exit_quantity, open_trade.entry_price) == (
        D(10),
        D(4),
        D(100),
    )
    assert (open_trade.entry_value, open_trade.exit_value, open_trade.costs) == (
        D(1_000),
        D(440),
        D(3),
    )
    assert portfolio.trades == []


async def test_each_symbol_of_a_portfolio_account_has_its_own_round_trips(
    bus: InMemoryBus,
) -> None:
    ledger = Ledger(mode="portfolio", track_days=False)
    ledger.open_account("bot-1", D(100_000), [SAMSUNG, HYNIX])
    async for agent in start_portfolio(bus, ledger):
        day_1 = (daily_bar(1, 100), daily_bar(1, 50, symbol="000660"))
        await trade_day(bus, day_1, filled(Side.BUY, 10, 100))
        day_2 = (daily_bar(2, 110), daily_bar(2, 60, symbol="000660"))
        await trade_day(bus, day_2, filled(Side.BUY, 20, 60, symbol=HYNIX))
        day_3 = (daily_bar(3, 120), daily_bar(3, 55, symbol="000660"))
        await trade_day(
            bus, day_3, filled(Side.SELL, 10, 120), filled(Side.SELL, 20, 55, symbol=HYNIX)
        )

        assert [
            (t.account_id, t.symbol, t.entry_time, t.quantity, t.pnl) for t in agent.trades
        ] == [
            ("bot-1", SAMSUNG, DAY1, D(10), D(200)),  # 1,200 - 1,000
            ("bot-1", HYNIX, DAY2, D(20), D(-100)),  # 1,100 - 1,200
        ]
        # day 2: 97,800 cash + 10 x 110 + 20 x 60; day 3: 97,800 + 1,200 + 1,100, flat
        assert agent.curves["bot-1"].values == [D(100_000), D(100_100), D(100_100)]


async def test_equity_is_recorded_only_for_the_accounts_of_the_closed_symbols(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    await trade_day(bus, (daily_bar(1, 100),))
    await trade_day(bus, (daily_bar(2, 50, symbol="000660"),))

    assert portfolio.curves[ACCOUNT].times == [DAY1]
    assert portfolio.curves["bot-1/000660"].times == [DAY2]


async def test_every_account_starts_with_an_empty_curve(portfolio: PortfolioAgent) -> None:
    assert portfolio.curves == {ACCOUNT: EquityCurve(), "bot-1/000660": EquityCurve()}


async def test_a_sale_without_a_recorded_entry_makes_no_trade(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    portfolio.ledger.apply_fill(ACCOUNT, filled(Side.BUY, 10, 100).fill)  # booked elsewhere

    await trade_day(bus, (daily_bar(2, 110),), filled(Side.SELL, 10, 110))

    assert portfolio.trades == []
    assert portfolio.ledger.quantity(ACCOUNT, SAMSUNG) == 0


async def test_a_fill_of_an_order_without_a_bot_is_not_booked(
    bus: InMemoryBus, portfolio: PortfolioAgent, positions: Recorder
) -> None:
    await trade_day(bus, (daily_bar(1, 100),), filled(Side.BUY, 10, 100, bot=None))

    assert portfolio.fills == []
    assert positions.payloads == []
    assert portfolio.ledger.quantity(ACCOUNT, SAMSUNG) == 0


async def test_cash_plus_positions_is_the_recorded_equity_after_every_close(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    plan = [
        (daily_bar(1, 100, close=101), [filled(Side.BUY, 7, 100, fee="0.7")]),
        (daily_bar(2, 103, close=99), [filled(Side.SELL, 3, 103, fee="0.31", tax="0.62")]),
        (daily_bar(3, 98, close=97), [filled(Side.BUY, 5, 98, fee="0.49")]),
    ]
    for bar, fills in plan:
        await trade_day(bus, (bar,), *fills)
        account = portfolio.ledger.account(ACCOUNT).account
        held = account.position(SAMSUNG).quantity

        assert portfolio.curves[ACCOUNT].values[-1] == account.cash + held * bar.close

    flows = sum((fill.net_cash_flow for _, fill in portfolio.fills), D(0))
    assert portfolio.ledger.account(ACCOUNT).cash == D(1_000_000) + flows
    assert portfolio.ledger.quantity(ACCOUNT, SAMSUNG) == 9  # 7 - 3 + 5


class SnapshotRecorder:
    """A `SnapshotJournal` that keeps what it is given."""

    def __init__(self) -> None:
        self.snapshots: list[PortfolioSnapshot] = []
        self.positions: list[tuple[BotId | None, datetime, tuple[Position, ...]]] = []

    def record_snapshots(self, snapshots: Sequence[PortfolioSnapshot]) -> None:
        self.snapshots.extend(snapshots)

    def save_positions(
        self, positions: Iterable[Position], *, at: datetime, bot_id: BotId | None = None
    ) -> None:
        self.positions.append((bot_id, at, tuple(positions)))


async def test_each_bot_gets_a_snapshot_of_its_accounts_after_every_close(
    bus: InMemoryBus,
) -> None:
    ledger = Ledger(mode="isolated", track_days=False)
    for bot, cash in (("bot-1", 1_000), ("bot-2", 500)):
        for symbol in (SAMSUNG, HYNIX):
            ledger.open_account(ledger.account_id(bot, symbol), D(cash), [symbol])
    journal = SnapshotRecorder()
    agent = PortfolioAgent(bus, ledger, journal=journal, flush_interval_s=0.0)
    await agent.start()
    try:
        day_1 = (daily_bar(1, 100, close=110), daily_bar(1, 50, symbol="000660"))
        await trade_day(bus, day_1, filled(Side.BUY, 5, 100, fee=1))
        await trade_day(bus, (daily_bar(2, 110, close=90),))
        await trade_day(
            bus,
            (daily_bar(3, 50, close=40, symbol="000660"),),
            filled(Side.BUY, 10, 50, symbol=HYNIX, bot="bot-2"),
        )
        now = agent.snapshots_at(DAY3)
    finally:
        await agent.stop()

    seen = [(s.time, s.bot_id, s.cash, s.market_value, s.equity) for s in journal.snapshots]
    # bot-1: 1,000 - 501 + 1,000 = 1,499 cash, 5 x 110 then 5 x 90 held; bot-2 flat, 1,000
    # day 3: bot-2 buys 10 x 50 (cash 500 + 500 - 500 = 500), marked at the close 40
    assert seen == [
        (DAY1, "bot-1", D(1_499), D(550), D(2_049)),
        (DAY1, "bot-2", D(1_000), D(0), D(1_000)),
        (DAY2, "bot-1", D(1_499), D(450), D(1_949)),
        (DAY2, "bot-2", D(1_000), D(0), D(1_000)),
        (DAY3, "bot-1", D(1_499), D(450), D(1_949)),
        (DAY3, "bot-2", D(500), D(400), D(900)),
    ]
    assert now == journal.snapshots[-2:]
    # the positions of the bots that traded, each flush
    assert [(bot, at) for bot, at, _ in journal.positions] == [("bot-1", DAY1), ("bot-2", DAY3)]
    assert journal.positions[-1][2] == (Position(HYNIX, D(10), D(500)),)


async def test_a_flush_saves_the_positions_that_moved_since_the_last_one_only(
    bus: InMemoryBus,
) -> None:
    # One account for the bot (portfolio mode), holding both symbols: the second flush
    # saves Hynix alone, Samsung's saved row being still what the ledger holds.
    ledger = Ledger(mode="portfolio", track_days=False)
    ledger.open_account(ledger.account_id(BotId("bot-1"), SAMSUNG), D(10_000), [SAMSUNG, HYNIX])
    journal = SnapshotRecorder()
    agent = PortfolioAgent(bus, ledger, journal=journal, flush_interval_s=0.0)
    await agent.start()
    try:
        day_1 = (daily_bar(1, 100), daily_bar(1, 50, symbol="000660"))
        await trade_day(bus, day_1, filled(Side.BUY, 5, 100))
        day_2 = (daily_bar(2, 100), daily_bar(2, 50, symbol="000660"))
        await trade_day(bus, day_2, filled(Side.BUY, 10, 50, symbol=HYNIX))
        await trade_day(bus, (daily_bar(3, 100), daily_bar(3, 50, symbol="000660")))
    finally:
        await agent.stop()

    assert [(bot, at, saved) for bot, at, saved in journal.positions] == [
        ("bot-1", DAY1, (Position(SAMSUNG, D(5), D(500)),)),
        ("bot-1", DAY2, (Position(HYNIX, D(10), D(500)),)),
    ]


async def test_a_snapshot_taken_between_closes_counts_the_fills_since(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    await trade_day(bus, (daily_bar(1, 100),))
    before = portfolio.snapshots_at(DAY1)
    await send(bus, filled(Side.BUY, 10, 100, fee=2))

    after = portfolio.snapshots_at(DAY2)

    assert before == [PortfolioSnapshot(DAY1, D(2_000_000), D(0), D(2_000_000), BOT)]
    # 2,000,000 - 1,002 cash; the position at the last close 100
    assert after == [PortfolioSnapshot(DAY2, D(1_998_998), D(1_000), D(1_999_998), BOT)]


async def test_a_snapshot_sees_the_cash_of_fills_booked_in_its_ledger_by_others(
    bus: InMemoryBus, portfolio: PortfolioAgent
) -> None:
    await trade_day(bus, (daily_bar(1, 100),))
    portfolio.snapshots_at(DAY1)  # the sums are kept from here on
    portfolio.ledger.apply_fill(ACCOUNT, filled(Side.BUY, 10, 100, fee=2).fill)
    await send(bus, filled(Side.BUY, 1, 50, fee=1, symbol=HYNIX))

    after = portfolio.snapshots_at(DAY2)

    # cash 2,000,000 - 1,002 - 51; SAMSUNG at its last close 100, HYNIX at cost (no close)
    assert after == [PortfolioSnapshot(DAY2, D(1_998_947), D(1_050), D(1_999_997), BOT)]
