"""`orchestrade demo`: the main job end to end on embedded defaults, with no outside data."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.results import BacktestResult
from orchestrade.cli.backtest_command import result_table
from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.tables import quality_table
from orchestrade.data.importing import store_synthetic
from orchestrade.data.quality.targets import quality_of_store
from orchestrade.data.synthetic import synthesize_market
from orchestrade.domain import Market
from orchestrade.indicators import bbands, rsi, sma
from orchestrade.portfolio.rebalancing import RebalanceFrequency, RebalanceSchedule
from orchestrade.settings import Settings
from orchestrade.storage import LoadedBars, open_store

DEMO_MARKETS = ((Market.KRX, 12, 1), (Market.US, 8, 2))
"""(market, number of symbols, seed offset) of the synthetic demo universe."""
DEMO_STRATEGY = "sma_cross"
"""The built-in strategy the demo backtests (with the live default rules and risk limits)."""


@reports_user_errors
def demo(
    days: Annotated[int, typer.Option(min=60, help="Trading days per symbol.")] = 750,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic market.")] = 7,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (default: demo.db under ORCHESTRADE_HOME)."),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve the dashboard with a paper bot trading live (Ctrl-C stops).",
        ),
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of --serve.")] = 8000,
    serve_seconds: Annotated[float | None, typer.Option(hidden=True)] = None,
) -> None:
    """Make a synthetic market, store it, check its quality, show indicators, backtest it,
    then replay it through the agents and the paper broker (and, with --serve, open the
    dashboard on it with a live paper bot)."""
    settings = Settings()
    url = db or f"sqlite:///{settings.home / 'demo.db'}"
    console.rule("[bold]orchestrade demo")
    console.print(f"store: {url}")
    started = time.perf_counter()
    with open_store(url) as store:
        for market, count, offset in DEMO_MARKETS:
            synthetic = synthesize_market(count, days, seed + offset, market=market)
            counts = store_synthetic(synthetic, store)
            console.print(
                f"synthetic {market.value:<6} {count:>3} symbols x {days} days: "
                f"{counts.inserted:,} bars inserted, {counts.unchanged:,} already there"
            )
        for target in quality_of_store(store.bars, None, "1d"):
            console.print(quality_table(target))
        bars = store.load_bars(None, timeframe="1d")
        markets = {info.symbol: info.market for info in store.list_instruments()}
    console.print(indicator_table(bars))
    krx = [symbol for symbol in bars.panel.symbols if markets.get(symbol) is Market.KRX]
    engine = Backtest(
        bars.panel.select(krx), DEMO_STRATEGY, markets=markets, cash=10_000_000, fees=0.00015
    )
    result = engine.run()
    console.print(result_table(result, f"{DEMO_STRATEGY}, synthetic KRX"))
    report = result.to_html(settings.home / "demo_report.html", title=f"demo: {DEMO_STRATEGY}")
    console.print(f"HTML report: {report}")
    replay_through_agents(engine, result, url, settings)
    console.print(f"done in {time.perf_counter() - started:.1f} s")
    if serve:
        from orchestrade.cli.serve_command import serve_demo  # the API extra: only here

        serve_demo(url, settings, strategy=DEMO_STRATEGY, port=port, seconds=serve_seconds)


def replay_through_agents(
    engine: Backtest, result: BacktestResult, url: str, settings: Settings
) -> None:
    """Replay the backtest's bars through the agents and the paper broker; print both."""
    from orchestrade.orchestration.runtime import replay  # heavy: only here

    console.rule("[bold]replay through the agents")
    bot_id = f"demo-{uuid.uuid4().hex[:8]}"
    broker = settings.home / "paper" / f"{bot_id}.db"
    broker.parent.mkdir(parents=True, exist_ok=True)
    outcome = replay(
        engine,
        database_url=url,
        broker_path=broker,
        bot_id=bot_id,
        rebalance=RebalanceSchedule(RebalanceFrequency.MONTHLY),
    )
    replayed = outcome.require_result()
    console.print(result_table(replayed, f"{DEMO_STRATEGY} (bot {bot_id})", kind="replay"))
    same = _trade_keys(replayed) == _trade_keys(result)
    console.print(
        f"replay: {outcome.bars:,} bars through data -> strategy -> rules -> risk -> OMS -> "
        f"paper broker -> portfolio in {outcome.seconds:.2f} s "
        f"({outcome.bars_per_second:,.0f} bars/s); "
        f"trades {'identical to' if same else 'DIFFERENT from'} the backtest's; final equity "
        f"{replayed.metrics['final_equity']:,.0f} vs {result.metrics['final_equity']:,.0f}"
    )
    show_anomalies(url, outcome.counters.get("anomaly", {}))
    show_rebalances(url, bot_id, outcome.counters.get("rebalancing", {}))


def show_rebalances(url: str, bot_id: str, counts: dict[str, int]) -> None:
    """The rebalancing agent's monthly proposals of the replay (across the bot's symbol
    accounts: the demo runs one bot), the latest few."""
    from orchestrade.storage.rebalances import RebalanceRepository

    console.rule("[bold]rebalancing (monthly, max Sharpe, weights 5-40%)")
    summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
    console.print(f"proposals during the replay: {summary or 'none'}")
    with open_store(url) as store:
        records = RebalanceRepository(store).recent(limit=4, portfolio=bot_id)
    if not records:
        return
    table = Table(title="latest proposals", title_justify="left")
    for column in ("proposed", "status", "Sharpe", "volatility", "largest weights"):
        table.add_column(column)
    for record in records:
        proposal = record.proposal
        gain = proposal.sharpe_improvement
        top = sorted(proposal.proposed, key=lambda item: item.weight, reverse=True)[:3]
        table.add_row(
            f"{proposal.proposed_at:%Y-%m-%d}",
            record.status.value,
            f"{proposal.before.sharpe:.2f} -> {proposal.after.sharpe:.2f}"
            + ("" if gain is None else f" ({gain:+.0%})"),
            f"{proposal.before.volatility:.1%} -> {proposal.after.volatility:.1%}",
            ", ".join(f"{item.bot_id.split('/')[-1]} {float(item.weight):.0%}" for item in top),
        )
    console.print(table)
    console.print("reasoning of each: orchestrade rebalance --dry-run (with --db of this store)")


def show_anomalies(url: str, counts: dict[str, int]) -> None:
    """What the anomaly agent found in the replay, the latest few in full."""
    from orchestrade.storage.anomalies import AnomalyRepository

    console.rule("[bold]anomalies")
    summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
    console.print(f"found during the replay: {summary or 'none'}")
    with open_store(url) as store:
        latest = AnomalyRepository(store).recent(limit=4)
    if not latest:
        return
    table = Table(title="latest anomalies", title_justify="left")
    for column in ("bar", "severity", "detector", "subject", "reason"):
        table.add_column(column, overflow="fold")
    for item in latest:
        table.add_row(
            f"{item.detected_at:%Y-%m-%d}",
            item.severity.value,
            item.detector,
            item.subject,
            item.event.reason,
        )
    console.print(table)
    console.print("all of them: orchestrade anomalies (with --db of this store)")


def _trade_keys(result: BacktestResult) -> list[tuple[object, ...]]:
    columns = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]
    trades = result.trades.loc[:, columns].sort_values(["symbol", "entry_time"])
    return [tuple(row) for row in trades.itertuples(index=False)]


def indicator_table(bars: LoadedBars) -> Table:
    """The latest close, SMA(20), RSI(14) and Bollinger position of every symbol."""
    table = Table(title="latest indicators (daily)", title_justify="left")
    for column in ("symbol", "date", "close", "sma_20", "rsi_14", "bb %b", "reading"):
        table.add_column(
            column, justify="left" if column in {"symbol", "date", "reading"} else "right"
        )
    panel = bars.panel
    for row, symbol in enumerate(panel.symbols):
        closes = panel.close[row]
        present = ~np.isnan(closes)
        series = closes[present]
        if len(series) < 21:
            continue
        last_sma = float(sma(series, 20)[-1])
        last_rsi = float(rsi(series, 14)[-1])
        upper, _middle, lower = (float(band[-1]) for band in bbands(series, 20, 2.0))
        percent_b = (series[-1] - lower) / (upper - lower) if upper > lower else 0.5
        date = np.datetime_as_string(panel.timestamps[present][-1], unit="D")
        table.add_row(
            symbol,
            date,
            f"{series[-1]:,.2f}",
            f"{last_sma:,.2f}",
            f"{last_rsi:.1f}",
            f"{percent_b:.2f}",
            _reading(last_rsi, percent_b),
        )
    return table


def _reading(rsi_value: float, percent_b: float) -> str:
    if rsi_value < 30 or percent_b < 0:
        return "[green]oversold[/]"
    if rsi_value > 70 or percent_b > 1:
        return "[red]overbought[/]"
    return "neutral"
