"""An API over a scratch store with a stored synthetic market and a real `BotSupervisor` as
its trading control (no bot runs unless a test starts one), with helpers that act in the
app's event loop from the test's thread."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from fakes.auth import JWT_SECRET, FakeClock, FakeMonotonic, cheap_hasher
from orchestrade.api import create_app
from orchestrade.api.routers.stream import STREAM_PATH
from orchestrade.auth import Role
from orchestrade.domain import BotId, Message
from orchestrade.orchestration.control import StreamEvent
from orchestrade.orchestration.event_hub import EventHub
from orchestrade.orchestration.supervisor import BotSupervisor
from orchestrade.settings import ApiSettings
from orchestrade.storage import Store, open_store
from orchestration.supervised import store_market

from .conftest import NAMES, PASSWORDS

AT = datetime(2024, 5, 2, 1, 2, 3, 456000, tzinfo=UTC)
BOT_A = BotId("bot-a")


@dataclass
class Stream:
    """An app with a real supervisor (no bot runs unless a test starts one), a client on it
    and helpers to put events on the stream from the test's thread."""

    app: FastAPI
    client: TestClient
    store: Store
    clock: FakeClock
    supervisor: BotSupervisor

    def token(self, role: Role = Role.VIEWER) -> str:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": NAMES[role], "password": PASSWORDS[role]}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def record(self, message: Message, bot_id: BotId | None = BOT_A) -> StreamEvent:
        """Put `message` on the stream in the app's event loop, as a bot's bus would."""
        record = functools.partial(self.supervisor.hub.record, message, bot_id=bot_id, at=AT)
        event: StreamEvent = self.client.portal.call(record)  # type: ignore[union-attr]
        return event

    def call(self, function: Any, *args: Any) -> Any:
        """Run a supervisor call in the app's event loop."""
        return self.client.portal.call(function, *args)  # type: ignore[union-attr]

    def connect(self, query: str = "") -> Any:
        return self.client.websocket_connect(f"{STREAM_PATH}{query}")


def build_stream(tmp_path: Path, *, capacity: int = 5000) -> tuple[FastAPI, Store, BotSupervisor]:
    store = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    store_market(store)
    supervisor = BotSupervisor(
        store, home=tmp_path / "home", hub=EventHub(capacity=capacity), stop_grace_s=0.2
    )
    clock = FakeClock()
    app = create_app(
        store,
        ApiSettings(jwt_secret=SecretStr(JWT_SECRET)),
        passwords=cheap_hasher(),
        clock=clock,
        monotonic=FakeMonotonic(),
        control=supervisor,
    )
    app.state.test_clock = clock
    for role, name in NAMES.items():
        app.state.context.accounts.add_user(name, role, PASSWORDS[role])
    return app, store, supervisor


@contextmanager
def open_stream(tmp_path: Path, *, capacity: int = 5000) -> Iterator[Stream]:
    """The app, its client and its supervisor (closed at the end)."""
    app, store, supervisor = build_stream(tmp_path, capacity=capacity)
    with store, TestClient(app) as client:
        yield Stream(app, client, store, app.state.test_clock, supervisor)
        client.portal.call(supervisor.close)  # type: ignore[union-attr]
