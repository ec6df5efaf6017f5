"""The dashboard end to end: a real `orchestrade serve` (live_server.py) driven in Debian's
headless Chromium through Playwright. Log in, see the equity chart drawn from the stored
snapshots, start a paper bot and see its first fill arrive over the live stream, reconnect
and resume the stream after a drop, run a backtest and read its report, and be sent back to
the login page when the token expires.

Waits poll the page with a timeout (an upper bound, never a timing assertion). Screenshots
go to tests/artifacts/dashboard/ (or $ORCHESTRADE_TEST_ARTIFACTS); the path is printed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from orchestrade.storage import PortfolioRepository, open_store

from .live_server import ADMIN, ADMIN_PASSWORD, FAST_PARAMS, LiveServer, start_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO_ROOT = Path(__file__).resolve().parents[2]
LIVE_WAIT_MS = 30_000
"""Longest wait for something the live stream brings (a fill, a state change)."""
SETTLE_MS = 2_000
"""A pause before one screenshot only (see its test); no check depends on it."""
EXPIRY_WAIT_MS = 60_000
"""Longest wait for the page to notice an expired token (the stream rechecks credentials
every few seconds, the panels refresh every 15 s)."""

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (`make test` installs Debian's chromium as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = (
        Path(os.environ.get("ORCHESTRADE_TEST_ARTIFACTS", REPO_ROOT / "tests" / "artifacts"))
        / "dashboard"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = start_server(tmp_path_factory.mktemp("dashboard-server"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    driver = playwright_sync.sync_playwright().start()
    launched = driver.chromium.launch(executable_path=str(chromium))
    yield launched
    launched.close()
    driver.stop()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab (its own sessionStorage) in UTC and en-US, so texts are predictable; the
    test fails on any uncaught script error."""
    context = browser.new_context(
        locale="en-US", timezone_id="UTC", viewport={"width": 1400, "height": 1000}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"script errors in {request.node.name}: {errors}"


def test_login_shows_the_overview_with_the_equity_chart_drawn(
    server: LiveServer, page: Any, artifacts: Path
) -> None:
    page.goto(server.base_url)
    page.get_by_label("User name").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")

    log_in(page, server)

    with open_store(server.database_url) as store:
        snapshots = PortfolioRepository(store).total_snapshots()
    assert len(snapshots) > 100, "the replay bot left no account equity snapshots"
    first, last = snapshots[0], snapshots[-1]
    chart = page.locator("#portfolio .chart")
    expect(chart).to_have_attribute("data-points", str(len(snapshots)))
    summary = page.locator("#portfolio-summary")
    expect(summary.locator("[data-figure=equity]")).to_have_text(whole(last.equity))
    expect(summary.locator("[data-figure=cash]")).to_have_text(whole(last.cash))
    expect(summary.locator("[data-figure=pnl]")).to_have_text(whole(last.equity - first.equity))
    change = (last.equity - first.equity) / first.equity
    expect(summary.locator("[data-figure=change]")).to_have_text(percent(change, signed=True))
    assert drawn_pixels(page, "#portfolio .chart canvas") > 2000, "the chart canvas is blank"
    expect(page.locator("#performance [data-figure=roi]")).not_to_have_text("—")
    expect(page.locator("#system [data-status=database]")).to_have_text("answers")
    expect(page.locator("#stream-status [data-stream]")).to_have_attribute("data-stream", "live")
    expect(page.locator("#signals tbody tr").first).to_be_visible()
    shot(page, artifacts, "01-overview-after-login")


def test_starting_a_paper_bot_shows_its_first_fill_live(
    server: LiveServer, page: Any, artifacts: Path
) -> None:
    log_in(page, server)
    page.locator("details.new-bot summary").click()
    page.locator("#bot-strategy").fill("sma_cross")
    page.locator("#bot-name").fill("paper-e2e")
    page.locator("#bot-mode").select_option("paper")
    page.locator("#bot-interval").fill("0.2")
    page.locator("#bot-params").fill(json.dumps(FAST_PARAMS))
    page.get_by_role("button", name="Create bot").click()
    row = page.locator("#bot-list tbody tr", has_text="paper-e2e")
    expect(row.locator("[data-state]")).to_have_text("paused")
    bot_id = row.get_attribute("data-key")
    assert bot_id
    assert page.locator("#fill-list tr.live").count() == 0

    row.get_by_role("button", name="Start bot paper-e2e").click()

    expect(row.locator("[data-state]")).to_have_text("running", timeout=LIVE_WAIT_MS)
    fill_row = page.locator("#fill-list tr.live").first
    expect(fill_row).to_be_visible(timeout=LIVE_WAIT_MS)
    shot(page, artifacts, "02-paper-bot-first-fill")
    cells = fill_row.locator("td").all_inner_texts()
    key = fill_row.get_attribute("data-key") or ""
    recorded = recorded_fill(server, bot_id, key.removeprefix("fill:"))
    assert cells[1:] == [
        bot_id,
        recorded["symbol"],
        recorded["side"],
        whole_or_two(recorded["quantity"]),
        whole_or_two(recorded["price"]),
    ]

    row.get_by_role("button", name="Stop bot paper-e2e").click()
    expect(row.locator("[data-state]")).to_have_text("stopped", timeout=LIVE_WAIT_MS)


def test_the_stream_reconnects_after_a_drop_and_resumes_after_the_last_event(
    server: LiveServer, page: Any
) -> None:
    """The page's side of every stream socket goes through the test (Playwright's WebSocket
    routing), which drops the first one: the page must connect again and resume."""
    sockets: list[Any] = []
    first_messages: list[dict[str, Any]] = []

    def relay(socket: Any) -> None:
        to_server = socket.connect_to_server()
        index = len(sockets)
        sockets.append(socket)

        def from_page(message: str | bytes) -> None:
            if len(first_messages) == index:
                first_messages.append(json.loads(message))
            to_server.send(message)

        socket.on_message(from_page)

    page.route_web_socket(re.compile(r"/api/v1/stream"), relay)
    log_in(page, server)
    connection = page.locator("#connection")
    expect(connection).to_have_attribute("data-stream", "live")

    sockets[0].close(code=4000, reason="dropped by the test")

    expect(connection).to_have_attribute("data-stream", "live", timeout=LIVE_WAIT_MS)
    assert len(sockets) >= 2
    assert all("token" not in socket.url for socket in sockets), "a token in a URL gets logged"
    token = first_messages[0]["token"]
    assert first_messages[0] == {"token": token}
    assert first_messages[1]["token"] == token
    assert isinstance(first_messages[1]["last_event_id"], int)
    assert first_messages[1]["last_event_id"] >= 0


def test_the_backtest_page_runs_a_job_and_shows_its_metrics_and_report(
    server: LiveServer, page: Any, artifacts: Path
) -> None:
    log_in(page, server)
    page.get_by_role("link", name="Backtests").click()
    page.get_by_label("Strategy").fill("sma_cross")
    page.get_by_label("Overrides (JSON)").fill('{"fast": 5, "slow": 20}')
    page.get_by_role("button", name="Run backtest").click()

    status = page.locator("#backtest-status")
    expect(status).to_have_attribute("data-status", "done", timeout=LIVE_WAIT_MS * 2)
    job_id = status.get_attribute("data-job")
    job = server.get(f"/backtests/{job_id}")
    assert (job["strategy"], job["params"]) == ("sma_cross", {"fast": 5, "slow": 20})
    result = server.get(f"/backtests/{job_id}/result")
    metrics = page.locator("#backtest-metrics")
    expect(metrics.locator("[data-figure=total_return]")).to_have_text(
        percent(Decimal(str(result["metrics"]["total_return"])))
    )
    expect(metrics.locator("[data-figure=trades]")).to_have_text(
        f"{int(result['metrics']['trades']):,}"
    )
    report = page.frame_locator("#backtest-report")
    expect(report.get_by_text("Backtest summary")).to_be_visible(timeout=LIVE_WAIT_MS)
    expect(report.locator(".plot-container .main-svg").first).to_be_visible(timeout=LIVE_WAIT_MS)
    # The sandboxed frame paints in a process of its own, some time after its page reports
    # the plot: let it settle before the screenshot (the checks above do not wait on it).
    page.locator("#backtest-progress").scroll_into_view_if_needed()
    page.wait_for_timeout(SETTLE_MS)
    shot(page, artifacts, "03-backtest-metrics-and-report", full_page=False)
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open the report in a new tab").click()
    tab = opened.value
    expect(tab.locator(".plot-container .main-svg").first).to_be_visible(timeout=LIVE_WAIT_MS)
    shot(tab, artifacts, "03b-backtest-report-tab")


def test_backtest_parameters_are_inputs_when_the_server_lists_its_strategies(
    server: LiveServer, page: Any
) -> None:
    """With GET /strategies (not every server has it) each parameter is a number input
    with its default and bounds; the run gets what was typed, as an int where declared."""
    strategies = [
        {
            "name": "sma_cross",
            "description": "Golden/dead cross of two moving averages.",
            "parameters": {
                "fast": {"default": 10, "min": 2, "max": 100, "type": "int"},
                "slow": {"default": 30, "min": 3, "max": 300, "type": "int"},
            },
        }
    ]

    def with_strategies(route: Any) -> None:
        answer = route.fetch()
        document = answer.json()
        document["paths"]["/api/v1/strategies"] = {"get": {"responses": {}}}
        route.fulfill(response=answer, json=document)

    page.route("**/api/v1/openapi.json", with_strategies)
    page.route("**/api/v1/strategies", lambda route: route.fulfill(json=strategies))
    log_in(page, server)
    page.get_by_role("link", name="Backtests").click()

    fast = page.get_by_label("fast")
    expect(fast).to_have_value("10")
    expect(fast).to_have_attribute("max", "100")
    expect(page.get_by_label("slow")).to_have_value("30")
    expect(page.locator("#bt-strategy-description")).to_have_text(
        "Golden/dead cross of two moving averages."
    )
    fast.fill("4")
    page.get_by_role("button", name="Run backtest").click()

    status = page.locator("#backtest-status")
    expect(status).to_have_attribute("data-status", "done", timeout=LIVE_WAIT_MS * 2)
    job = server.get(f"/backtests/{status.get_attribute('data-job')}")
    assert job["params"] == {"fast": 4, "slow": 30}


def test_a_panel_whose_route_the_server_lacks_says_not_available(
    server: LiveServer, page: Any
) -> None:
    def without_anomalies(route: Any) -> None:
        answer = route.fetch()
        document = answer.json()
        document["paths"].pop("/api/v1/anomalies")
        route.fulfill(response=answer, json=document)

    page.route("**/api/v1/openapi.json", without_anomalies)
    log_in(page, server)

    expect(page.locator("#anomalies")).to_contain_text("Not available on this server")
    expect(page.locator("#signals table")).to_be_visible()


def test_an_expired_token_sends_the_browser_back_to_login(
    server: LiveServer, page: Any, artifacts: Path
) -> None:
    page.goto(server.base_url)
    session = server.token_expiring_in(6)
    page.evaluate(
        "session => sessionStorage.setItem('orchestrade.session', JSON.stringify(session))",
        session,
    )
    page.goto(f"{server.base_url}/#/")
    expect(page.locator("#system [data-status=database]")).to_have_text("answers")

    message = page.locator("#login-message")
    expect(message).to_be_visible(timeout=EXPIRY_WAIT_MS)
    expect(message).to_contain_text("expired")
    assert page.url.endswith("#/login")
    assert page.evaluate("sessionStorage.getItem('orchestrade.session')") is None
    shot(page, artifacts, "04-expired-token-login")


def test_the_page_formats_numbers_and_times_as_hand_computed(server: LiveServer, page: Any) -> None:
    page.goto(server.base_url)
    got = page.evaluate(
        """async () => {
          const f = await import("./static/js/format.js");
          return [
            f.money("1234567.5"), f.money("-987.654"), f.money(null), f.number(0.125),
            f.ratio(0.12345), f.ratio(-0.05, { signed: true }), f.ratio(0, { signed: true }),
            f.compact(37500000), f.time("2024-05-02T09:30:05Z"), f.time("2024-05-02T00:00:00Z"),
            f.date("2024-12-31T23:59:59Z"), f.clock("2024-05-02T09:03:04Z"), f.trend("-1"),
          ];
        }"""
    )

    assert got == [
        "1,234,568",
        "-987.65",
        "—",
        "0.13",
        "12.35%",
        "-5.00%",
        "0.00%",
        "37.5M",
        "2024-05-02 09:30:05",
        "2024-05-02",
        "2024-12-31",
        "09:03:04",
        "down",
    ]


# -- helpers ---------------------------------------------------------------------------------


def log_in(page: Any, server: LiveServer) -> None:
    """Open the dashboard (unless it is open) and log in as the admin through the form;
    returns once the overview's equity panel has loaded."""
    if not page.url.startswith(server.base_url):
        page.goto(server.base_url)
    page.get_by_label("User name").fill(ADMIN)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#portfolio .chart")).to_have_attribute("data-points", re.compile(r"^\d+$"))


def whole(value: Decimal) -> str:
    """Money as the page shows amounts of 1,000 or more: whole units, half away from 0."""
    rounded = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{rounded:,}"


def whole_or_two(text: str) -> str:
    """A decimal string as the page's `money`/`number` show it (two decimals at most,
    whole units from 1,000)."""
    value = Decimal(text)
    if abs(value) >= 1000:
        return whole(value)
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:,f}"


def percent(fraction: Decimal, *, signed: bool = False) -> str:
    value = (fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{value}%"


def drawn_pixels(page: Any, selector: str) -> int:
    """How many pixels of the canvas are not transparent (the plot draws on it)."""
    count: int = page.eval_on_selector(
        selector,
        """canvas => {
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let drawn = 0;
          for (let index = 3; index < data.length; index += 4) if (data[index] > 0) drawn += 1;
          return drawn;
        }""",
    )
    return count


def recorded_fill(server: LiveServer, bot_id: str, fill_id: str) -> dict[str, Any]:
    """The fill `fill_id` of `bot_id` as the OMS recorded it (read through the API)."""
    for order in server.get("/orders", bot_id=bot_id, limit=500):
        for fill in server.get(f"/orders/{order['order_id']}")["fills"]:
            if fill["fill_id"] == fill_id:
                return dict(fill)
    raise AssertionError(f"fill {fill_id} of {bot_id} is not recorded")


def shot(page: Any, folder: Path, name: str, *, full_page: bool = True) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")  # noqa: T201 - where the artifact is (pytest -s, -rA)
