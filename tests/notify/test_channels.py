"""Each channel's exact request, as the local stand-in for its service receives it."""

from __future__ import annotations

import pytest

from notify.builders import (
    SLACK_PATH,
    TOKEN,
    WEBHOOK_SECRET,
    T,
    anomaly,
    filled,
    slack,
    telegram,
    webhook,
)
from notify.conftest import RecordingSleep
from notify.local_server import LocalHttpServer
from orchestrade.notify import Dispatcher, Notification, notification_of
from orchestrade.notify.messages import rule_notification
from orchestrade.notify.webhook import document

pytestmark = pytest.mark.anyio

ANOMALY_TEXT = (
    "[HIGH] anomaly price_jump on 005930 (bot bot-1): 0.12 vs threshold 0.08 - "
    "price moved 12% in one bar"
)


def high_anomaly() -> Notification:
    notification = notification_of(anomaly(), T)
    assert notification is not None
    return notification


async def test_telegram_posts_chat_id_and_text_to_the_bot_token_path(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    async with Dispatcher([telegram(server.url)], sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("ops", high_anomaly())

    assert result.sent
    [request] = server.requests
    assert request.method == "POST"
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"chat_id": "-1001234567890", "text": ANOMALY_TEXT}


async def test_slack_posts_the_text_to_the_incoming_webhook_url(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    async with Dispatcher([slack(server.url)], sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("desk", high_anomaly())

    assert result.sent
    [request] = server.requests
    assert (request.method, request.path) == ("POST", SLACK_PATH)
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"text": ANOMALY_TEXT}


async def test_webhook_posts_the_event_document_with_the_secret_header(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    async with Dispatcher([webhook(server.url)], sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("audit", high_anomaly())

    assert result.sent
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/hooks/orchestrade")
    assert request.headers["x-orchestrade-secret"] == WEBHOOK_SECRET
    assert request.json() == {
        "type": "AnomalyDetected",
        "severity": "high",
        "time": "2024-01-02T09:00:00Z",
        "bot_id": "bot-1",
        "symbol": None,
        "text": ANOMALY_TEXT,
        "event": {
            "detected_at": "2024-01-02T09:00:00Z",
            "detector": "price_jump",
            "severity": "high",
            "subject": "005930",
            "value": 0.12,
            "threshold": 0.08,
            "reason": "price moved 12% in one bar",
            "bot_id": "bot-1",
        },
    }


async def test_webhook_without_a_secret_sends_no_secret_header_and_rules_an_empty_event(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    channel = webhook(server.url, secret=False)
    notification = rule_notification("stop_on_loss", "daily loss 12%", T, bot_id="bot-1")

    async with Dispatcher([channel], sleep=sleep) as dispatcher:
        await dispatcher.deliver("audit", notification)

    [request] = server.requests
    assert "x-orchestrade-secret" not in request.headers
    assert request.json() == {
        "type": "rule",
        "severity": "high",
        "time": "2024-01-02T09:00:00Z",
        "bot_id": "bot-1",
        "symbol": None,
        "text": "[HIGH] rule stop_on_loss: daily loss 12%",
        "event": {},
    }


def test_decimals_travel_as_strings_in_the_webhook_document() -> None:
    notification = notification_of(filled(), T)
    assert notification is not None

    fields = document(notification)["event"]

    assert fields["fill"]["price"] == "71200.00"
    assert fields["fill"]["fee"] == "106.80"
    assert fields["order"]["filled_quantity"] == "10"
    assert document(notification)["symbol"] == "005930"


def test_telegram_text_is_cut_to_what_telegram_accepts() -> None:
    long = Notification("rule", anomaly().severity, "x" * 5000, T)

    request = telegram("http://127.0.0.1:1").request(long)

    assert len(request.json["text"]) <= 4096


def test_a_request_repr_and_a_channel_repr_never_show_the_secret() -> None:
    channel = telegram("http://127.0.0.1:1")

    shown = repr(channel) + repr(channel.request(high_anomaly()))

    assert TOKEN not in shown
