"""`orchestrade replay`: stored bars through the whole agent stack, against the paper broker.

It takes the backtest's strategy, data, cost and account options (the same `Backtest` is
built from them) and runs the bars as events through the agents. Each run is a bot with its
own paper-broker state (``$ORCHESTRADE_HOME/paper/BOT.db``) and its orders in the database;
running again with ``--bot-id`` of a run that was interrupted resumes it without sending any
order twice.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

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
from orchestrade.settings import Settings


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
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL for orders and fills.")
    ] = None,
    bot_id: Annotated[
        str | None,
        typer.Option(
            "--bot-id",
            help="The bot's id; give an earlier run's id to resume it (default: a new bot).",
        ),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results JSON.")] = None,
) -> None:
    """Replay stored bars through the agents (data, strategy, rules, risk, OMS, portfolio)."""
    engine = make_backtest(
        strategy,
        data=data,
        symbols=symbols,
        start=start,
        end=end,
        timeframe=timeframe,
        cash=cash,
        fee=fee,
        fee_min=fee_min,
        tax=tax,
        slippage=slippage,
        participation=None,
        latency=0,
        mode=mode,
        fill=fill,
        min_confidence=min_confidence,
        risk=risk,
        market=market,
    )
    settings = Settings()
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    from orchestrade.orchestration.runtime import replay as run_replay  # heavy: only when used

    bot = bot_id or f"replay-{uuid.uuid4().hex[:8]}"
    if not bot.replace("-", "").replace("_", "").isalnum():
        raise typer.BadParameter(f"--bot-id must be letters, digits, - and _, got {bot!r}")
    state = home / "paper" / f"{bot}.db"
    state.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"bot {bot}; paper broker state {state}")
    outcome = run_replay(
        engine,
        params=parse_params(params),
        database_url=db or settings.database_url,
        broker_path=state,
        bot_id=bot,
        speed=_speed(speed),
    )
    console.print(result_table(outcome.result, f"{engine.strategy_name} (replay)"))
    console.print(
        f"replayed {outcome.bars:,} bars in {outcome.seconds:.2f} s "
        f"({outcome.bars_per_second:,.0f} bars/s)"
    )
    if json_out is not None:
        console.print(f"results JSON: {outcome.result.to_json(json_out)}")


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
