"""`orchestrade replay`, `orchestrade paper` and `orchestrade agent run`: the agent stack.

They take the backtest's strategy, data, cost and account options (the same `Backtest` is
built from them) and run the bars as events through the agents against the paper broker:
`replay` on a simulated clock, `paper` on the wall clock with one bar slice every
``--interval`` seconds. Each run is a bot with its own paper-broker state
(``$ORCHESTRADE_HOME/paper/BOT.db``) and its orders in the database; running again with the
``--bot-id`` of an interrupted run resumes it without sending any order twice. Ctrl-C stops
cleanly after the slice in progress.

With ``--bus redis://...`` agents can run in separate processes: ``orchestrade agent run
execution --bus redis://... <same options>`` in one, ``orchestrade replay --bus redis://...
--remote execution <same options>`` in another.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from orchestrade.bus.urls import BUS_URL_HELP, BusUrlError, open_bus
from orchestrade.cli.backtest_command import (
    CashOption,
    DataOption,
    EndOption,
    FeeMinOption,
    FeeOption,
    FillOption,
    MarketOption,
    MinConfidenceOption,
    ModeOption,
    ParamsOption,
    RiskOption,
    SlippageOption,
    StartOption,
    StrategyOption,
    SymbolsOption,
    TaxOption,
    TimeframeOption,
    make_backtest,
    parse_params,
    result_table,
)
from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.notify_command import notifier_from
from orchestrade.settings import Settings

if TYPE_CHECKING:
    from orchestrade.backtest.engine import Backtest
    from orchestrade.bus import Bus
    from orchestrade.domain import Tick
    from orchestrade.orchestration.runtime import NodeStatus, ReplayOutcome
    from orchestrade.portfolio.rebalancing import RebalanceSchedule

BusOption = Annotated[str, typer.Option("--bus", help=BUS_URL_HELP)]
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL for orders and fills.")]
BotIdOption = Annotated[
    str | None,
    typer.Option(
        "--bot-id", help="The bot's id; give an interrupted run's id to resume it (default: new)."
    ),
]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Write results JSON.")]
RebalanceOption = Annotated[
    str | None,
    typer.Option(
        "--rebalance",
        help="Propose new weights across the bots (or the symbols of a lone bot) weekly or "
        "monthly, through the rules; recorded, shown by `orchestrade rebalance --dry-run`.",
    ),
]
NotifyOption = Annotated[
    Path | None,
    typer.Option(
        "--notify",
        help="Notification settings (Telegram, Slack, webhooks); default "
        "ORCHESTRADE_HOME/notify.yaml when it exists.",
    ),
]
TicksOption = Annotated[
    Path | None,
    typer.Option(
        "--ticks",
        help="Replay these trade prints (CSV/Parquet: time, symbol, price, size[, side]) "
        "instead of bars: the data agent aggregates them into --timeframe bars as a live "
        "feed would (needs --market).",
    ),
]
AlsoOption = Annotated[
    list[str] | None,
    typer.Option(
        "--also",
        help="Another bot on the same bars and costs: STRATEGY or STRATEGY:k=v,k=v "
        "(repeatable); bot ids are the first bot's with -2, -3, ...",
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", help="No live status view.")]


@reports_user_errors
def replay(
    strategy: StrategyOption,
    params: ParamsOption = None,
    data: DataOption = None,
    symbols: SymbolsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    timeframe: TimeframeOption = "1d",
    cash: CashOption = 10_000_000.0,
    fee: FeeOption = 0.001,
    fee_min: FeeMinOption = 0.0,
    tax: TaxOption = None,
    slippage: SlippageOption = "0",
    mode: ModeOption = "isolated",
    fill: FillOption = "next_open",
    min_confidence: MinConfidenceOption = None,
    risk: RiskOption = None,
    market: MarketOption = None,
    speed: Annotated[str, typer.Option("--speed", help="max, or a factor of real time.")] = "max",
    ticks: TicksOption = None,
    bus: BusOption = "memory",
    remote: Annotated[
        str | None, typer.Option("--remote", help="Agents run by other processes: execution,...")
    ] = None,
    db: DbOption = None,
    bot_id: BotIdOption = None,
    also: AlsoOption = None,
    rebalance: RebalanceOption = None,
    notify: NotifyOption = None,
    json_out: JsonOption = None,
    quiet: QuietOption = False,
) -> None:
    """Replay stored bars through the agents (data, strategy, rules, risk, OMS, portfolio)."""
    options = locals().copy()
    _run_node("replay", options, speed=_speed(speed))


@reports_user_errors
def paper(
    strategy: StrategyOption,
    params: ParamsOption = None,
    data: DataOption = None,
    symbols: SymbolsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    timeframe: TimeframeOption = "1d",
    cash: CashOption = 10_000_000.0,
    fee: FeeOption = 0.001,
    fee_min: FeeMinOption = 0.0,
    tax: TaxOption = None,
    slippage: SlippageOption = "0",
    mode: ModeOption = "isolated",
    fill: FillOption = "next_open",
    min_confidence: MinConfidenceOption = None,
    risk: RiskOption = None,
    market: MarketOption = None,
    interval: Annotated[
        float, typer.Option("--interval", min=0.001, help="Seconds between two bar slices.")
    ] = 1.0,
    bus: BusOption = "memory",
    remote: Annotated[
        str | None, typer.Option("--remote", help="Agents run by other processes: execution,...")
    ] = None,
    db: DbOption = None,
    bot_id: BotIdOption = None,
    also: AlsoOption = None,
    rebalance: RebalanceOption = None,
    notify: NotifyOption = None,
    json_out: JsonOption = None,
    quiet: QuietOption = False,
) -> None:
    """Paper-trade on the wall clock: the stored bars arrive one slice every --interval s."""
    options = locals().copy()
    _run_node("paper", options, interval_s=interval)


@reports_user_errors
def agent_run(
    name: Annotated[str, typer.Argument(help="The agent: execution, risk, strategy, ...")],
    strategy: StrategyOption,
    params: ParamsOption = None,
    data: DataOption = None,
    symbols: SymbolsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    timeframe: TimeframeOption = "1d",
    cash: CashOption = 10_000_000.0,
    fee: FeeOption = 0.001,
    fee_min: FeeMinOption = 0.0,
    tax: TaxOption = None,
    slippage: SlippageOption = "0",
    mode: ModeOption = "isolated",
    fill: FillOption = "next_open",
    min_confidence: MinConfidenceOption = None,
    risk: RiskOption = None,
    market: MarketOption = None,
    bus: BusOption = "memory",
    db: DbOption = None,
    bot_id: BotIdOption = None,
) -> None:
    """Run one agent of a bot in this process, over the Redis bus, until Ctrl-C or SIGTERM."""
    from orchestrade.orchestration.runtime import AGENT_NAMES

    if name not in AGENT_NAMES or name == "data":
        raise typer.BadParameter(
            f"agent must be one of {', '.join(n for n in AGENT_NAMES if n != 'data')}, "
            f"got {name!r} (the data agent runs with `orchestrade replay --remote ...`)"
        )
    if not bus.startswith("redis"):
        raise typer.BadParameter("agent run needs --bus redis://...: agents meet on Redis")
    if bot_id is None:
        raise typer.BadParameter("agent run needs the --bot-id of the run it joins")
    options = locals().copy()
    options["remote"] = ",".join(n for n in AGENT_NAMES if n != name)
    options.update(json_out=None, quiet=True)
    _run_node("replay", options, speed="max")


def _run_node(mode: str, options: dict[str, Any], **pace: Any) -> None:
    from orchestrade.orchestration.gc_policy import replay_collection
    from orchestrade.orchestration.runtime import BotPlan, run_replay  # heavy: only when used

    prints = None
    if options.get("ticks") is not None:
        options, prints = _tick_options(options)

    def backtest_of(strategy: str) -> Backtest:
        return _make_backtest(strategy, options)

    engine = backtest_of(options["strategy"])
    settings = Settings()
    home = settings.home
    bot = options["bot_id"] or f"{mode}-{uuid.uuid4().hex[:8]}"
    if not bot.replace("-", "").replace("_", "").isalnum():
        raise typer.BadParameter(f"--bot-id must be letters, digits, - and _, got {bot!r}")
    more_bots = []
    for number, entry in enumerate(options.get("also") or [], start=2):
        name, _, params = entry.partition(":")
        if not name.strip():
            raise typer.BadParameter(f"--also needs a strategy name, got {entry!r}")
        more_bots.append(BotPlan(f"{bot}-{number}", backtest_of(name), parse_params(params)))
    state = home / "paper" / f"{bot}.db"
    state.parent.mkdir(parents=True, exist_ok=True)
    remote = [name for name in (options.get("remote") or "").split(",") if name]
    bots = ", ".join([bot, *(plan.bot_id for plan in more_bots)])
    console.print(f"{mode}: bot{'s' if more_bots else ''} {bots}; paper broker state {state}")
    quiet = bool(options.get("quiet"))

    schedule = _schedule(options.get("rebalance"))
    notifier = notifier_from(options.get("notify"), home)

    async def main() -> ReplayOutcome:
        bus = await _bus(options["bus"], bot)
        view = Live(console=console, refresh_per_second=4, transient=True)
        show = None if quiet else (lambda status: view.update(status_table(status)))
        if notifier is not None:
            await notifier.start()
        try:
            with view if show is not None else contextlib.nullcontext():
                return await run_replay(
                    engine,
                    params=parse_params(options["params"]),
                    database_url=options["db"] or settings.database_url,
                    broker_path=state,
                    bot_id=bot,
                    bus=bus,
                    mode=mode,
                    remote=remote,
                    more_bots=more_bots,
                    rebalance=schedule,
                    notifier=notifier,
                    ticks=prints,
                    on_status=show,
                    handle_signals=True,
                    **pace,
                )
        finally:
            if notifier is not None:
                await notifier.close()

    with replay_collection():
        outcome = asyncio.run(main())
    if "data" in remote:
        console.print(f"agent stopped ({_counters(outcome.counters)})")
        return
    if outcome.interrupted:
        console.print(f"stopped before the end; resume with --bot-id {bot}")
    names = {bot: engine.strategy_name, **{p.bot_id: p.backtest.strategy_name for p in more_bots}}
    for bot_id, result in outcome.results.items():
        title = f"{names[bot_id]} ({bot_id})" if more_bots else names[bot_id]
        console.print(result_table(result, title, kind=mode))
    json_out = options.get("json_out")
    if json_out is not None and outcome.result is not None:
        console.print(f"results JSON: {outcome.result.to_json(json_out)}")
    console.print(
        f"{outcome.bars:,} bars in {outcome.seconds:.2f} s "
        f"({outcome.bars_per_second:,.0f} bars/s); {_counters(outcome.counters)}"
    )


def _tick_options(options: dict[str, Any]) -> tuple[dict[str, Any], list[Tick]]:
    """The run's options with the bars of ``--ticks`` as its data, and the prints."""
    from orchestrade.data.resampling import ticks_to_bars
    from orchestrade.data.tick_files import read_tick_file, ticks_of
    from orchestrade.domain import Market

    if options.get("data") is not None:
        raise typer.BadParameter("--ticks replaces --data: give one of them")
    market = options.get("market")
    if market is None:
        raise typer.BadParameter("--ticks needs --market (krx, us or crypto) for its sessions")
    frame = read_tick_file(options["ticks"])
    columns = ["timestamp", "symbol", "price", "size"]
    bars = ticks_to_bars(frame[columns], options["timeframe"], market=Market(market))
    return {**options, "data": bars}, list(ticks_of(frame))


def _schedule(frequency: str | None) -> RebalanceSchedule | None:
    """The rebalancing schedule of ``--rebalance`` (None: no rebalancing)."""
    if frequency is None:
        return None
    from orchestrade.portfolio.rebalancing import RebalanceFrequency, RebalanceSchedule

    if frequency not in (RebalanceFrequency.WEEKLY, RebalanceFrequency.MONTHLY):
        raise typer.BadParameter(f"--rebalance must be weekly or monthly, got {frequency!r}")
    return RebalanceSchedule(RebalanceFrequency(frequency))


def _make_backtest(strategy: str, options: dict[str, Any]) -> Backtest:
    """The backtest of the run's data, cost and account options for `strategy`."""
    return make_backtest(
        strategy,
        data=options["data"],
        symbols=options["symbols"],
        start=options["start"],
        end=options["end"],
        timeframe=options["timeframe"],
        cash=options["cash"],
        fee=options["fee"],
        fee_min=options["fee_min"],
        tax=options["tax"],
        slippage=options["slippage"],
        participation=None,
        latency=0,
        mode=options["mode"],
        fill=options["fill"],
        min_confidence=options["min_confidence"],
        risk=options["risk"],
        market=options["market"],
    )


def status_table(status: NodeStatus) -> Table:
    """The live view: progress, equity, positions, agents."""
    table = Table(title=f"{status.mode} bot {status.bot_id}", show_header=False)
    table.add_row("bars", f"{status.bars:,} ({status.slices:,} slices, {status.seconds:.1f} s)")
    table.add_row("equity", f"{status.equity:,.0f} (cash {status.cash:,.0f})")
    held = ", ".join(f"{symbol} {quantity:,.0f}" for symbol, quantity in status.positions.items())
    table.add_row("positions", held or "none")
    table.add_row("agents", ", ".join(f"{n}: {s}" for n, s in status.agents.items()))
    table.add_row("decisions", _counters(status.counters))
    return table


def _counters(counters: dict[str, dict[str, int]]) -> str:
    return "; ".join(
        f"{name} " + ", ".join(f"{key} {value:,}" for key, value in sorted(values.items()))
        for name, values in counters.items()
        if values
    )


async def _bus(url: str, bot: str) -> Bus:
    try:
        return await open_bus(url, namespace=bot, name=f"node-{uuid.uuid4().hex[:8]}")
    except BusUrlError as error:
        raise typer.BadParameter(str(error)) from error


def _speed(text: str) -> float | str:
    if text == "max":
        return "max"
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise typer.BadParameter(f"--speed must be max or a number > 0, got {text!r}")
    return value
