"""The `orchestrade` command: one typer app with a sub-app per area."""

from __future__ import annotations

import typer

from orchestrade.cli.backtest_command import backtest
from orchestrade.cli.data_commands import data_app
from orchestrade.cli.demo_command import demo
from orchestrade.cli.replay_command import agent_run, paper, replay
from orchestrade.cli.sweep_command import sweep

app = typer.Typer(
    name="orchestrade",
    help="Multi-agent algorithmic trading: data, research, backtests, paper and live trading.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.command("demo")(demo)
app.command("backtest")(backtest)
app.command("sweep")(sweep)
app.command("replay")(replay)
app.command("paper")(paper)
agent_app = typer.Typer(help="Run one agent of a bot in this process (over Redis).")
agent_app.command("run")(agent_run)
app.add_typer(agent_app, name="agent")


if __name__ == "__main__":  # pragma: no cover - `python -m orchestrade.cli.main`
    app()
