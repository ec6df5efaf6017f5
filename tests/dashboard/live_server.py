"""A real `orchestrade serve` on a free local port, over a demo-like store, for the
browser tests: synthetic KRX bars, an admin, and a replay bot that has run through the whole
stack (so equity snapshots, orders, fills and signals exist before the browser looks)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from orchestrade.auth import AccountService, PasswordHasher, Role, TokenIssuer
from orchestrade.data.importing import store_synthetic
from orchestrade.data.synthetic import synthesize_market
from orchestrade.domain import Market
from orchestrade.storage import open_store
from orchestrade.storage.users import UserRepository

ADMIN = "ada"
ADMIN_PASSWORD = "admin password of the desk"
SYMBOLS = 4
DAYS = 260
SEED = 11
STARTUP_TIMEOUT_S = 90.0
"""Upper bound for the server to answer /ready (imports, migrations): a limit, not a goal."""
REPLAY_TIMEOUT_S = 120.0
FAST_PARAMS = {"fast": 2, "slow": 3}
"""sma_cross parameters that cross often: a paper bot fills within a few bars."""


class ServerFailedError(RuntimeError):
    """The server did not come up, or the stack did not do what the setup needs."""


@dataclass
class LiveServer:
    """A running server: its address, store, signing key and an admin API client."""

    base_url: str
    database_url: str
    jwt_secret: str
    log_path: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client = field(init=False)
    _headers: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=30.0)

    def login(self) -> dict[str, str]:
        """Headers of an admin login through the API (one login, kept: tokens last 15 min)."""
        if not self._headers:
            response = self.client.post(
                "/api/v1/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}
            )
            _require(response, "admin login")
            self._headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self._headers

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", params=params, headers=self.login())
        _require(response, f"GET {path}")
        return response.json()

    def token_expiring_in(self, seconds: int) -> dict[str, Any]:
        """A genuine admin token, signed with the server's key, that expires `seconds` from
        now (the server's own tokens live at least a minute), with the login answer's shape."""
        with open_store(self.database_url) as store:
            user = UserRepository(store).by_name(ADMIN)
        if user is None:
            raise ServerFailedError(f"no user {ADMIN!r} in {self.database_url}")
        issuer = TokenIssuer(self.jwt_secret.encode(), lifetime_s=seconds, clock=_utc_now)
        issued = issuer.issue(user)
        return {
            "token": issued.token,
            "expiresAt": issued.expires_at.isoformat(),
            "user": {"id": user.user_id, "name": user.name, "role": str(user.role)},
        }

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn stops the bots cleanly
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(home: Path) -> LiveServer:
    """Prepare the store in `home`, start `orchestrade serve` on it, wait until it answers,
    then run a replay bot to its end through the API."""
    home.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{home / 'orchestrade.db'}"
    with open_store(database_url) as store:
        store_synthetic(synthesize_market(SYMBOLS, DAYS, SEED, market=Market.KRX), store)
        AccountService(UserRepository(store), PasswordHasher(), clock=_utc_now).add_user(
            ADMIN, Role.ADMIN, ADMIN_PASSWORD
        )
    port = _free_port()
    secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "ORCHESTRADE_HOME": str(home),
        "ORCHESTRADE_API__JWT_SECRET": secret,
        # Every test logs in through the form: more than the default 5 a minute.
        "ORCHESTRADE_API__LOGIN_ATTEMPTS_PER_MINUTE": "1000",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "orchestrade.cli.main", "serve"),
                *("--host", "127.0.0.1", "--port", str(port), "--db", database_url),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, secret, log_path, process)
    try:
        _wait_ready(server)
        run_replay_bot(server)
    except BaseException:
        server.stop()
        raise
    return server


def run_replay_bot(server: LiveServer) -> str:
    """Create a replay bot over the stored bars, run it to the end; returns its id."""
    headers = server.login()
    created = server.client.post(
        "/api/v1/bots",
        json={"strategy": "sma_cross", "name": "replayed", "mode": "replay", "speed": "max"},
        headers=headers,
    )
    _require(created, "creating the replay bot")
    bot_id: str = created.json()["bot_id"]
    _require(server.client.post(f"/api/v1/bots/{bot_id}/start", headers=headers), "start")
    deadline = time.monotonic() + REPLAY_TIMEOUT_S
    while time.monotonic() < deadline:
        bot = server.client.get(f"/api/v1/bots/{bot_id}", headers=headers)
        _require(bot, "reading the replay bot")
        if bot.json()["state"] != "running":
            return bot_id
        time.sleep(0.25)
    raise ServerFailedError(f"the replay bot still runs after {REPLAY_TIMEOUT_S:.0f} s")


def _wait_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailedError(
                f"orchestrade serve exited with {server.process.returncode}:\n" + server.log_tail()
            )
        try:
            if server.client.get("/api/v1/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ServerFailedError(
        f"orchestrade serve did not answer within {STARTUP_TIMEOUT_S:.0f} s:\n" + server.log_tail()
    )


def _require(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        raise ServerFailedError(f"{what}: HTTP {response.status_code} {response.text[:500]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _utc_now() -> datetime:
    return datetime.now(UTC)
