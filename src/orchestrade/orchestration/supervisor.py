"""BotSupervisor: the bots of this process, each a trading node on its own bus, behind the
`TradingControl` protocol that the API and the dashboard talk to.

A bot is stored (`BotRepository`) with its strategy spec, parameters, symbols, allocation
and state; how it runs (paper or replay, pace, cash, timeframe) is recorded with its
creation in the audit log (kind ``bot.created``), the one record of who asked for what. A
running bot is a `TradingNode` over the stored bars of its symbols, built like a backtest
of them, run as an asyncio task on a bus of its own (agent ids are fixed names: two bots
must not share a bus): an `InMemoryBus`, or with `bus_url` a Redis Streams bus under the
bot's own prefix, where the bot's agents may also run in other processes. The node's
orchestrator pauses, resumes and stops it; a node whose task ends (bars ran out, stopped,
crashed) leaves its bot stopped with the reason (a `BotStateChanged` on the stream and in
the audit log).

Rules and risk limits are process-wide: the supervisor keeps the desired state (a rule
engine and `RiskSettings`), pushes every change to each running node's rule engine and risk
agent at once, and builds new nodes with it.

The `EventHub` listens to every node's bus: the live stream (`events_after`,
`wait_for_event`) and the metrics come from it. Everything runs on one event loop: call the
supervisor from that loop (the API's).

`resume` starts again the stored bots that were running when the process stopped (the
ones a supervisor created); `close` stops every node cleanly and leaves their stored state
as it is, so the next process resumes them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError as PydanticValidationError

from orchestrade.agents.base import Agent
from orchestrade.agents.notifier import RULE_LOGGER, NotificationSink, RuleLogHandler
from orchestrade.agents.risk import RiskAgent
from orchestrade.bus import InMemoryBus
from orchestrade.bus.urls import MEMORY, check_bus_url, open_bus
from orchestrade.domain import (
    AgentRestarted,
    Bot,
    BotId,
    BotState,
    BotStateChanged,
    Envelope,
    OrchestradeError,
    Order,
    OrderId,
    RiskLimitsChanged,
    Symbol,
)
from orchestrade.domain.bots import thaw
from orchestrade.orchestration.bot_requests import (
    RunSettings,
    bot_backtest,
    check_request,
    checked_allocation,
)
from orchestrade.orchestration.control import (
    AgentInfo,
    BotRequest,
    ControlConflictError,
    ControlError,
    RuleInfo,
    StreamEvent,
    UnknownBotError,
)
from orchestrade.orchestration.errors import RuleError, RuntimeConfigurationError
from orchestrade.orchestration.event_hub import EventHub, StreamCounts
from orchestrade.orchestration.health import AgentHealth
from orchestrade.orchestration.orchestrator import Orchestrator
from orchestrade.orchestration.rule_documents import rule_from_document, rule_info
from orchestrade.orchestration.rule_files import default_rules
from orchestrade.orchestration.rules import Rule, RuleEngine, rule_parameters
from orchestrade.orchestration.runtime import TradingNode
from orchestrade.settings import RiskSettings, RulesSettings
from orchestrade.storage import AuditLog, BotRepository, Store
from orchestrade.storage.audit import AuditEntry
from orchestrade.strategies.spec import closest

log = logging.getLogger(__name__)

RUN_SETTINGS_KIND = "bot.created"
"""Audit kind of a bot's creation; its payload's ``run`` holds the `RunSettings`."""
SUPERVISOR_GROUP = "supervisor"
"""The supervisor's consumer group on each node's bus."""
DEFAULT_STOP_GRACE_S = 5.0
"""How long a stopping node may take to finish its slice before its agents are stopped."""


class HeapPolicy(Protocol):
    """Told when a node has started and when one has ended (the serving process keeps its
    garbage collections short with it: `orchestrade.cli.serve_heap.FrozenHeap`)."""

    def node_started(self) -> None: ...

    def node_ended(self) -> None:
        """Called once the node's task is done and the supervisor dropped it."""
        ...


@dataclass(slots=True)
class _Run:
    """One bot's node and the task that runs it."""

    bot_id: BotId
    node: TradingNode
    engine: RuleEngine
    started: asyncio.Future[None]
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    reason: str = ""
    shutdown: bool = False
    """The process is stopping: the bot's stored state stays as it is."""

    @property
    def ending(self) -> bool:
        """A stop was asked for: the node is winding down."""
        return self.stop_requested.is_set()

    def request_stop(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason
        self.stop_requested.set()
        self.node.request_stop()


class BotSupervisor:
    """Runs the stored bots as trading nodes; implements `TradingControl` (module docstring).

    Args:
        store: the application database (bots, bars, orders, audit); it must be a file or a
            server (each node opens its own connection to it), and the caller closes it.
        home: where each bot's paper-broker state lives (``home/paper/BOT.db``).
        risk: the risk limits in force at start (default: the settings' defaults).
        rules_settings: the rules' ``$min_confidence`` (default: the settings' default).
        rules: the rules in force at start (default: the shipped default rules).
        hub: the event hub (default: a new one of the default capacity).
        stop_grace_s: how long a stopping node may take to finish its slice.
        clock: aware UTC now (bot record times).
        notifier: the notification service every node hands its notifiable events to, and
            the one bridge of the rules' notify effects (None: no notifications).
        heap: told when nodes start and end (None: nothing is).

    Raises:
        RuntimeConfigurationError: `store` is an in-memory SQLite database.
    """

    def __init__(
        self,
        store: Store,
        *,
        home: Path,
        risk: RiskSettings | None = None,
        rules_settings: RulesSettings | None = None,
        rules: Sequence[Rule] | None = None,
        hub: EventHub | None = None,
        stop_grace_s: float = DEFAULT_STOP_GRACE_S,
        clock: Callable[[], datetime] | None = None,
        notifier: NotificationSink | None = None,
        heap: HeapPolicy | None = None,
        bus_url: str = MEMORY,
    ) -> None:
        url = store.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise RuntimeConfigurationError(
                "bots need a database file or server: each node opens its own connection, "
                "and an in-memory SQLite database is private to one"
            )
        self._store = store
        self._bus_url = check_bus_url(bus_url)
        self._database_url = url.render_as_string(hide_password=False)
        self.home = Path(home)
        self._risk = risk if risk is not None else RiskSettings()
        self._rules_settings = rules_settings if rules_settings is not None else RulesSettings()
        self._engine = RuleEngine(
            default_rules() if rules is None else rules,
            parameters=rule_parameters(self._rules_settings, self._risk),
        )
        self.hub = hub if hub is not None else EventHub()
        self.stop_grace_s = stop_grace_s
        self._clock = clock if clock is not None else _utc_now
        self._bots = BotRepository(store)
        self._notifier = notifier
        self._heap = heap
        # One bridge for the rules' notify effects of every node (a process-wide logger).
        self._rule_bridge: RuleLogHandler | None = None
        if notifier is not None:
            self._rule_bridge = RuleLogHandler(notifier, RULE_LOGGER)
            logging.getLogger(RULE_LOGGER).addHandler(self._rule_bridge)
        self._audit = AuditLog(store)
        self._runs: dict[BotId, _Run] = {}
        self._locks: dict[BotId, asyncio.Lock] = {}
        self._closing = False

    # -- bots ------------------------------------------------------------------------------

    def bots(self) -> Sequence[Bot]:
        """Every stored bot, oldest first."""
        return self._bots.list()

    def bot(self, bot_id: BotId) -> Bot:
        """One stored bot. Raises UnknownBotError."""
        bot = self._bots.get(bot_id)
        if bot is None:
            raise UnknownBotError(f"no bot {bot_id!r}")
        return bot

    def run_settings(self, bot_id: BotId) -> RunSettings:
        """How the bot runs (the defaults for a bot that no supervisor created)."""
        return self._recorded_settings(bot_id) or RunSettings()

    def node(self, bot_id: BotId) -> TradingNode | None:
        """The bot's trading node while it runs (or winds down), else None."""
        run = self._runs.get(bot_id)
        return run.node if run is not None else None

    async def create_bot(self, request: BotRequest) -> Bot:
        """Check `request`, store the bot paused and return it (ControlError names the bad
        field: strategy, params, symbols, market, timeframe, cash, allocation, mode, ...)."""
        checked = check_request(request, self._store)
        spec, settings = checked.spec, checked.settings
        now = self._clock()
        bot = Bot(
            bot_id=BotId(f"bot-{uuid.uuid4().hex[:8]}"),
            name=checked.name,
            strategy=spec.to_dict(),
            params=checked.params,
            symbols=tuple(Symbol(symbol) for symbol in checked.symbols),
            allocation=checked.allocation,
            state=BotState.PAUSED,
            created_at=now,
        )
        # The settings first: a bot stored without them would run on the defaults.
        self._audit.append(
            AuditEntry(
                at=now,
                kind=RUN_SETTINGS_KIND,
                reason=f"{bot.name}: {spec.name} on {len(bot.symbols)} symbol(s), {settings.mode}",
                bot_id=bot.bot_id,
                payload={"run": settings.to_payload(), "params": checked.params},
            )
        )
        self._bots.save(bot)
        log.info("bot %s created (%s, %s)", bot.bot_id, spec.name, settings.mode)
        return bot

    async def start_bot(self, bot_id: BotId) -> Bot:
        """Run the bot: a paused one with a running node resumes, any other gets a new node.

        Raises:
            UnknownBotError: no such bot.
            ControlError: its node could not be built or did not start (the bot is then
                stopped and the reason is on the stream and in the audit log).
        """
        async with self._lock(bot_id):
            bot = self.bot(bot_id)
            run = self._runs.get(bot_id)
            if run is not None and not run.ending and bot.state is not BotState.STOPPED:
                if bot.state is BotState.PAUSED:
                    await _orchestrator(run).set_state(bot_id, BotState.RUNNING, "resumed")
                return self.bot(bot_id)
            if run is not None:  # stopped (by a rule, say) and winding down: a new node
                run.request_stop("stopped")
                await self._ended(run)
                bot = self.bot(bot_id)
            await self._launch(bot)
            return self.bot(bot_id)

    async def pause_bot(self, bot_id: BotId) -> Bot:
        """Take no new decisions (the node keeps its orders, positions and data)."""
        async with self._lock(bot_id):
            bot = self.bot(bot_id)
            if bot.state is BotState.PAUSED:
                return bot
            run = self._runs.get(bot_id)
            if bot.state is BotState.STOPPED or (run is not None and run.ending):
                raise ControlConflictError(f"bot {bot_id} is stopped: there is nothing to pause")
            if run is None:
                self._change_state(bot, BotState.PAUSED, "paused")
            else:
                await _orchestrator(run).set_state(bot_id, BotState.PAUSED, "paused")
            return self.bot(bot_id)

    async def stop_bot(self, bot_id: BotId) -> Bot:
        """Stop the bot at once (no new orders) and its node after the slice in progress
        (`wait_stopped` waits for that)."""
        async with self._lock(bot_id):
            bot = self.bot(bot_id)
            run = self._runs.get(bot_id)
            if run is not None and not run.ending:
                if bot.state is not BotState.STOPPED:
                    await _orchestrator(run).set_state(bot_id, BotState.STOPPED, "stopped")
                run.request_stop("stopped")
            elif bot.state is not BotState.STOPPED:
                self._change_state(bot, BotState.STOPPED, "stopped")
            return self.bot(bot_id)

    async def delete_bot(self, bot_id: BotId) -> None:
        """Forget a paused or stopped bot (its orders, fills and audit lines stay).

        Raises:
            ControlConflictError: the bot is running (stop it first).
        """
        async with self._lock(bot_id):
            bot = self.bot(bot_id)
            if bot.state is BotState.RUNNING:
                raise ControlConflictError(f"bot {bot_id} is running: stop it before deleting it")
            run = self._runs.get(bot_id)
            if run is not None:
                run.request_stop("deleted")
                await self._ended(run)
            self._bots.delete(bot_id)
            self._audit.append(
                AuditEntry(at=self._clock(), kind="bot.deleted", bot_id=bot_id, reason=bot.name)
            )
            self._locks.pop(bot_id, None)

    async def set_allocation(self, bot_id: BotId, allocation: Decimal) -> Bot:
        """Give the bot a new share of capital in [0, 1] (recorded; it moves no cash)."""
        checked = checked_allocation(allocation)
        bot = self.bot(bot_id)
        now = self._clock()
        updated = self._bots.set_allocation(bot_id, checked, at=max(now, bot.created_at))
        self._audit.append(
            AuditEntry(
                at=now,
                kind="bot.allocation",
                bot_id=bot_id,
                reason=f"allocation {bot.allocation} -> {checked}",
                payload={"previous": str(bot.allocation), "allocation": str(checked)},
            )
        )
        return updated

    async def wait_stopped(self, bot_id: BotId) -> None:
        """Wait until the bot's node (if any) has ended."""
        run = self._runs.get(bot_id)
        if run is not None:
            await self._ended(run)

    # -- orders ----------------------------------------------------------------------------

    async def cancel_order(self, order_id: OrderId) -> Order:
        """Ask the OMS of the running bot that holds the order to cancel it; returns the
        order as the OMS holds it afterwards (a fill may have won the race).

        Raises:
            ControlConflictError: the order is finished, or no running bot holds it.
            ControlError: the broker did not answer (the order stays cancel_requested).
        """
        for run in self._runs.values():
            oms = run.node.oms
            order = oms.order(order_id) if oms is not None and not run.ending else None
            if oms is None or order is None:
                continue
            if order.is_terminal:
                raise ControlConflictError(
                    f"order {order_id} is {order.status.value}: there is nothing to cancel"
                )
            try:
                return await oms.cancel(order_id, reason="cancel requested by a user")
            except OrchestradeError as error:
                raise ControlError(f"order {order_id}: the cancel failed: {error}") from error
        raise ControlConflictError(f"no running bot holds order {order_id!r}")

    # -- agents ----------------------------------------------------------------------------

    def agents(self) -> Sequence[AgentInfo]:
        """Every agent of every bot whose node runs, by bot then start order."""
        infos: list[AgentInfo] = []
        for bot_id, run in self._runs.items():
            for name, agent in _agents_of(run.node).items():
                infos.append(_agent_info(bot_id, name, agent, run.node))
        return infos

    async def restart_agent(self, bot_id: BotId, name: str) -> AgentInfo:
        """Restart one agent of a running bot (through its health monitor, which then
        judges it afresh); `AgentRestarted` goes on the stream.

        Raises:
            UnknownBotError: no such bot.
            ControlConflictError: the bot's node is not running.
            ControlError: no such agent, or the data agent (it drives the node's clock), or
                the agent did not start again.
        """
        self.bot(bot_id)
        run = self._runs.get(bot_id)
        if run is None or run.ending:
            raise ControlConflictError(f"bot {bot_id} is not running: its agents are not either")
        node = run.node
        agents = _agents_of(node)
        agent = agents.get(name)
        if agent is None:
            raise ControlError(
                f"bot {bot_id} has no agent {name!r}{closest(name, list(agents))} "
                f"(agents: {', '.join(agents)})"
            )
        if agent is node.data:
            raise ControlError(
                "the data agent drives the node's clock and is not restarted by hand: "
                "stop and start the bot instead"
            )
        reason = "restarted on request"
        monitor = node.monitor
        try:
            if monitor is not None and agent.agent_id in monitor.watched:
                await monitor.restart_now(agent.agent_id, reason=reason)
            else:
                await agent.restart()
                await node.bus.publish(
                    AgentRestarted(
                        agent.agent_id, self._clock(), max(agent.starts - 1, 1), 0.0, reason
                    ),
                    sender=SUPERVISOR_GROUP,
                )
        except OrchestradeError as error:
            raise ControlError(
                f"agent {name} of bot {bot_id} did not start again: {error}"
            ) from error
        return _agent_info(bot_id, name, agent, node)

    # -- rules and risk --------------------------------------------------------------------

    def rules(self) -> Sequence[RuleInfo]:
        """The rules in force, in evaluation order (priority, then the order added)."""
        return [rule_info(rule) for rule in self._engine.rules]

    async def add_rule(self, document: Mapping[str, Any]) -> RuleInfo:
        """Add one rule, written as in the rule files, to every node and the new ones.

        Raises:
            ControlError: the rule is invalid (the message starts with the bad field).
            ControlConflictError: a rule of that name exists.
        """
        try:
            rule = rule_from_document(document, parameters=set(self._engine.parameters))
        except RuleError as error:
            raise ControlError(str(error)) from None
        if rule.name in {known.name for known in self._engine.rules}:
            raise ControlConflictError(f"a rule named {rule.name!r} already exists")
        try:
            self._engine.add(rule)
        except RuleError as error:
            raise ControlError(str(error)) from None
        for run in self._runs.values():
            run.engine.add(rule)
        info = rule_info(rule)
        self._audit.append(
            AuditEntry(
                at=self._clock(),
                kind="rule.added",
                reason=rule.name,
                payload={"rule": _rule_payload(info)},
            )
        )
        return info

    async def set_rule_enabled(self, name: str, enabled: bool) -> RuleInfo:
        """Enable or disable the rule `name` everywhere (ControlError: no such rule)."""
        if not isinstance(enabled, bool):
            raise ControlError(f"enabled: must be true or false, got {enabled!r}")
        for engine in (self._engine, *(run.engine for run in self._runs.values())):
            try:
                if enabled:
                    engine.enable(name)
                else:
                    engine.disable(name)
            except RuleError as error:
                raise ControlError(str(error)) from None
        self._audit.append(
            AuditEntry(
                at=self._clock(),
                kind="rule.enabled" if enabled else "rule.disabled",
                reason=name,
            )
        )
        return rule_info(self._engine.rule(name))

    def risk_limits(self) -> Mapping[str, Any]:
        """The risk limits in force (the `RiskSettings` fields)."""
        return self._risk.model_dump()

    async def update_risk_limits(self, changes: Mapping[str, Any]) -> Mapping[str, Any]:
        """Put changed limits in force in every node's risk engine and rules at once, and
        for the nodes started later; returns all the limits.

        Raises:
            ControlError: a field is unknown or out of range (named); nothing changes.
        """
        if not isinstance(changes, Mapping):
            raise ControlError(f"risk limits are a mapping of field: value, got {changes!r}")
        try:
            risk = RiskSettings.model_validate({**self._risk.model_dump(), **changes})
        except PydanticValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                for item in error.errors()
            )
            raise ControlError(problems) from None
        parameters = rule_parameters(self._rules_settings, risk)
        self._engine.set_parameters(parameters)
        self._risk = risk
        for run in self._runs.values():
            run.engine.set_parameters(parameters)
            agent = run.node.agents.get("risk")
            if isinstance(agent, RiskAgent):
                agent.engine.update_risk_params(**risk.model_dump())
        now = self._clock()
        limits = risk.model_dump_json()
        self.hub.record(RiskLimitsChanged(now, "control", limits), bot_id=None, at=now)
        self._audit.append(
            AuditEntry(
                at=now,
                kind="risk.limits",
                reason=", ".join(f"{key}={value}" for key, value in sorted(changes.items())),
                payload={"limits": risk.model_dump(mode="json")},
            )
        )
        return risk.model_dump()

    # -- the live stream and its numbers ---------------------------------------------------

    def events_after(self, event_id: int, *, limit: int = 1000) -> Sequence[StreamEvent]:
        """The buffered events after `event_id`, oldest first (see `EventHub`)."""
        return self.hub.events_after(event_id, limit=limit)

    async def wait_for_event(self, after_id: int, timeout_s: float) -> bool:
        """Wait until an event after `after_id` exists (True) or `timeout_s` passes."""
        return await self.hub.wait_for_event(after_id, timeout_s)

    @property
    def stream_counts(self) -> StreamCounts:
        """Orders, fills, rejections and restarts the hub has counted (for the metrics)."""
        return self.hub.counts

    @property
    def stream_dropped(self) -> int:
        """Events the hub dropped because its queues were full."""
        return self.hub.dropped

    def queue_depths(self) -> dict[tuple[str, str], int]:
        """Messages waiting on each running node's bus, by (bot id, consumer group)."""
        depths: dict[tuple[str, str], int] = {}
        for bot_id, run in list(self._runs.items()):  # a copy: /metrics reads from a thread
            bus = run.node.bus
            if isinstance(bus, InMemoryBus):
                for group, depth in bus.queue_depths().items():
                    depths[(bot_id, group)] = depth
        return depths

    # -- process lifecycle -----------------------------------------------------------------

    async def resume(self) -> list[BotId]:
        """Start the stored bots marked running that a supervisor created (after a restart
        of the process); returns their ids. One that cannot start is logged and stopped."""
        resumed: list[BotId] = []
        for bot in self._bots.list(state=BotState.RUNNING):
            if self._recorded_settings(bot.bot_id) is None:
                log.info(
                    "bot %s is marked running but no supervisor created it: left alone", bot.bot_id
                )
                continue
            try:
                await self.start_bot(bot.bot_id)
            except ControlError as error:
                log.error("bot %s could not resume: %s", bot.bot_id, error)
                continue
            resumed.append(bot.bot_id)
        return resumed

    async def close(self) -> None:
        """Stop every node cleanly; stored states stay (running bots resume next time)."""
        self._closing = True
        runs = list(self._runs.values())
        for run in runs:
            run.shutdown = True
            run.request_stop("process stopping")
        for run in runs:
            await self._ended(run)
        if self._rule_bridge is not None:
            logging.getLogger(RULE_LOGGER).removeHandler(self._rule_bridge)
            self._rule_bridge = None

    # -- internals -------------------------------------------------------------------------

    def _lock(self, bot_id: BotId) -> asyncio.Lock:
        return self._locks.setdefault(bot_id, asyncio.Lock())

    def _recorded_settings(self, bot_id: BotId) -> RunSettings | None:
        page = self._audit.query(bot_id=bot_id, kind=RUN_SETTINGS_KIND, newest_first=True, limit=1)
        if not page.records:
            return None
        run = page.records[0].entry.payload.get("run")
        return RunSettings.from_payload(run) if isinstance(run, Mapping) else None

    async def _launch(self, bot: Bot) -> None:
        """Build the bot's node, start it as a task, and wait until it runs (or failed)."""
        if self._closing:
            raise ControlConflictError("the process is stopping: no bot starts now")
        bot_id = bot.bot_id
        settings = self.run_settings(bot_id)
        try:
            backtest = await asyncio.to_thread(
                bot_backtest,
                bot,
                settings,
                self._store,
                risk=self._risk,
                rules=self._rules_settings,
            )
            engine = RuleEngine(self._engine.rules, parameters=self._engine.parameters)
            broker_path = self.home / "paper" / f"{bot_id}.db"
            broker_path.parent.mkdir(parents=True, exist_ok=True)
            # On Redis the bot's agents may also run in other processes (`orchestrade agent
            # run`); the consumer name is this process's own.
            bus = await open_bus(
                self._bus_url, namespace=bot_id, name=f"node-{bot_id}-{uuid.uuid4().hex[:8]}"
            )
            node = TradingNode(
                backtest,
                params=thaw(bot.params),
                database_url=self._database_url,
                broker_path=broker_path,
                bot_id=bot_id,
                bus=bus,
                mode=settings.mode,
                speed=settings.speed,
                interval_s=settings.interval_s,
                rules=engine,
                notifier=self._notifier,
                notify_rules=False,
            )
        except ControlError:
            raise
        except (OrchestradeError, OSError) as error:
            raise ControlError(f"bot {bot_id} cannot run: {error}") from error
        run = _Run(bot_id, node, engine, asyncio.get_running_loop().create_future())
        await self.hub.attach(node.bus, bot_id)
        await node.bus.subscribe(BotStateChanged, self._state_watcher(run), group=SUPERVISOR_GROUP)
        self._change_state(bot, BotState.RUNNING, f"started ({settings.mode})")
        self._runs[bot_id] = run
        run.task = asyncio.get_running_loop().create_task(self._run(run), name=f"bot-{bot_id}")
        if self._heap is not None:
            # A done callback runs after the task let go of its frame (and so of the node).
            heap = self._heap
            run.task.add_done_callback(lambda _task: heap.node_ended())
        try:
            await asyncio.shield(run.started)
        except Exception as error:
            raise ControlError(
                f"bot {bot_id} did not start: {type(error).__name__}: {error}"
            ) from error

    def _state_watcher(self, run: _Run) -> Callable[[Envelope], Any]:
        """A handler that ends the node when its orchestrator stops the bot (a rule did)."""

        async def on_state(envelope: Envelope) -> None:
            event = envelope.payload
            if isinstance(event, BotStateChanged) and event.state is BotState.STOPPED:
                run.request_stop(event.reason or "stopped")

        return on_state

    async def _run(self, run: _Run) -> None:
        """The node's task: start, wait for the end of its bars or a stop, stop, record."""
        node = run.node
        failure: BaseException | None = None
        completed = False
        try:
            await node.start()
            run.started.set_result(None)
            if self._heap is not None:
                self._heap.node_started()
            await self._until_done(run)
            data = node.data
            completed = data is not None and data.completed and not run.ending
            if data is not None and data.failure is not None:
                failure = data.failure
        except Exception as error:
            # Boundary: a crashed node must leave its bot stopped with the reason, not vanish.
            log.exception("bot %s: its node crashed", run.bot_id)
            failure = error
        finally:
            try:
                await node.stop()
            except Exception as error:
                log.exception("bot %s: its node did not stop cleanly", run.bot_id)
                failure = failure or error
            if not run.started.done():
                run.started.set_exception(failure or ControlError("the node did not start"))
            self.hub.detach(run.bot_id)
            self._finish(run, completed=completed, failure=failure)
            if self._runs.get(run.bot_id) is run:
                del self._runs[run.bot_id]

    async def _until_done(self, run: _Run) -> None:
        data = run.node.data
        if data is None:
            await run.stop_requested.wait()
            return
        finished = asyncio.ensure_future(data.finished.wait())
        stopping = asyncio.ensure_future(run.stop_requested.wait())
        try:
            await asyncio.wait({finished, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not finished.done():
                # Let the slice in progress finish; the node is crash-safe past the grace.
                await asyncio.wait({finished}, timeout=self.stop_grace_s)
        finally:
            finished.cancel()
            stopping.cancel()

    def _finish(self, run: _Run, *, completed: bool, failure: BaseException | None) -> None:
        """Leave the bot stopped with the reason its node ended (unless the process stops)."""
        if run.shutdown:
            return
        bot = self._bots.get(run.bot_id)
        if bot is None:
            return
        if failure is not None:
            reason = f"crashed: {type(failure).__name__}: {failure}"
        elif completed:
            data = run.node.data
            slices = data.slices_sent if data is not None else 0
            reason = f"its stored bars ran out after {slices} slices"
        else:
            reason = run.reason or "stopped"
        if bot.state is not BotState.STOPPED:
            self._change_state(bot, BotState.STOPPED, reason)
        elif failure is not None:
            log.error("bot %s (stopped) ended with a failure: %s", run.bot_id, reason)
        log.info("bot %s: node ended (%s)", run.bot_id, reason)

    def _change_state(self, bot: Bot, state: BotState, reason: str) -> None:
        """Store the bot's new state; the change goes on the stream and in the audit log."""
        if bot.state is state:
            log.info("bot %s stays %s: %s", bot.bot_id, state.value, reason)
            return
        now = max(self._clock(), bot.updated_at or bot.created_at)
        self._bots.set_state(bot.bot_id, state, at=now)
        event = BotStateChanged(bot.bot_id, now, bot.state, state, reason)
        self.hub.record(event, bot_id=bot.bot_id, at=now)
        self._audit.append_event(event, at=now)

    async def _ended(self, run: _Run) -> None:
        if run.task is not None:
            await asyncio.shield(run.task)


def _orchestrator(run: _Run) -> Orchestrator:
    agent = run.node.agents.get("orchestrator")
    if not isinstance(agent, Orchestrator):
        raise ControlError(f"bot {run.bot_id}: its orchestrator runs in another process")
    return agent


def _agents_of(node: TradingNode) -> dict[str, Agent]:
    """The node's agents by name, in start order, with the system agent and the monitor."""
    agents: dict[str, Agent] = dict(node.agents)
    if node.system is not None:
        agents["system"] = node.system
    if node.monitor is not None:
        agents["health-monitor"] = node.monitor
    return agents


def _agent_info(bot_id: BotId, name: str, agent: Agent, node: TradingNode) -> AgentInfo:
    status = agent.status.value
    last = agent.last_heartbeat_at
    monitor = node.monitor
    if monitor is not None and agent.agent_id in monitor.watched:
        health = monitor.health(agent.agent_id)
        if health is not AgentHealth.HEALTHY:
            status = health.value
        last = monitor.last_heartbeat(agent.agent_id) or last
    return AgentInfo(
        bot_id=bot_id,
        name=name,
        agent_id=agent.agent_id,
        status=status,
        last_heartbeat=last,
        restarts=max(agent.starts - 1, 0),
    )


def _rule_payload(info: RuleInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "description": info.description,
        "priority": info.priority,
        "event": info.event,
        "action": info.action,
        "enabled": info.enabled,
        "when": dict(info.when),
        "params": dict(info.params),
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)
