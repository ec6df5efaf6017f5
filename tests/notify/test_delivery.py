"""Background delivery: retries with exponential backoff on network errors, 5xx and 429
(honouring Retry-After), none on other 4xx; bounded queues; notify never blocks; close
drains; secrets never reach a log line."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest

from notify.builders import TOKEN, T, anomaly, telegram, webhook
from notify.conftest import RecordingSleep
from notify.local_server import LocalHttpServer, Reply
from orchestrade.notify import (
    DeliverySettings,
    Dispatcher,
    Notification,
    Overflow,
    notification_of,
)
from orchestrade.notify.delivery import retry_after_s
from orchestrade.notify.messages import rule_notification

pytestmark = pytest.mark.anyio

SEND = f"/bot{TOKEN}/sendMessage"


def note(text: str = "x") -> Notification:
    return rule_notification("r", text, T)


def texts(server: LocalHttpServer) -> list[str]:
    return [request.json()["text"] for request in server.requests]


async def test_a_500_is_retried_with_exponential_backoff_until_it_is_sent(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    server.script(SEND, Reply(500, "oops"), Reply(502, "bad gateway"))
    settings = DeliverySettings(backoff_initial_s=1.0, backoff_multiplier=2.0)

    async with Dispatcher([telegram(server.url)], settings, sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("ops", note())

    assert (result.sent, result.attempts, result.status) == (True, 3, 200)
    assert sleep.delays == [1.0, 2.0]
    assert len(server.requests) == 3
    assert server.requests[0].body == server.requests[2].body
    counters = dispatcher.counters["ops"]
    assert (counters.sent, counters.failed, counters.retried) == (1, 0, 2)


async def test_backoff_is_capped_and_gives_up_after_max_attempts(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    server.script(SEND, *[Reply(503, "down")] * 6)
    settings = DeliverySettings(max_attempts=5, backoff_initial_s=1.5, backoff_max_s=5.0)

    async with Dispatcher([telegram(server.url)], settings, sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("ops", note())

    # 1.5, 3, 6 -> capped at 5, 12 -> capped at 5
    assert sleep.delays == [1.5, 3.0, 5.0, 5.0]
    assert (result.sent, result.attempts, result.status) == (False, 5, 503)
    assert result.error == "HTTP 503: down"
    assert len(server.requests) == 5
    counters = dispatcher.counters["ops"]
    assert (counters.sent, counters.failed, counters.retried) == (0, 1, 4)


async def test_a_429_waits_as_long_as_its_retry_after_says(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    server.script(
        SEND, Reply(429, "{}", {"Retry-After": "7"}), Reply(429, "{}", {"Retry-After": "0"})
    )

    async with Dispatcher([telegram(server.url)], sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("ops", note())

    assert result.sent
    assert sleep.delays == [7.0, 0.0]  # not the backoff's 1 and 2


async def test_telegrams_retry_after_in_the_body_is_honoured_too(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    body = '{"ok": false, "error_code": 429, "parameters": {"retry_after": 35}}'
    server.script(SEND, Reply(429, body))

    async with Dispatcher([telegram(server.url)], sleep=sleep) as dispatcher:
        await dispatcher.deliver("ops", note())

    assert sleep.delays == [35.0]


async def test_a_retry_after_beyond_the_cap_waits_the_cap(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    server.script(SEND, Reply(429, "{}", {"Retry-After": "3600"}))
    settings = DeliverySettings(max_retry_after_s=120.0)

    async with Dispatcher([telegram(server.url)], settings, sleep=sleep) as dispatcher:
        await dispatcher.deliver("ops", note())

    assert sleep.delays == [120.0]


def test_retry_after_reads_seconds_an_http_date_or_telegrams_body() -> None:
    later = format_datetime(T + timedelta(seconds=90), usegmt=True)

    def answer(headers: dict[str, str], body: str = "{}") -> httpx.Response:
        return httpx.Response(429, headers=headers, text=body)

    assert retry_after_s(answer({"Retry-After": "12"}), T) == 12.0
    assert retry_after_s(answer({"Retry-After": later}), T) == 90.0
    assert retry_after_s(answer({"Retry-After": later}), T + timedelta(seconds=100)) == 0.0
    assert retry_after_s(answer({"Retry-After": "soon"}), T) is None
    assert retry_after_s(answer({}, '{"parameters": {"retry_after": 4}}'), T) == 4.0
    assert retry_after_s(answer({}, "not json"), T) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_other_4xx_answers_are_not_retried(
    server: LocalHttpServer, sleep: RecordingSleep, status: int
) -> None:
    server.script(
        SEND, Reply(status, '{"ok": false, "description": "Bad Request: chat not found"}')
    )

    async with Dispatcher([telegram(server.url)], sleep=sleep) as dispatcher:
        result = await dispatcher.deliver("ops", note())

    assert (result.sent, result.attempts, result.status) == (False, 1, status)
    assert (
        result.error
        == f'HTTP {status}: {{"ok": false, "description": "Bad Request: chat not found"}}'
    )
    assert sleep.delays == []
    assert len(server.requests) == 1
    counters = dispatcher.counters["ops"]
    assert (counters.failed, counters.retried) == (1, 0)


async def test_a_refused_connection_is_retried_then_counted_as_failed(
    sleep: RecordingSleep,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = DeliverySettings(max_attempts=3)

    async with Dispatcher([telegram(f"http://127.0.0.1:{port}")], settings, sleep=sleep) as d:
        result = await d.deliver("ops", note())

    assert (result.sent, result.attempts, result.status) == (False, 3, None)
    assert result.error.startswith("ConnectError")
    assert sleep.delays == [1.0, 2.0]
    assert (d.counters["ops"].failed, d.counters["ops"].retried) == (1, 2)


async def test_submitted_notifications_are_sent_in_order_by_the_channels_worker(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    dispatcher = Dispatcher([telegram(server.url)], sleep=sleep)
    await dispatcher.start()
    for text in ("one", "two", "three"):
        assert dispatcher.submit("ops", note(text))

    await dispatcher.close(timeout_s=30)

    assert texts(server) == [f"[HIGH] rule r: {t}" for t in ("one", "two", "three")]
    counters = dispatcher.counters["ops"]
    assert (counters.submitted, counters.sent, counters.dropped) == (3, 3, 0)


@pytest.mark.parametrize(
    ("overflow", "kept"),
    [(Overflow.DROP_OLDEST, ["3", "4"]), (Overflow.DROP_NEWEST, ["1", "2"])],
)
async def test_a_full_queue_drops_by_its_policy_and_counts_it(
    server: LocalHttpServer, sleep: RecordingSleep, overflow: Overflow, kept: list[str]
) -> None:
    settings = DeliverySettings(queue_size=2, overflow=overflow)
    dispatcher = Dispatcher([telegram(server.url)], settings, sleep=sleep)
    accepted = [dispatcher.submit("ops", note(text)) for text in ("1", "2", "3", "4")]

    await dispatcher.start()  # only now is anything sent: the queue held 2 of the 4
    await dispatcher.close(timeout_s=30)

    assert texts(server) == [f"[HIGH] rule r: {t}" for t in kept]
    expected = (
        [True, True, True, True] if overflow is Overflow.DROP_OLDEST else [True, True, False, False]
    )
    assert accepted == expected
    counters = dispatcher.counters["ops"]
    assert (counters.sent, counters.dropped) == (2, 2)


async def test_notify_returns_while_the_service_hangs_and_close_drops_what_is_left(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    server.script(SEND, Reply(hang=True))
    dispatcher = Dispatcher([telegram(server.url)], sleep=sleep)
    await dispatcher.start()

    # submit is a plain function: it cannot wait for the network, only queue.
    assert dispatcher.submit("ops", note("first"))
    assert server.requests == []  # nothing was sent while it ran
    assert await asyncio.to_thread(server.wait_for, 1)  # the worker's request hangs now
    for text in ("second", "third"):
        assert dispatcher.submit("ops", note(text))
    assert dispatcher.pending("ops") == 3

    await dispatcher.close(timeout_s=0.05)

    counters = dispatcher.counters["ops"]
    assert (counters.submitted, counters.sent, counters.dropped) == (3, 0, 3)
    assert len(server.requests) == 1
    assert not dispatcher.submit("ops", note("after close"))
    assert counters.dropped == 4


async def test_close_waits_for_a_slow_answer_within_its_timeout(
    server: LocalHttpServer, sleep: RecordingSleep
) -> None:
    server.script(SEND, Reply(hang=True))
    dispatcher = Dispatcher([telegram(server.url)], sleep=sleep)
    await dispatcher.start()
    dispatcher.submit("ops", note("slow"))
    dispatcher.submit("ops", note("next"))
    assert await asyncio.to_thread(server.wait_for, 1)

    server.release()
    await dispatcher.close(timeout_s=30)

    assert texts(server) == ["[HIGH] rule r: slow", "[HIGH] rule r: next"]
    assert dispatcher.counters["ops"].sent == 2


async def test_a_notification_the_channel_cannot_build_fails_alone(
    server: LocalHttpServer, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        name, kind, secrets = "broken", "test", ()

        def request(self, notification: Notification) -> object:
            raise RuntimeError(f"cannot build {notification.text}")

    dispatcher = Dispatcher([Broken(), telegram(server.url)], sleep=sleep)  # type: ignore[list-item]
    await dispatcher.start()
    dispatcher.submit("broken", note("a"))
    dispatcher.submit("broken", note("b"))
    dispatcher.submit("ops", note("c"))

    await dispatcher.close(timeout_s=30)

    assert dispatcher.counters["broken"].failed == 2
    assert texts(server) == ["[HIGH] rule r: c"]
    assert "cannot build [HIGH] rule r: b" in caplog.text


async def test_an_unknown_channel_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher([])

    assert not dispatcher.submit("nowhere", note())

    assert "no notification channel named nowhere" in caplog.text


async def test_secrets_never_appear_in_any_log_line(
    server: LocalHttpServer, sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    # The service echoes the secret-bearing path back; the HTTP client logs each URL.
    echo = f"no such bot: {SEND}"
    server.script(SEND, Reply(500, echo), Reply(404, echo))
    server.script("/hooks/orchestrade", Reply(400, "bad secret webhook-shared-secret-42"))
    caplog.set_level(logging.DEBUG)
    channels = [telegram(server.url), webhook(server.url)]
    notification = notification_of(anomaly(), T)
    assert notification is not None

    async with Dispatcher(channels, sleep=sleep) as dispatcher:
        telegram_result = await dispatcher.deliver("ops", notification)
        webhook_result = await dispatcher.deliver("audit", notification)

    assert len(server.requests) == 3
    assert "HTTP Request: POST" in caplog.text  # the client's lines were seen, and masked
    assert "failed after 2 attempt(s)" in caplog.text
    for secret in (TOKEN, "webhook-shared-secret-42", "/hooks/orchestrade"):
        assert secret not in caplog.text
        assert secret not in telegram_result.error + webhook_result.error
    assert telegram_result.error == "HTTP 404: no such bot: /bot***/sendMessage"
    assert webhook_result.error == "HTTP 400: bad secret ***"
