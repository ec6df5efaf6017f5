"""Prometheus metrics of the API: requests by route and status, their latency, logins.

Each app has its own `CollectorRegistry` (tests build many apps; the process-wide default
registry would refuse the second). Other parts of the system register their metrics on
`ApiMetrics.registry` so that `/metrics` shows them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "unmatched"
"""The `route` label of requests no route matched (their paths are not labels: unbounded)."""


class ApiMetrics:
    """The API's collectors on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "orchestrade_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "orchestrade_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.logins = Counter(
            "orchestrade_logins",
            "Login attempts by outcome: ok, denied (wrong credentials) or rate_limited.",
            ["outcome"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The registry in the Prometheus text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RequestMetrics:
    """ASGI middleware: time every HTTP request and count it by route template and status."""

    def __init__(
        self, app: ASGIApp, *, metrics: ApiMetrics, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()
        status = 500

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            template = getattr(scope.get("route"), "path", None)
            self.metrics.observe(
                scope["method"],
                template if isinstance(template, str) else UNMATCHED_ROUTE,
                status,
                self.clock() - started,
            )
