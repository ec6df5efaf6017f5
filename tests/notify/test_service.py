"""The notification service: events are routed by type and severity to their channels and
delivered in the background; notify never raises into the caller."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from fakes import buy
from notify.builders import SLACK_PATH, TOKEN, T, anomaly, filled, slack, telegram
from notify.conftest import RecordingSleep
from notify.local_server import LocalHttpServer
from orchestrade.agents.notifier import NotificationAgent
from orchestrade.bus import InMemoryBus
from orchestrade.domain import (
    AgentHeartbeat,
    AgentId,
    CircuitBreakerTripped,
    OrderSubmitted,
    Severity,
)
from orchestrade.notify import (
    Dispatcher,
    NotificationService,
    NotifyConfigError,
    Route,
    Routing,
    parse_notify_settings,
)

pytestmark = pytest.mark.anyio

ROUTES = Routing(
    (
        Route("ops", frozenset({"AnomalyDetected", "rule"}), Severity.HIGH),
        Route("desk", frozenset({"OrderFilled", "AnomalyDetected"})),
    )
)


def service_for(server: LocalHttpServer, sleep: RecordingSleep) -> NotificationService:
    dispatcher = Dispatcher([telegram(server.url), slack(server.url)], sleep=sleep)
    return NotificationService(ROUTES, dispatcher, clock=lambda: T)


async def test_events_reach_the_channels_their_routes_name(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    service = service_for(server, sleep)
    await service.start()

    service.notify(anomaly(Severity.HIGH))
    service.notify(anomaly(Severity.LOW))
    service.notify(filled())
    service.notify(AgentHeartbeat(AgentId("risk"), T, 3))  # routed nowhere
    service.notify_rule("stop_on_loss", "daily loss 12%", bot_id="bot-1")
    await service.close(timeout_s=30)

    telegram_texts = [r.json()["text"] for r in server.requests if r.path.startswith("/bot")]
    slack_texts = [r.json()["text"] for r in server.requests if r.path == SLACK_PATH]
    assert [text[:25] for text in telegram_texts] == [
        "[HIGH] anomaly price_jump",
        "[HIGH] rule stop_on_loss:",
    ]
    assert telegram_texts[1] == "[HIGH] rule stop_on_loss: daily loss 12%"
    assert [text[:25] for text in slack_texts] == [
        "[HIGH] anomaly price_jump",
        "[LOW] anomaly price_jump ",
        "[LOW] bot bot-1 bought 10",
    ]
    assert service.counters["ops"].sent == 2
    assert service.counters["desk"].sent == 3


async def test_the_publication_time_is_used_when_the_event_has_none(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    routes = Routing((Route("desk", frozenset({"OrderSubmitted"})),))
    dispatcher = Dispatcher([slack(server.url)], sleep=sleep)
    service = NotificationService(routes, dispatcher, clock=lambda: T)
    order = buy("o-1", 10, created_at=T - timedelta(hours=1))

    async with service:
        service.notify(OrderSubmitted(order), at=T)

    assert server.requests[0].json() == {
        "text": "[LOW] bot bot-1 order o-1 sent: buy 10 005930 market"
    }


def test_event_types_are_the_routed_bus_events_without_rule(server: LocalHttpServer) -> None:
    service = service_for(server, RecordingSleep())

    assert service.event_types == {"AnomalyDetected", "OrderFilled"}


def test_notify_never_raises_into_the_caller(
    server: LocalHttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    service = service_for(server, RecordingSleep())

    service.notify("not an event")  # type: ignore[arg-type]
    service.notify(anomaly(Severity.HIGH), at="not a time")  # type: ignore[arg-type]

    assert service.counters["ops"].submitted == 1  # the anomaly has its own time


def test_a_route_to_an_unknown_channel_is_refused(server: LocalHttpServer) -> None:
    dispatcher = Dispatcher([telegram(server.url)])

    with pytest.raises(NotifyConfigError, match=r"routes\[1\]\.channel: no channel named 'desk'"):
        NotificationService(ROUTES, dispatcher)


async def test_a_service_built_from_settings_delivers_through_the_stand_in(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    settings = parse_notify_settings(
        {
            "channels": {
                "ops": {
                    "type": "telegram",
                    "token": {"env": "TG_TOKEN"},
                    "chat_id": 42,
                    "base_url": server.url,
                }
            },
            "routes": [{"channel": "ops", "events": ["CircuitBreakerTripped"]}],
        }
    )
    service = NotificationService.from_settings(
        settings, environ={"TG_TOKEN": TOKEN}, sleep=sleep, clock=lambda: T
    )
    async with service:
        service.notify(
            CircuitBreakerTripped(T, "daily_loss", Decimal("0.12"), Decimal("0.1"), "loss")
        )

    [request] = server.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.json() == {
        "chat_id": "42",
        "text": "[CRITICAL] circuit breaker daily_loss tripped for every bot: 0.12 beyond "
        "limit 0.1 - loss",
    }


async def test_an_anomaly_published_on_the_bus_arrives_at_telegram(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    bus = InMemoryBus(name="notify-test")
    service = service_for(server, sleep)
    agent = NotificationAgent(bus, service, heartbeat_interval_s=3600)
    await bus.start()
    await service.start()
    await agent.start()

    await bus.publish(anomaly(Severity.CRITICAL))
    await bus.publish(anomaly(Severity.LOW))  # below the ops route's minimum
    await bus.stop(timeout_s=5)  # drains: both anomalies were handed to the service
    await agent.stop()
    await service.close(timeout_s=30)

    telegram_texts = [r.json()["text"] for r in server.requests if r.path.startswith("/bot")]
    assert telegram_texts == [
        "[CRITICAL] anomaly price_jump on 005930 (bot bot-1): 0.12 vs threshold 0.08 - "
        "price moved 12% in one bar"
    ]
    assert service.counters["desk"].sent == 2
