"""An API over a scratch SQLite store, fake clocks, a fake trading node, and one user of
each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from fakes.auth import JWT_SECRET, FakeClock, FakeMonotonic, cheap_hasher
from fakes.control import FakeControl
from orchestrade.api import create_app
from orchestrade.api.backtest_jobs import BacktestJobs
from orchestrade.api.deps import ApiContext
from orchestrade.auth import Role
from orchestrade.settings import ApiSettings
from orchestrade.storage import Store, open_store

PASSWORDS = {
    Role.ADMIN: "admin password of the desk",
    Role.TRADER: "trader password of the desk",
    Role.VIEWER: "viewer password of the desk",
}
NAMES = {Role.ADMIN: "ada", Role.TRADER: "tom", Role.VIEWER: "vera"}


@dataclass
class Api:
    """The app, a client on it, its store, clocks and fake trading node, and logins of the
    three users."""

    app: FastAPI
    client: TestClient
    store: Store
    clock: FakeClock
    monotonic: FakeMonotonic
    control: FakeControl
    _tokens: dict[Role, str] = field(default_factory=dict)

    @property
    def context(self) -> ApiContext:
        context: ApiContext = self.app.state.context
        return context

    def token(self, role: Role) -> str:
        """A login token of the user of this role (logged in once through the API)."""
        if role not in self._tokens:
            response = self.client.post(
                "/api/v1/auth/login",
                json={"username": NAMES[role], "password": PASSWORDS[role]},
            )
            assert response.status_code == 200, response.text
            self._tokens[role] = response.json()["access_token"]
        return self._tokens[role]

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}


def build_api(
    tmp_path: Path,
    settings: ApiSettings | None = None,
    *,
    with_control: bool = True,
    backtest_jobs: BacktestJobs | None = None,
) -> tuple[FastAPI, Store]:
    """A fresh app with the three users, over a SQLite file in `tmp_path`, with a
    `FakeControl` (`app.state.test_control`) unless `with_control` is False."""
    clock, monotonic = FakeClock(), FakeMonotonic()
    control = FakeControl(clock)
    store = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    app = create_app(
        store,
        settings or ApiSettings(jwt_secret=SecretStr(JWT_SECRET)),
        passwords=cheap_hasher(),
        clock=clock,
        monotonic=monotonic,
        control=control if with_control else None,
        backtest_jobs=backtest_jobs,
    )
    app.state.test_clocks = (clock, monotonic)
    app.state.test_control = control
    for role, name in NAMES.items():
        app.state.context.accounts.add_user(name, role, PASSWORDS[role])
    return app, store


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    app, store = build_api(tmp_path)
    clock, monotonic = app.state.test_clocks
    with store, TestClient(app, raise_server_exceptions=False) as client:
        yield Api(app, client, store, clock, monotonic, app.state.test_control)
