"""`orchestrade serve` and `orchestrade demo --serve`: real server processes answering on
a loopback port, running bots, streaming their events and resuming them after a restart."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from websockets.sync.client import connect

from orchestrade.cli.main import app

STARTUP_LIMIT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_answers_health_and_login_over_http(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'served.db'}"
    password = "served admin's long password"
    added = CliRunner().invoke(
        app,
        ["user", "add", "ada", "--role", "admin", "--db", db, "--password-stdin"],
        input=password,
    )
    assert added.exit_code == 0, added.output
    port = free_port()
    environment = {
        **os.environ,
        "ORCHESTRADE_API__JWT_SECRET": "served-test-signing-key-0123456789abcdef",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestrade.cli.main", "serve", "--port", str(port), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        health = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"{base}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "the server did not answer"
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "ada", "password": password}, timeout=5
        )
        orders = httpx.get(
            f"{base}/api/v1/orders",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            timeout=5,
        )
        anonymous = httpx.get(f"{base}/api/v1/orders", timeout=5)
        token = login.json()["access_token"]
        with connect(f"ws://127.0.0.1:{port}/api/v1/stream?token={token}") as stream:
            assert stream.response is not None
            extensions = stream.response.headers.get("Sec-WebSocket-Extensions")
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)

    assert health.json()["status"] == "ok"
    assert login.status_code == 200
    assert (orders.status_code, orders.json()) == (200, [])
    assert anonymous.status_code == 401
    assert f"API on http://127.0.0.1:{port}/api/v1" in output
    assert password not in output
    assert login.json()["access_token"] not in output
    assert "served-test-signing-key" not in output
    assert "random key" not in output
    assert "GET /api/v1/orders" not in output  # no access log unless --access-log
    assert extensions is None  # the client offered compression; off unless --ws-compression


def test_serve_refuses_a_bad_database_in_one_line() -> None:
    result = CliRunner().invoke(app, ["serve", "--db", "nonsense://"])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "error:" in result.output


@pytest.mark.parametrize(
    ("bus", "message"),
    [
        ("kafka://x", "--bus must be memory or redis://..., got 'kafka://x'"),
        ("redis://127.0.0.1:9/0", "cannot reach Redis at 127.0.0.1:9"),
    ],
)
def test_serve_refuses_a_bus_it_cannot_open_in_one_line(
    tmp_path: Path, bus: str, message: str
) -> None:
    db = f"sqlite:///{tmp_path / 'served.db'}"

    result = CliRunner().invoke(app, ["serve", "--bus", bus, "--db", db])

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert message in " ".join(result.output.split())


class Server:
    """`orchestrade serve` (or `demo --serve`) in a subprocess; its output is read by a
    thread, so a test can wait for a line while the server runs."""

    def __init__(self, arguments: list[str], environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestrade.cli.main", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.put(line)
        self.lines.put("")  # end of output

    def wait_for(self, text: str, limit_s: float = STARTUP_LIMIT_S) -> str:
        """The first output line holding `text` (a failure when the output ends first)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if not line:
                break
            self.output.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in:\n{''.join(self.output)}")

    def stop(self) -> str:
        """Ctrl-C, then everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        while True:
            line = self.lines.get(timeout=10)
            if not line:
                break
            self.output.append(line)
        return "".join(self.output)


def stored_market(db: str) -> None:
    from orchestrade.data.importing import store_synthetic
    from orchestrade.data.synthetic import synthesize_market
    from orchestrade.storage import open_store

    with open_store(db) as store:
        store_synthetic(synthesize_market(2, 120, 11), store)


def test_serve_runs_bots_streams_their_fills_and_resumes_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'served.db'}"
    stored_market(db)
    password = "served admin's long password"
    CliRunner().invoke(
        app,
        ["user", "add", "ada", "--role", "admin", "--db", db, "--password-stdin"],
        input=password,
    )
    port = free_port()
    environment = {
        **os.environ,
        "ORCHESTRADE_HOME": str(tmp_path / "home"),
        "ORCHESTRADE_API__JWT_SECRET": "served-test-signing-key-0123456789abcdef",
    }
    base = f"http://127.0.0.1:{port}"
    options = ["--access-log", "--ws-compression"]
    server = Server(["serve", "--port", str(port), "--db", db, *options], environment)
    try:
        server.wait_for("Uvicorn running")
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "ada", "password": password}, timeout=5
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "interval_s": 0.05}
        bot = httpx.post(f"{base}/api/v1/bots", json=body, headers=headers, timeout=5).json()
        with connect(f"ws://127.0.0.1:{port}/api/v1/stream?token={token}") as socket:
            assert socket.response is not None
            extensions = socket.response.headers.get("Sec-WebSocket-Extensions", "")
            subscribed = json.loads(socket.recv(timeout=10))
            socket.send(json.dumps({"types": ["OrderFilled"]}))
            json.loads(socket.recv(timeout=10))
            started = httpx.post(
                f"{base}/api/v1/bots/{bot['bot_id']}/start", headers=headers, timeout=30
            )
            fill = json.loads(socket.recv(timeout=60))
    finally:
        first_run = server.stop()

    again = Server(["serve", "--port", str(port), "--db", db], environment)
    try:
        resumed = again.wait_for("resumed 1 running bot(s)")
        again.wait_for("Uvicorn running")
    finally:
        again.stop()

    assert subscribed["type"] == "subscribed"
    assert "permessage-deflate" in extensions
    assert started.json()["state"] == "running"
    assert (fill["type"], fill["bot_id"]) == ("OrderFilled", bot["bot_id"])
    assert bot["bot_id"] in resumed
    assert token not in first_run  # the query's token is redacted in the access log
    assert "token=***" in first_run


def test_demo_serve_prints_the_dashboard_and_a_first_admin_who_can_log_in(
    tmp_path: Path,
) -> None:
    port = free_port()
    environment = {**os.environ, "ORCHESTRADE_HOME": str(tmp_path / "home")}
    environment.pop("ORCHESTRADE_STORAGE__URL", None)
    arguments = ["demo", "--days", "60", "--serve", "--port", str(port), "--serve-seconds", "300"]
    server = Server(arguments, environment)
    try:
        url = server.wait_for("dashboard: http://", limit_s=300)
        credentials = server.wait_for("one-time password:")
        server.wait_for("Uvicorn running")
        password = credentials.split("one-time password:")[1].strip()
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"username": "admin", "password": password},
            timeout=5,
        )
        bots = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/bots",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            timeout=5,
        ).json()
    finally:
        output = server.stop()

    assert url.strip() == f"dashboard: http://127.0.0.1:{port}/"
    assert "log in as admin" in credentials
    assert login.status_code == 200
    running = [bot for bot in bots if bot["name"] == "demo paper bot"]
    assert [bot["state"] for bot in running] == ["running"]
    replays = [bot for bot in bots if bot["bot_id"].startswith("demo-")]
    assert [bot["state"] for bot in replays] == ["stopped"]  # the demo's finished replay
    assert output.count(password) == 1  # printed once
