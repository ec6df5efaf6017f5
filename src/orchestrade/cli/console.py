"""Terminal output for the CLI and the boundary that turns user mistakes into clear messages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from orchestrade.domain.errors import OrchestradeError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
error_console = Console(stderr=True)
log = logging.getLogger(__name__)

USER_ERROR_EXIT_CODE = 2


def reports_user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print an `OrchestradeError` as one red line and exit 2, instead of a traceback.

    Our own error types describe what the user got wrong (a bad file, a bad option); anything
    else is a bug and keeps its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OrchestradeError as error:
            # Escaped: a message is plain text, "orchestrade[api]" must not read as markup.
            error_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
            raise typer.Exit(USER_ERROR_EXIT_CODE) from error

    return wrapper
