"""The `orchestrade` command: one typer app with a sub-app per area."""

from __future__ import annotations

import typer

from orchestrade.cli.data_commands import data_app
from orchestrade.cli.demo_command import demo

app = typer.Typer(
    name="orchestrade",
    help="Multi-agent algorithmic trading: data, research, backtests, paper and live trading.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.command("demo")(demo)


if __name__ == "__main__":  # pragma: no cover - `python -m orchestrade.cli.main`
    app()
