"""`orchestrade serve`: the REST API over the store, until interrupted.

The API comes with the `api` extra; it is imported when the command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.options import DatabaseOption, open_database
from orchestrade.cli.user_commands import require_api_extra
from orchestrade.settings import Settings


@reports_user_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    db: DatabaseOption = None,
) -> None:
    """Serve the REST API (`/api/v1`, docs at `/api/v1/docs`) and `/metrics`."""
    require_api_extra()
    import uvicorn

    from orchestrade.api import API_PREFIX, create_app

    settings = Settings()
    with open_database(db) as store:
        app = create_app(store, settings.api)
        if not app.state.context.accounts.users():
            console.print(
                "[yellow]no users yet:[/] create the first admin with "
                "`orchestrade user add NAME --role admin`",
                highlight=False,
            )
        console.print(
            f"API on http://{host}:{port}{API_PREFIX} (docs: {API_PREFIX}/docs), "
            f"database {store.url}",
            highlight=False,
        )
        uvicorn.run(app, host=host, port=port, log_level="info")
