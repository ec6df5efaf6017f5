"""RiskAgent: order requests pass the risk engine against the requesting account, and held
positions get protective stop and target orders that follow the trailing stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from agents.support import Recorder
from fakes import DAY0, buy, daily_bar, sell
from orchestrade.agents.risk import RiskAgent
from orchestrade.backtest.config import SimulationConfig
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    Bar,
    BarsClosed,
    BarsOpened,
    BotId,
    CancelOrder,
    Fill,
    FillId,
    Instrument,
    Order,
    OrderFilled,
    OrderId,
    OrderRequested,
    OrdersRequested,
    OrderType,
    RiskRejected,
    Side,
    SubmitOrder,
    SubmitOrders,
    Symbol,
    TimeInForce,
)
from orchestrade.orchestration.order_planning import tick_rounding
from orchestrade.portfolio import Ledger
from orchestrade.risk import KrxPriceLimitCheck, RiskEngine, StopSettings
from orchestrade.settings import RiskSettings

pytestmark = pytest.mark.anyio

D = Decimal
BOT = BotId("bot-1")
SAMSUNG = Symbol("005930")
DAY1 = DAY0 + timedelta(days=1)
DAY2 = DAY0 + timedelta(days=2)
LIMITS = RiskSettings(max_position_pct=0.5, max_daily_loss_pct=0.1, max_price_deviation_pct=0.05)
PREFIX = "bot-1-005930-20240103T000000"  # the entry fill's bot, symbol and time


class Outbox:
    """What the risk agent asked for, per message type."""

    def __init__(self) -> None:
        self.submitted = Recorder()
        self.rejected = Recorder()
        self.cancelled = Recorder()

    @property
    def orders(self) -> list[Order]:
        return [command.order for command in self.submitted.payloads]  # type: ignore[union-attr]

    @property
    def rejections(self) -> list[RiskRejected]:
        return self.rejected.payloads  # type: ignore[return-value]

    @property
    def cancels(self) -> list[CancelOrder]:
        return self.cancelled.payloads  # type: ignore[return-value]


@pytest.fixture
async def outbox(bus: InMemoryBus) -> Outbox:
    box = Outbox()
    await bus.subscribe(SubmitOrder, box.submitted)
    await bus.subscribe(RiskRejected, box.rejected)
    await bus.subscribe(CancelOrder, box.cancelled)
    return box


async def start_risk(
    bus: InMemoryBus,
    *,
    settings: RiskSettings = LIMITS,
    stops: StopSettings | None = None,
) -> AsyncIterator[RiskAgent]:
    ledger = Ledger(mode="isolated", instruments={SAMSUNG: Instrument.krx(SAMSUNG)})
    ledger.open_account(ledger.account_id(BOT, SAMSUNG), D(1_000_000), [SAMSUNG])
    agent = RiskAgent(
        bus,
        RiskEngine(settings, checks=(KrxPriceLimitCheck(),)),
        ledger,
        stops=stops,
        rounding=tick_rounding(SimulationConfig(tick_kind="krx"), ["005930"]),
        heartbeat_interval_s=3600,
    )
    await agent.start()
    try:
        yield agent
    finally:
        await agent.stop()


@pytest.fixture
async def risk(bus: InMemoryBus) -> AsyncIterator[RiskAgent]:
    async for agent in start_risk(bus):
        yield agent


@pytest.fixture
async def guarded(bus: InMemoryBus) -> AsyncIterator[RiskAgent]:
    async for agent in start_risk(bus, stops=StopSettings(trailing_stop=0.03, take_profit=0.1)):
        yield agent


async def send(bus: InMemoryBus, *messages: object) -> None:
    for message in messages:
        await bus.publish(message)  # type: ignore[arg-type]
        await bus.wait_idle()


async def day(bus: InMemoryBus, bar: Bar, *between: object) -> None:
    """`bar` opens, `between` happens, `bar` closes."""
    await send(bus, BarsOpened(bar.start, (bar,)), *between, BarsClosed(bar.start, (bar,)))


def entry_fill(quantity: int = 10, price: int = 10_000, side: Side = Side.BUY) -> OrderFilled:
    order = (buy if side is Side.BUY else sell)(f"{side}-{quantity}", quantity)
    fill = Fill(
        FillId(f"{order.order_id}-1"),
        order.order_id,
        SAMSUNG,
        side,
        D(quantity),
        D(price),
        DAY1,
    )
    return OrderFilled(order, fill)


# -- pre-trade checks --------------------------------------------------------------------------


async def test_an_approved_request_is_sent_to_execution(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(0, 10_000))
    order = buy("b1", 40)

    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), OrderRequested(order))

    assert outbox.orders == [order]
    assert outbox.rejections == []
    assert risk.outcomes == {"approved": 1}


async def test_the_orders_of_one_decision_go_on_together_and_each_refusal_alone(
    bus: InMemoryBus, risk: RiskAgent
) -> None:
    batches, rejected = Recorder(), Recorder()
    await bus.subscribe(SubmitOrders, batches)
    await bus.subscribe(RiskRejected, rejected)
    await day(bus, daily_bar(0, 10_000))
    small, big, other = buy("b1", 40), buy("b2", 60), buy("b3", 10)

    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), OrdersRequested((small, big, other)))

    assert batches.payloads == [SubmitOrders((small, other))]
    assert [r.order for r in rejected.payloads] == [big]  # type: ignore[union-attr]
    assert risk.outcomes == {"approved": 2, "max_position": 1}


async def test_a_refused_request_names_the_check_and_the_numbers(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(0, 10_000))
    order = buy("b1", 60)

    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), OrderRequested(order))

    # 60 x 10,000 (the open) = 600,000 = 60% of 1,000,000
    assert outbox.rejections == [
        RiskRejected(
            order,
            "max_position",
            "max_position: position would be 60 shares = 60% of equity, limit 50%",
        )
    ]
    assert outbox.orders == []
    assert risk.outcomes == {"max_position": 1}


async def test_the_checks_read_the_open_of_the_bar_in_progress(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(0, 10_000))
    order = buy("b1", 1)

    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_600),)), OrderRequested(order))

    (rejection,) = outbox.rejections
    assert rejection.check == "price_deviation"
    assert rejection.reason == (
        "price_deviation: reference price 10,600 is 6% from last trade 10,000, limit 5%"
    )


async def test_a_request_without_a_bot_cannot_be_booked_and_is_refused(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    order = buy("b1", 1, bot=None)

    await send(bus, OrderRequested(order))

    assert outbox.rejections == [RiskRejected(order, "account", "order has no bot id")]
    assert risk.outcomes == {"no_bot": 1}


async def test_the_kill_switch_refuses_new_exposure_at_run_time(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(0, 10_000))
    at = datetime(2024, 1, 3, 1, 0, tzinfo=UTC)
    risk.engine.kill_switch.engage(by="desk", reason="drill", at=at)

    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), OrderRequested(buy("b1", 1)))

    (rejection,) = outbox.rejections
    assert rejection.check == "kill_switch"
    assert rejection.reason == (
        "kill_switch: engaged by desk at 2024-01-03T01:00:00+00:00 (drill); "
        "only position-reducing orders allowed"
    )


async def test_limits_changed_at_run_time_apply_to_the_next_request(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(0, 10_000))
    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), OrderRequested(buy("b1", 60)))

    risk.engine.update_risk_params(max_position_pct=0.7)
    await send(bus, OrderRequested(buy("b2", 60)))

    assert [order.order_id for order in outbox.orders] == ["b2"]
    assert risk.outcomes == {"max_position": 1, "approved": 1}


async def test_fills_keep_the_agents_ledger_current(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(0, 10_000))
    await day(bus, daily_bar(1, 10_000), entry_fill(45))  # 45 held: 450,000 = 45%

    await send(bus, BarsOpened(DAY2, (daily_bar(2, 10_000),)), OrderRequested(buy("b1", 6)))

    assert risk.ledger.quantity("bot-1/005930", SAMSUNG) == 45
    (rejection,) = outbox.rejections
    assert rejection.reason == (
        "max_position: position would be 51 shares = 51% of equity, limit 50%"
    )


async def test_fills_of_unknown_accounts_and_bots_are_ignored(
    bus: InMemoryBus, risk: RiskAgent
) -> None:
    stranger = entry_fill()
    other_bot = OrderFilled(buy(stranger.order.order_id, 10, bot="bot-9"), stranger.fill)
    no_bot = OrderFilled(buy(stranger.order.order_id, 10, bot=None), stranger.fill)

    await send(bus, other_bot, no_bot)

    assert risk.ledger.quantity("bot-1/005930", SAMSUNG) == 0
    assert set(risk.ledger.accounts) == {"bot-1/005930"}


# -- protective orders -------------------------------------------------------------------------


async def test_without_stops_an_entry_fill_places_no_protective_order(
    bus: InMemoryBus, risk: RiskAgent, outbox: Outbox
) -> None:
    await day(bus, daily_bar(1, 10_000), entry_fill())

    assert outbox.orders == []
    assert risk.stops is None


async def test_an_entry_fill_places_a_stop_and_a_target_with_derived_ids(
    bus: InMemoryBus, outbox: Outbox
) -> None:
    async for agent in start_risk(bus, stops=StopSettings(stop_loss=0.05, take_profit=0.1)):
        await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), entry_fill(10, 10_000))

        # stop 10,000 x 0.95 = 9,500; target 10,000 x 1.1 = 11,000 (both on the 10-won grid)
        assert outbox.orders == [
            Order(
                order_id=OrderId(f"{PREFIX}-protect1-stop_loss"),
                symbol=SAMSUNG,
                side=Side.SELL,
                order_type=OrderType.STOP,
                quantity=D(10),
                created_at=DAY1,
                stop_price=D(9_500),
                time_in_force=TimeInForce.GTC,
                bot_id=BOT,
            ),
            Order(
                order_id=OrderId(f"{PREFIX}-protect1-take_profit"),
                symbol=SAMSUNG,
                side=Side.SELL,
                order_type=OrderType.LIMIT,
                quantity=D(10),
                created_at=DAY1,
                limit_price=D(11_000),
                time_in_force=TimeInForce.GTC,
                bot_id=BOT,
            ),
        ]
        assert agent.outcomes == {"protective": 2}
        assert agent.engine.denials == {}


async def test_protective_orders_do_not_pass_the_pre_trade_checks(
    bus: InMemoryBus, outbox: Outbox
) -> None:
    async for agent in start_risk(bus, stops=StopSettings(stop_loss=0.05)):
        agent.engine.kill_switch.engage(by="desk", reason="drill", at=DAY0)

        await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), entry_fill(10, 10_000))

        assert [order.stop_price for order in outbox.orders] == [D(9_500)]


async def test_the_stop_is_floored_and_the_target_rounded_up_to_the_grid(
    bus: InMemoryBus, outbox: Outbox
) -> None:
    async for _ in start_risk(bus, stops=StopSettings(stop_loss=0.033, take_profit=0.0512)):
        await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_010),)), entry_fill(10, 10_010))

    # stop 10,010 x 0.967 = 9,679.67 -> 9,670; target 10,010 x 1.0512 = 10,522.51 -> 10,530
    assert [(o.stop_price, o.limit_price) for o in outbox.orders] == [
        (D(9_670), None),
        (None, D(10_530)),
    ]


async def test_a_risen_trailing_stop_is_replaced_at_the_next_open_not_at_the_close(
    bus: InMemoryBus, guarded: RiskAgent, outbox: Outbox
) -> None:
    # entry at 10,000: trailing stop 9,700, target 11,000
    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000, 10_500, 9_900, 10_400),)))
    await send(bus, entry_fill(10, 10_000))
    assert [(o.stop_price, o.limit_price) for o in outbox.orders] == [
        (D(9_700), None),
        (None, D(11_000)),
    ]

    # the close of day 1 (high 10,500) raises the stop to 10,185 -> 10,180 on the grid
    await send(bus, BarsClosed(DAY1, (daily_bar(1, 10_000, 10_500, 9_900, 10_400),)))
    assert len(outbox.orders) == 2
    assert outbox.cancels == []

    await send(bus, BarsOpened(DAY2, (daily_bar(2, 10_400),)))

    assert outbox.cancels == [
        CancelOrder(OrderId(f"{PREFIX}-protect1-trailing_stop"), "stop level moved"),
        CancelOrder(OrderId(f"{PREFIX}-protect1-take_profit"), "stop level moved"),
    ]
    stop, target = outbox.orders[2:]
    assert (stop.order_id, stop.order_type, stop.stop_price, stop.quantity) == (
        OrderId(f"{PREFIX}-protect2-trailing_stop"),
        OrderType.STOP,
        D(10_180),
        D(10),
    )
    assert (target.order_id, target.limit_price) == (
        OrderId(f"{PREFIX}-protect2-take_profit"),
        D(11_000),
    )
    assert stop.created_at == target.created_at == DAY2
    assert guarded.outcomes == {"protective": 4}


async def test_a_high_that_leaves_the_stop_on_the_same_tick_replaces_nothing(
    bus: InMemoryBus, guarded: RiskAgent, outbox: Outbox
) -> None:
    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), entry_fill(10, 10_000))

    # high 10,005: stop 9,704.85 still floors to 9,700
    await day(bus, daily_bar(1, 10_000, 10_005, 9_950, 10_000))
    await send(bus, BarsOpened(DAY2, (daily_bar(2, 10_000),)))

    assert len(outbox.orders) == 2
    assert outbox.cancels == []


async def test_protective_orders_are_cancelled_when_the_position_goes_flat(
    bus: InMemoryBus, guarded: RiskAgent, outbox: Outbox
) -> None:
    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), entry_fill(10, 10_000))

    await send(bus, entry_fill(4, 10_100, Side.SELL))
    assert outbox.cancels == []  # 6 still held
    await send(bus, entry_fill(6, 10_100, Side.SELL))

    assert outbox.cancels == [
        CancelOrder(OrderId(f"{PREFIX}-protect1-trailing_stop"), "position closed"),
        CancelOrder(OrderId(f"{PREFIX}-protect1-take_profit"), "position closed"),
    ]
    assert guarded.ledger.quantity("bot-1/005930", SAMSUNG) == 0


async def test_a_flat_position_is_no_longer_trailed(
    bus: InMemoryBus, guarded: RiskAgent, outbox: Outbox
) -> None:
    await send(bus, BarsOpened(DAY1, (daily_bar(1, 10_000),)), entry_fill(10, 10_000))
    await send(bus, entry_fill(10, 10_100, Side.SELL))

    await day(bus, daily_bar(1, 10_000, 12_000, 9_000, 11_000))
    await send(bus, BarsOpened(DAY2, (daily_bar(2, 11_000),)))

    assert len(outbox.orders) == 2
    assert len(outbox.cancels) == 2


async def test_the_same_fills_give_the_same_protective_ids_in_a_new_process(
    bus: InMemoryBus, outbox: Outbox
) -> None:
    stops = StopSettings(trailing_stop=0.03, take_profit=0.1)
    second = InMemoryBus(name="restarted")
    await second.start()
    again = Outbox()
    await second.subscribe(SubmitOrder, again.submitted)

    for target in (bus, second):
        async for _ in start_risk(target, stops=stops):
            await send(target, BarsOpened(DAY1, (daily_bar(1, 10_000),)))
            await send(target, entry_fill(10, 10_000))
    await second.stop(timeout_s=1.0)

    assert [o.order_id for o in outbox.orders] == [o.order_id for o in again.orders]
    assert len(again.orders) == 2
