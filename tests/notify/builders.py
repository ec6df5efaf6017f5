"""Events and channels for the notification tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pydantic import SecretStr

from fakes import buy
from orchestrade.domain import (
    AnomalyDetected,
    BotId,
    Fill,
    FillId,
    OrderFilled,
    OrderId,
    OrderStatus,
    Severity,
    Side,
    Symbol,
)
from orchestrade.notify import SlackChannel, TelegramChannel, WebhookChannel

T = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
TOKEN = "123456789:AAH-secret_token_value"
SLACK_PATH = "/services/T0001/B0002/slacksecretXYZ"
WEBHOOK_SECRET = "webhook-shared-secret-42"


def anomaly(severity: Severity = Severity.HIGH, *, bot: str | None = "bot-1") -> AnomalyDetected:
    return AnomalyDetected(
        detected_at=T,
        detector="price_jump",
        severity=severity,
        subject="005930",
        value=0.12,
        threshold=0.08,
        reason="price moved 12% in one bar",
        bot_id=None if bot is None else BotId(bot),
    )


def filled() -> OrderFilled:
    fill = Fill(
        fill_id=FillId("f-1"),
        order_id=OrderId("o-1"),
        symbol=Symbol("005930"),
        side=Side.BUY,
        quantity=Decimal(10),
        price=Decimal("71200.00"),
        filled_at=T,
        fee=Decimal("106.80"),
    )
    order = buy("o-1", 10).with_status(OrderStatus.SUBMITTED).with_fill(fill)
    return OrderFilled(order, fill)


def telegram(server_url: str, *, name: str = "ops") -> TelegramChannel:
    return TelegramChannel(name, SecretStr(TOKEN), "-1001234567890", base_url=server_url)


def slack(server_url: str, *, name: str = "desk") -> SlackChannel:
    return SlackChannel(name, SecretStr(server_url + SLACK_PATH))


def webhook(server_url: str, *, name: str = "audit", secret: bool = True) -> WebhookChannel:
    return WebhookChannel(
        name,
        SecretStr(server_url + "/hooks/orchestrade"),
        SecretStr(WEBHOOK_SECRET) if secret else None,
    )
