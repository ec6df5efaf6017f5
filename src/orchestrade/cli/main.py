"""The `orchestrade` command: one typer app with a sub-app per area."""

from __future__ import annotations

import typer

from orchestrade.cli.anomalies_command import anomalies_app
from orchestrade.cli.backtest_command import backtest
from orchestrade.cli.data_commands import data_app
from orchestrade.cli.demo_command import demo
from orchestrade.cli.notify_command import notify_app
from orchestrade.cli.optimize_command import optimize
from orchestrade.cli.rebalance_command import rebalance
from orchestrade.cli.replay_command import agent_run, paper, replay
from orchestrade.cli.serve_command import serve
from orchestrade.cli.sweep_command import sweep
from orchestrade.cli.user_commands import user_app

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
app.command("optimize")(optimize)
app.command("rebalance")(rebalance)
agent_app = typer.Typer(help="Run one agent of a bot in this process (over Redis).")
agent_app.command("run")(agent_run)
app.add_typer(agent_app, name="agent")
app.add_typer(notify_app, name="notify")
app.add_typer(anomalies_app, name="anomalies")
app.add_typer(user_app, name="user")
app.command("serve")(serve)


if __name__ == "__main__":  # pragma: no cover - `python -m orchestrade.cli.main`
    app()
