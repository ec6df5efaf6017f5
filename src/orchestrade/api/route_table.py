"""The app's routes one by one, whatever FastAPI nests them in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from starlette.routing import BaseRoute


def leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route of `routes`, the routes of included routers in their place (recent
    FastAPI keeps an included router whole instead of copying its routes into the app)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from leaf_routes(included.routes)
        else:
            yield route
