"""`orchestrade serve`: a real server process answering on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

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


def test_serve_refuses_a_bad_database_in_one_line() -> None:
    result = CliRunner().invoke(app, ["serve", "--db", "nonsense://"])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "error:" in result.output
