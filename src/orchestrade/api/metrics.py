"""Prometheus metrics of the API: requests by route and status, their latency, logins, the
live stream's clients and frames, and (with a trading node) what its bots do.

Each app has its own `CollectorRegistry` (tests build many apps; the process-wide default
registry would refuse the second). Other parts of the system register their metrics on
`ApiMetrics.registry` so that `/metrics` shows them all.

The trading numbers (orders submitted, fills, risk rejections by check, agent restarts, bus
queue depths) are read at scrape time from the source `watch_trading` was given, the
supervisor's event hub, which counts them as they pass on the bots' buses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol, runtime_checkable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrade.orchestration.event_hub import StreamCounts

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

        self.stream_clients = Gauge(
            "orchestrade_stream_clients",
            "WebSocket clients of /api/v1/stream connected now.",
            registry=self.registry,
        )
        self.stream_frames = Counter(
            "orchestrade_stream_frames",
            "Event frames sent to stream clients.",
            registry=self.registry,
        )
        self.stream_missed = Counter(
            "orchestrade_stream_missed_events",
            "Events stream clients missed: they fell further behind than the buffer keeps.",
            registry=self.registry,
        )

    def watch_trading(self, source: object) -> bool:
        """Report the trading numbers of `source` (a `TradingStats`, e.g. the bot supervisor)
        from now on; False when it has none to give (a control without an event hub)."""
        if not isinstance(source, TradingStats):
            return False
        self.registry.register(TradingCollector(source))
        return True

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


@runtime_checkable
class TradingStats(Protocol):
    """What the trading metrics are read from (`BotSupervisor` has it)."""

    @property
    def stream_counts(self) -> StreamCounts:
        """Orders submitted, fills, rejections and restarts counted so far."""
        ...

    @property
    def stream_dropped(self) -> int:
        """Events the event hub dropped because its queues were full."""
        ...

    def queue_depths(self) -> Mapping[tuple[str, str], int]:
        """Messages waiting on each running bot's bus, by (bot id, consumer group)."""
        ...


class TradingCollector(Collector):
    """The bots' numbers at scrape time (the route runs in a worker thread: every counter
    is copied in one step before it is read)."""

    def __init__(self, source: TradingStats) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        counts = self.source.stream_counts
        submitted = CounterMetricFamily(
            "orchestrade_orders_submitted",
            "Orders the bots' OMS sent to the broker (OrderSubmitted), by bot.",
            labels=["bot_id"],
        )
        for bot_id, value in sorted(dict(counts.orders_submitted).items()):
            submitted.add_metric([bot_id], value)
        yield submitted
        fills = CounterMetricFamily(
            "orchestrade_fills",
            "Fills the bots received (OrderFilled, each fill once), by bot.",
            labels=["bot_id"],
        )
        for bot_id, value in sorted(dict(counts.fills).items()):
            fills.add_metric([bot_id], value)
        yield fills
        rejections = CounterMetricFamily(
            "orchestrade_risk_rejections",
            "Orders the risk engine refused (RiskRejected), by bot and check.",
            labels=["bot_id", "check"],
        )
        for (bot_id, check), value in sorted(dict(counts.rejections).items()):
            rejections.add_metric([bot_id, check], value)
        yield rejections
        restarts = CounterMetricFamily(
            "orchestrade_agent_restarts",
            "Agents restarted by their health monitor or by hand (AgentRestarted).",
            labels=["bot_id", "agent"],
        )
        for (bot_id, agent), value in sorted(dict(counts.agent_restarts).items()):
            restarts.add_metric([bot_id, agent], value)
        yield restarts
        events = CounterMetricFamily(
            "orchestrade_stream_events",
            "Events the event hub numbered for the live stream, by type.",
            labels=["type"],
        )
        for type_name, value in sorted(dict(counts.events).items()):
            events.add_metric([type_name], value)
        yield events
        yield CounterMetricFamily(
            "orchestrade_stream_dropped_events",
            "Events the event hub dropped because its queues on a bus were full.",
            value=self.source.stream_dropped,
        )
        depths = GaugeMetricFamily(
            "orchestrade_bus_queue_depth",
            "Messages waiting for each consumer group on each running bot's bus.",
            labels=["bot_id", "consumer"],
        )
        for (bot_id, consumer), depth in sorted(self.source.queue_depths().items()):
            depths.add_metric([bot_id, consumer], depth)
        yield depths
