"""BotSupervisor: bots stored, checked and run as real trading nodes on small synthetic stored
bars; their fills reach the store and the stream; pause, stop, delete, crashes, rules, risk
limits and agents act on the running nodes; a new process resumes the running bots."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orchestrade.backtest.engine import Backtest
from orchestrade.bus.redis_streams import RedisStreamsBus
from orchestrade.bus.urls import BusUrlError
from orchestrade.domain import (
    AnomalyDetected,
    Bot,
    BotId,
    BotState,
    Market,
    OrderId,
    OrderStatus,
    Severity,
    SignalSide,
)
from orchestrade.domain.bots import thaw
from orchestrade.orchestration.control import (
    BotRequest,
    ControlConflictError,
    ControlError,
    UnknownBotError,
)
from orchestrade.orchestration.errors import RuntimeConfigurationError
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.supervisor import RUN_SETTINGS_KIND, BotSupervisor, RunSettings
from orchestrade.risk import RiskEngine
from orchestrade.storage import AuditLog, BotRepository, SqlOrderJournal, Store, open_store
from orchestrade.strategies import builtin_spec

from .supervised import DAYS, FAST_SLOW, KRX_SYMBOLS, US_SYMBOL, store_market, stream_of, until

pytestmark = pytest.mark.anyio
SLOW_PAPER = {"mode": "paper", "interval_s": 60.0}
"""A paper bot that trades its first bar at once and then waits: it stays up for the test."""
NO_BUYS = {
    "name": "no_buys",
    "description": "refuse every entry",
    "priority": 200,
    "event": "SignalGenerated",
    "when": {"field": "signal.side", "eq": "buy"},
    "action": "reject",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:
        store_market(store)
        yield store


@pytest.fixture
async def supervisor(store: Store, tmp_path: Path) -> AsyncIterator[BotSupervisor]:
    supervisor = BotSupervisor(store, home=tmp_path / "home", stop_grace_s=0.2)
    yield supervisor
    await supervisor.close()


def request(**changes: Any) -> BotRequest:
    options: dict[str, Any] = {"strategy": "sma_cross", "params": FAST_SLOW, "market": "krx"}
    options.update(changes)
    return BotRequest(**options)


def orchestrator_of(supervisor: BotSupervisor, bot_id: BotId) -> Orchestrator:
    node = supervisor.node(bot_id)
    assert node is not None
    agent = node.agents["orchestrator"]
    assert isinstance(agent, Orchestrator)
    return agent


def risk_engine_of(supervisor: BotSupervisor, bot_id: BotId) -> RiskEngine:
    node = supervisor.node(bot_id)
    assert node is not None
    engine: RiskEngine = node.agents["risk"].engine  # type: ignore[attr-defined]
    return engine


# -- creating ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"strategy": "sma_crosss"},
            "strategy: no built-in strategy 'sma_crosss'; did you mean 'sma_cross'?",
        ),
        ({"strategy": {"name": "half a spec"}}, "strategy: "),
        ({"strategy": "/etc/passwd"}, "strategy: no built-in strategy '/etc/passwd'"),
        ({"params": {"fastt": 5}}, "params: strategy 'sma_cross' has no parameter 'fastt'"),
        ({"params": {"fast": 1}}, "params: "),
        ({"symbols": ("NOPE",)}, "symbols: no stored 1d bars of market krx of NOPE"),
        (
            {"symbols": (KRX_SYMBOLS[0], US_SYMBOL), "market": None},
            "symbols: a bot trades one market, these span krx, us",
        ),
        ({"market": "nyse"}, "market: must be one of krx, us, crypto, got 'nyse'"),
        ({"timeframe": "1h"}, "symbols: the store has no 1h bars of market krx"),
        ({"cash": 0.0}, "cash: must be a finite number > 0, got 0.0"),
        ({"allocation": Decimal("1.5")}, "allocation must be within [0, 1], got 1.5"),
        ({"mode": "live"}, "mode: must be paper or replay, got 'live'"),
        ({"interval_s": 0}, "interval_s: must be a finite number > 0, got 0"),
        ({"speed": -2.0}, "speed: must be a finite number > 0 or 'max', got -2.0"),
        ({"name": "  "}, "name: must be non-blank text"),
    ],
)
async def test_a_bad_request_is_refused_naming_the_field_and_nothing_is_stored(
    supervisor: BotSupervisor, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ControlError) as refused:
        await supervisor.create_bot(request(**changes))

    assert message in str(refused.value)
    assert supervisor.bots() == []


async def test_a_created_bot_is_stored_paused_with_how_it_runs(
    supervisor: BotSupervisor, store: Store, tmp_path: Path
) -> None:
    bot = await supervisor.create_bot(
        request(name="my bot", allocation=Decimal("0.25"), cash=5_000_000.0, mode="replay")
    )

    again = BotSupervisor(store, home=tmp_path / "other")
    assert again.bots() == [bot]
    assert bot.name == "my bot"
    assert bot.state is BotState.PAUSED
    assert bot.symbols == KRX_SYMBOLS  # every stored symbol of the market
    assert bot.allocation == Decimal("0.25")
    assert dict(bot.params) == FAST_SLOW
    assert thaw(bot.strategy) == builtin_spec("sma_cross").to_dict()
    assert again.run_settings(bot.bot_id) == RunSettings(
        mode="replay", interval_s=1.0, speed="max", cash=5_000_000.0, timeframe="1d", market="krx"
    )
    created = AuditLog(store).query(kind=RUN_SETTINGS_KIND).records
    assert [record.entry.bot_id for record in created] == [bot.bot_id]


async def test_a_spec_document_with_its_own_universe_trades_those_symbols(
    supervisor: BotSupervisor,
) -> None:
    document = builtin_spec("sma_cross").to_dict()
    document["universe"] = {"symbols": [KRX_SYMBOLS[1]]}

    bot = await supervisor.create_bot(request(strategy=document, market=None))

    assert bot.symbols == (KRX_SYMBOLS[1],)


# -- running -------------------------------------------------------------------------------


async def test_a_replay_bot_trades_its_backtest_and_its_fills_reach_the_store_and_stream(
    supervisor: BotSupervisor, store: Store
) -> None:
    bot = await supervisor.create_bot(request(mode="replay"))
    panel = store.load_bars(list(KRX_SYMBOLS)).panel
    markets = {symbol: Market.KRX for symbol in KRX_SYMBOLS}
    expected = Backtest(panel, "sma_cross", markets=markets).run(**FAST_SLOW)

    await supervisor.start_bot(bot.bot_id)
    await supervisor.wait_stopped(bot.bot_id)

    fills = SqlOrderJournal(store).fills()
    streamed = stream_of(supervisor, bot.bot_id, "OrderFilled")
    assert len(expected.fills) > 4
    assert len(fills) == len(streamed) == len(expected.fills)
    assert [event.payload.fill for event in streamed] == list(fills)  # type: ignore[attr-defined]
    states = [event.payload for event in stream_of(supervisor, bot.bot_id, "BotStateChanged")]
    assert [(state.previous, state.state) for state in states] == [  # type: ignore[attr-defined]
        (BotState.PAUSED, BotState.RUNNING),
        (BotState.RUNNING, BotState.STOPPED),
    ]
    assert states[-1].reason == f"its stored bars ran out after {DAYS} slices"  # type: ignore[attr-defined]
    assert supervisor.bot(bot.bot_id).state is BotState.STOPPED
    assert supervisor.node(bot.bot_id) is None
    assert supervisor.agents() == []


async def test_a_bot_on_a_redis_bus_trades_like_one_on_the_in_process_bus(
    store: Store, tmp_path: Path, redis_url: str
) -> None:
    # `serve --bus redis://...`: the bot's node runs on Redis Streams (its agents could be
    # elsewhere); what it trades and what the stream sees are the same.
    supervisor = BotSupervisor(store, home=tmp_path / "home", stop_grace_s=0.2, bus_url=redis_url)
    try:
        bot = await supervisor.create_bot(request(mode="replay"))
        panel = store.load_bars(list(KRX_SYMBOLS)).panel
        markets = {symbol: Market.KRX for symbol in KRX_SYMBOLS}
        expected = Backtest(panel, "sma_cross", markets=markets).run(**FAST_SLOW)

        await supervisor.start_bot(bot.bot_id)
        assert isinstance(supervisor.node(bot.bot_id).bus, RedisStreamsBus)  # type: ignore[union-attr]
        await supervisor.wait_stopped(bot.bot_id)
    finally:
        await supervisor.close()

    fills = SqlOrderJournal(store).fills()
    streamed = stream_of(supervisor, bot.bot_id, "OrderFilled")
    assert len(fills) == len(streamed) == len(expected.fills) > 4
    assert supervisor.bot(bot.bot_id).state is BotState.STOPPED


async def test_a_bus_url_of_no_bus_is_refused_at_once(store: Store, tmp_path: Path) -> None:
    with pytest.raises(BusUrlError, match="kafka://x"):
        BotSupervisor(store, home=tmp_path / "home", bus_url="kafka://x")


async def test_a_stopped_bot_starts_again_on_a_new_node_and_sends_nothing_twice(
    supervisor: BotSupervisor, store: Store
) -> None:
    bot = await supervisor.create_bot(request(mode="replay"))
    await supervisor.start_bot(bot.bot_id)
    await supervisor.wait_stopped(bot.bot_id)
    journal = SqlOrderJournal(store)
    orders, fills = journal.list_orders(), journal.fills()

    again = await supervisor.start_bot(bot.bot_id)
    await supervisor.wait_stopped(bot.bot_id)

    assert again.state is BotState.RUNNING
    assert journal.list_orders() == orders
    assert journal.fills() == fills
    streamed = stream_of(supervisor, bot.bot_id, "OrderFilled")
    assert len(streamed) == 2 * len(fills)  # the new node republished them for its ledgers
    assert supervisor.stream_counts.fills == {bot.bot_id: len(fills)}  # each counted once
    assert supervisor.stream_counts.orders_submitted == {bot.bot_id: len(orders)}
    assert supervisor.bot(bot.bot_id).state is BotState.STOPPED


async def test_a_paper_bot_pauses_resumes_stops_and_is_deleted_only_when_not_running(
    supervisor: BotSupervisor, store: Store
) -> None:
    bot = await supervisor.create_bot(request(mode="paper", interval_s=0.02))
    bot_id = bot.bot_id

    running = await supervisor.start_bot(bot_id)
    with pytest.raises(ControlConflictError, match="is running: stop it before deleting it"):
        await supervisor.delete_bot(bot_id)
    await until(lambda: bool(stream_of(supervisor, bot_id, "OrderFilled")), "a first fill")
    paused = await supervisor.pause_bot(bot_id)
    orchestrator = orchestrator_of(supervisor, bot_id)
    decided = dict(orchestrator.decisions)
    await until(
        lambda: orchestrator.decisions["ignored"] > decided.get("ignored", 0),
        "a signal while paused",
    )
    decided_while_paused = dict(orchestrator.decisions)
    resumed = await supervisor.start_bot(bot_id)
    stopped = await supervisor.stop_bot(bot_id)
    await supervisor.wait_stopped(bot_id)

    assert (running.state, paused.state, resumed.state, stopped.state) == (
        BotState.RUNNING,
        BotState.PAUSED,
        BotState.RUNNING,
        BotState.STOPPED,
    )
    assert decided_while_paused["approved"] == decided["approved"]
    states = [event.payload for event in stream_of(supervisor, bot_id, "BotStateChanged")]
    assert [(state.state, state.reason) for state in states] == [  # type: ignore[attr-defined]
        (BotState.RUNNING, "started (paper)"),
        (BotState.PAUSED, "paused"),
        (BotState.RUNNING, "resumed"),
        (BotState.STOPPED, "stopped"),
    ]
    assert len(SqlOrderJournal(store).fills()) == len(stream_of(supervisor, bot_id, "OrderFilled"))
    assert supervisor.node(bot_id) is None
    await supervisor.delete_bot(bot_id)
    assert supervisor.bots() == []
    with pytest.raises(UnknownBotError):
        supervisor.bot(bot_id)


async def test_pausing_a_stopped_bot_conflicts_and_stopping_twice_is_harmless(
    supervisor: BotSupervisor,
) -> None:
    bot = await supervisor.create_bot(request())

    stopped = await supervisor.stop_bot(bot.bot_id)
    again = await supervisor.stop_bot(bot.bot_id)
    with pytest.raises(ControlConflictError, match="is stopped"):
        await supervisor.pause_bot(bot.bot_id)

    assert stopped.state is again.state is BotState.STOPPED
    assert [e.payload.reason for e in stream_of(supervisor, bot.bot_id, "BotStateChanged")] == [  # type: ignore[attr-defined]
        "stopped"
    ]


async def test_a_bot_whose_node_cannot_start_is_left_stopped_with_the_reason(
    supervisor: BotSupervisor, store: Store, tmp_path: Path
) -> None:
    bot = await supervisor.create_bot(request())
    broken = tmp_path / "home" / "paper" / f"{bot.bot_id}.db"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not a paper broker's state file" * 100)

    with pytest.raises(ControlError, match=f"bot {bot.bot_id} did not start"):
        await supervisor.start_bot(bot.bot_id)

    assert supervisor.bot(bot.bot_id).state is BotState.STOPPED
    last = stream_of(supervisor, bot.bot_id, "BotStateChanged")[-1].payload
    assert last.state is BotState.STOPPED  # type: ignore[attr-defined]
    assert last.reason.startswith("crashed: ")  # type: ignore[attr-defined]
    audited = AuditLog(store).query(kind="BotStateChanged", bot_id=bot.bot_id).records
    assert audited[-1].entry.reason == last.reason  # type: ignore[attr-defined]
    assert supervisor.node(bot.bot_id) is None


async def test_a_high_anomaly_stops_the_bot_through_its_rules_and_ends_its_node(
    supervisor: BotSupervisor,
) -> None:
    bot = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(bot.bot_id)
    node = supervisor.node(bot.bot_id)
    assert node is not None
    anomaly = AnomalyDetected(
        datetime.now(UTC), "test", Severity.HIGH, "SYN0001", 9.0, 1.0, "a test", bot.bot_id
    )

    await node.bus.publish(anomaly)
    await supervisor.wait_stopped(bot.bot_id)

    assert supervisor.bot(bot.bot_id).state is BotState.STOPPED
    last = stream_of(supervisor, bot.bot_id, "BotStateChanged")[-1].payload
    assert last.reason.startswith("stop_bot_on_high_anomaly: ")  # type: ignore[attr-defined]
    assert supervisor.node(bot.bot_id) is None


# -- rules and risk ------------------------------------------------------------------------


async def test_rule_changes_reach_running_nodes_and_the_nodes_started_later(
    supervisor: BotSupervisor,
) -> None:
    first = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(first.bot_id)

    added = await supervisor.add_rule(NO_BUYS)
    disabled = await supervisor.set_rule_enabled("min_signal_confidence", False)
    second = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(second.bot_id)

    for bot_id in (first.bot_id, second.bot_id):
        engine = orchestrator_of(supervisor, bot_id).rules
        assert engine.rule("no_buys").priority == 200
        assert engine.rule("min_signal_confidence").enabled is False
    assert added.when == {"field": "signal.side", "eq": "buy"}
    assert (added.action, added.priority, added.enabled) == ("reject", 200, True)
    assert disabled.enabled is False
    assert supervisor.rules()[0].name == "no_buys"


async def test_a_bad_or_duplicate_rule_is_refused_by_field(supervisor: BotSupervisor) -> None:
    with pytest.raises(ControlError, match=r"^action: unknown action 'rejec'"):
        await supervisor.add_rule({**NO_BUYS, "action": "rejec"})
    with pytest.raises(ControlError, match=r"^when.field: SignalGenerated has no field"):
        await supervisor.add_rule({**NO_BUYS, "when": {"field": "signal.sid", "eq": "buy"}})
    with pytest.raises(ControlConflictError, match="a rule named 'min_signal_confidence'"):
        await supervisor.add_rule({**NO_BUYS, "name": "min_signal_confidence"})
    with pytest.raises(ControlError, match="no rule named 'nope'"):
        await supervisor.set_rule_enabled("nope", False)

    assert "no_buys" not in {rule.name for rule in supervisor.rules()}


async def test_a_rule_refusing_entries_keeps_a_replay_bot_from_trading(
    supervisor: BotSupervisor, store: Store
) -> None:
    await supervisor.add_rule(NO_BUYS)
    bot = await supervisor.create_bot(request(mode="replay"))

    await supervisor.start_bot(bot.bot_id)
    await supervisor.wait_stopped(bot.bot_id)

    assert len(stream_of(supervisor, bot.bot_id, "SignalGenerated")) > 4
    approved = stream_of(supervisor, bot.bot_id, "SignalApproved")
    assert {event.payload.signal.side for event in approved} <= {SignalSide.SELL}  # type: ignore[attr-defined]
    assert SqlOrderJournal(store).list_orders() == []


async def test_risk_limit_changes_reach_running_nodes_and_later_ones(
    supervisor: BotSupervisor,
) -> None:
    first = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(first.bot_id)

    limits = await supervisor.update_risk_limits({"max_position_pct": 0.2})
    second = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(second.bot_id)

    assert limits["max_position_pct"] == 0.2
    assert supervisor.risk_limits() == limits
    for bot_id in (first.bot_id, second.bot_id):
        assert risk_engine_of(supervisor, bot_id).settings.max_position_pct == 0.2
        assert orchestrator_of(supervisor, bot_id).rules.parameters["max_position_pct"] == 0.2
    changed = [
        event for event in supervisor.events_after(0) if event.type_name == "RiskLimitsChanged"
    ]
    assert [event.bot_id for event in changed] == [None]
    assert json.loads(changed[0].payload.limits_json)["max_position_pct"] == 0.2  # type: ignore[attr-defined]


async def test_bad_risk_limits_are_refused_by_field_and_nothing_changes(
    supervisor: BotSupervisor,
) -> None:
    before = dict(supervisor.risk_limits())

    with pytest.raises(ControlError, match="max_position_pct: Input should be greater than 0"):
        await supervisor.update_risk_limits({"max_position_pct": -1})
    with pytest.raises(ControlError, match="max_shares: Extra inputs are not permitted"):
        await supervisor.update_risk_limits({"max_shares": 5})

    assert supervisor.risk_limits() == before


# -- agents, allocation, orders ------------------------------------------------------------


async def test_agents_are_listed_and_one_restarts_through_its_health_monitor(
    supervisor: BotSupervisor,
) -> None:
    bot = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(bot.bot_id)

    before = supervisor.agents()
    restarted = await supervisor.restart_agent(bot.bot_id, "risk")
    await until(lambda: bool(stream_of(supervisor, bot.bot_id, "AgentRestarted")), "the event")

    assert [agent.name for agent in before] == [
        "execution",
        "anomaly",
        "strategy",
        "orchestrator",
        "risk",
        "portfolio",
        "data",
        "system",
        "health-monitor",
    ]
    assert {agent.status for agent in before} == {"running"}
    assert {agent.restarts for agent in before} == {0}
    assert (restarted.name, restarted.agent_id, restarted.status, restarted.restarts) == (
        "risk",
        "risk",
        "running",
        1,
    )
    events = stream_of(supervisor, bot.bot_id, "AgentRestarted")
    assert [(e.payload.agent_id, e.payload.reason) for e in events] == [  # type: ignore[attr-defined]
        ("risk", "restarted on request")
    ]
    assert supervisor.stream_counts.agent_restarts == {(bot.bot_id, "risk"): 1}


async def test_restarting_the_data_an_unknown_agent_or_a_stopped_bots_agent_is_refused(
    supervisor: BotSupervisor,
) -> None:
    bot = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(bot.bot_id)

    with pytest.raises(ControlError, match="the data agent drives the node's clock"):
        await supervisor.restart_agent(bot.bot_id, "data")
    with pytest.raises(ControlError, match="has no agent 'rsik'; did you mean 'risk'\\?"):
        await supervisor.restart_agent(bot.bot_id, "rsik")
    await supervisor.stop_bot(bot.bot_id)
    with pytest.raises(ControlConflictError, match="is not running"):
        await supervisor.restart_agent(bot.bot_id, "risk")
    with pytest.raises(UnknownBotError):
        await supervisor.restart_agent(BotId("bot-nope"), "risk")


async def test_allocation_changes_are_stored_and_audited(
    supervisor: BotSupervisor, store: Store
) -> None:
    bot = await supervisor.create_bot(request())

    changed = await supervisor.set_allocation(bot.bot_id, Decimal("0.4"))
    with pytest.raises(ControlError, match="allocation must be within"):
        await supervisor.set_allocation(bot.bot_id, Decimal("-0.1"))
    with pytest.raises(UnknownBotError):
        await supervisor.set_allocation(BotId("bot-nope"), Decimal("0.4"))

    assert changed.allocation == supervisor.bot(bot.bot_id).allocation == Decimal("0.4")
    audited = AuditLog(store).query(kind="bot.allocation").records
    assert [record.entry.reason for record in audited] == ["allocation 1 -> 0.4"]


async def test_a_resting_protective_order_is_cancelled_through_its_bot(
    supervisor: BotSupervisor, store: Store
) -> None:
    document = builtin_spec("sma_cross").to_dict()
    document["stops"] = {"stop_loss": 0.5}  # far below: the protective stop rests
    bot = await supervisor.create_bot(request(strategy=document, mode="paper", interval_s=0.02))
    await supervisor.start_bot(bot.bot_id)
    node = supervisor.node(bot.bot_id)
    assert node is not None

    await until(lambda: node.oms is not None and bool(node.oms.open_orders()), "a resting stop")
    assert node.oms is not None
    resting = node.oms.open_orders()[0]
    cancelled = await supervisor.cancel_order(resting.order_id)
    with pytest.raises(ControlConflictError, match="no running bot holds order 'nope'"):
        await supervisor.cancel_order(OrderId("nope"))
    filled = next(
        order
        for order in SqlOrderJournal(store).list_orders()
        if order.status is OrderStatus.FILLED
    )
    with pytest.raises(ControlConflictError, match="is filled: there is nothing to cancel"):
        await supervisor.cancel_order(filled.order_id)

    assert cancelled.order_id == resting.order_id
    assert cancelled.status in (OrderStatus.CANCELLED, OrderStatus.CANCEL_REQUESTED)
    assert SqlOrderJournal(store).get_order(resting.order_id).status is cancelled.status  # type: ignore[union-attr]


async def test_a_second_bot_starting_leaves_the_first_bots_resting_orders_alone(
    supervisor: BotSupervisor, store: Store
) -> None:
    """Each node's OMS reconciles its own broker account with its own bots' orders only."""
    document = builtin_spec("sma_cross").to_dict()
    document["stops"] = {"stop_loss": 0.5}
    first = await supervisor.create_bot(request(strategy=document, mode="paper", interval_s=0.02))
    await supervisor.start_bot(first.bot_id)
    node = supervisor.node(first.bot_id)
    assert node is not None
    oms = node.oms
    assert oms is not None
    await until(lambda: bool(oms.open_orders()), "a resting stop")
    await supervisor.pause_bot(first.bot_id)
    resting = oms.open_orders()[0]

    second = await supervisor.create_bot(request(**SLOW_PAPER))
    await supervisor.start_bot(second.bot_id)

    second_node = supervisor.node(second.bot_id)
    assert second_node is not None
    assert second_node.reconciliation is not None
    assert second_node.reconciliation.is_clean
    recorded = SqlOrderJournal(store).get_order(resting.order_id)
    assert recorded is not None
    assert recorded.status is resting.status


# -- the process ---------------------------------------------------------------------------


async def test_a_new_process_resumes_the_running_bots_a_supervisor_created(
    store: Store, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = BotSupervisor(store, home=home, stop_grace_s=0.2)
    running = await first.create_bot(request(**SLOW_PAPER))
    paused = await first.create_bot(request(**SLOW_PAPER))
    await first.start_bot(running.bot_id)
    await first.start_bot(paused.bot_id)
    await first.pause_bot(paused.bot_id)
    foreign = Bot(
        bot_id=BotId("replay-cli"),
        name="a replay of the CLI",
        strategy=builtin_spec("sma_cross").to_dict(),
        params={},
        symbols=KRX_SYMBOLS,
        allocation=Decimal(1),
        state=BotState.RUNNING,
        created_at=datetime.now(UTC),
    )
    BotRepository(store).save(foreign)

    await first.close()
    second = BotSupervisor(store, home=home, stop_grace_s=0.2)
    try:
        resumed = await second.resume()

        assert resumed == [running.bot_id]
        assert second.bot(running.bot_id).state is BotState.RUNNING
        assert second.bot(paused.bot_id).state is BotState.PAUSED
        assert second.node(running.bot_id) is not None
        assert second.node(paused.bot_id) is None
        assert second.node(foreign.bot_id) is None
    finally:
        await second.close()
    assert second.bot(running.bot_id).state is BotState.RUNNING  # kept for the next process


async def test_bots_need_a_database_that_their_nodes_can_open_too(tmp_path: Path) -> None:
    with (
        open_store("sqlite://") as memory,
        pytest.raises(RuntimeConfigurationError, match="in-memory SQLite"),
    ):
        BotSupervisor(memory, home=tmp_path)
