"""Serve the dashboard from the API's own process: `/` is its page, `/static/...` its files.

The dashboard is plain HTML, CSS and ES modules shipped inside the package (no build step,
no CDN), so whoever runs `orchestrade serve` has it. Its page and files are public: they
hold no data; everything they show comes from the API with the person's login token.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from orchestrade.domain import OrchestradeError

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The dashboard's files, as installed with the package."""
STATIC_PATH = "/static"
INDEX_PATH = "/"

NO_CACHE_HEADERS = {
    # Revalidate on every load (a cheap 304 when unchanged), so an upgraded server's
    # scripts are never mixed with a browser's cached old ones.
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}
PAGE_HEADERS = {
    **NO_CACHE_HEADERS,
    "Referrer-Policy": "no-referrer",
    # The page has buttons that start and stop bots: no other site may frame it.
    "X-Frame-Options": "DENY",
    # No script-src: the backtest report (plotly, inline scripts) is shown in a sandboxed
    # frame made from the page, which inherits the page's policy. The page itself builds
    # every node from text (no innerHTML), so nothing it shows can run as a script.
    "Content-Security-Policy": (
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
}


class DashboardFilesMissingError(OrchestradeError):
    """The dashboard's files are not where the package should have installed them."""


class DashboardFiles(StaticFiles):
    """The dashboard's static files, with the headers of `NO_CACHE_HEADERS`."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(NO_CACHE_HEADERS)
        return response


def mount_dashboard(app: FastAPI, directory: Path = STATIC_DIR) -> None:
    """Serve the dashboard of `directory` on `app`: its page at `/`, its files under
    `/static`. Neither appears in the OpenAPI document (they are not API operations).

    Raises:
        DashboardFilesMissingError: `directory` has no `index.html` (a broken install).
    """
    index = directory / "index.html"
    if not index.is_file():
        raise DashboardFilesMissingError(
            f"{directory}: the dashboard's files are missing (no index.html); reinstall orchestrade"
        )

    async def dashboard_page(request: Request) -> Response:
        return FileResponse(index, media_type="text/html", headers=PAGE_HEADERS)

    app.router.add_route(
        INDEX_PATH, dashboard_page, methods=["GET"], name="dashboard", include_in_schema=False
    )
    app.mount(STATIC_PATH, DashboardFiles(directory=directory), name="static")
