"""Every operation of the OpenAPI document, fuzzed by schemathesis in-process (ASGI): no 5xx,
every response has a status the document declares and a body that matches its schema.

The app is the real one over a SQLite store with a little of everything (orders, fills,
positions, signals, snapshots, anomalies, rebalances, bots, bars, a finished and a failed
backtest) written by the real repositories, a `FakeControl` holding the bots, and an admin's
login token. Reads share one such desk per operation; every example of an operation that
writes gets a fresh copy of it (the database file copied, a new control), so no example sees
what another one did and a failing example replays the same way. Runs are derandomized:
the coverage phase (boundary and invalid values, other methods on each path) and
`MAX_EXAMPLES` fuzzed examples per operation, the same ones on every run.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.python.asgi import ASGIClient

from fakes.auth import JWT_SECRET, FakeClock, FakeMonotonic, cheap_hasher
from fakes.control import AGENT_NAMES, FakeControl
from orchestrade.api import create_app
from orchestrade.api.app import OPENAPI_URL
from orchestrade.api.backtest_jobs import (
    BacktestJobs,
    BacktestSpec,
    PhaseReporter,
    StoreBacktestRunner,
)
from orchestrade.auth import Role
from orchestrade.backtest.results import BacktestResult
from orchestrade.domain import (
    BotId,
    OrderId,
    Position,
    Signal,
    SignalSide,
    StrategyId,
    Symbol,
)
from orchestrade.portfolio.rebalancing import RebalanceStatus
from orchestrade.settings import ApiSettings
from orchestrade.storage import BotRepository, SignalDecision, SqlOrderJournal, Store, open_store
from orchestrade.strategies import builtin_spec

from .conftest import NAMES, PASSWORDS, Api
from .test_anomaly_and_rebalance_routes import proposal, record_findings
from .test_backtest_routes import SYMBOLS, store_bars
from .test_portfolio_routes import BOT_A, BOT_B, TOTAL, record_curve, store_bot
from .test_read_routes import at, record_two_orders_and_a_fill

NOW = datetime(2024, 6, 3, tzinfo=UTC)
"""The clock of every app: after everything the desk holds was created."""
MAX_EXAMPLES = 25
"""Examples of the fuzzing phase per operation (the explicit and coverage phases add theirs)."""
CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance")
WAIT_S = 120.0
"""A safety net against a hung backtest, never an expectation of speed."""
STORED_BOTS = ("a", "b", "c")
RULE = {"name": "min_confidence", "event": "SignalGenerated", "action": "reject"}
KNOWN_PATH_VALUES: dict[str, list[Any]] = {
    "bot_id": [*STORED_BOTS, "x"],
    "order_id": ["o-1", "o-2"],
    "rebalance_id": [1, 2],
    "job_id": ["bt-1", "bt-2"],
    "user_id": [1, 2, 3],
    "key_id": [1, 2],
    "name": [RULE["name"], *AGENT_NAMES],
}
"""What the desk holds: half of the generated path parameters are drawn from these, so the
routes answer from real records, not only with 404."""


def _openapi_app() -> FastAPI:
    """An app to read the document from (the routes alone make it: the store stays empty)."""
    store = open_store("sqlite://")
    app = create_app(store, ApiSettings(jwt_secret=SecretStr(JWT_SECRET)))
    store.close()
    return app


schema = schemathesis.openapi.from_asgi(
    OPENAPI_URL,
    _openapi_app(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20240302,
            "generation": {"deterministic": True, "with-security-parameters": False},
            # Stateful runs chain operations through links the document does not declare.
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    ),
)


@schema.hook
def before_generate_path_parameters(
    context: schemathesis.HookContext, strategy: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Path parameters drawn half of the time from what the desk holds."""
    operation = context.operation
    names = [] if operation is None else [parameter.name for parameter in operation.path_parameters]
    if not names or not all(name in KNOWN_PATH_VALUES for name in names):
        return strategy
    known = st.fixed_dictionaries(
        {name: st.sampled_from(KNOWN_PATH_VALUES[name]) for name in names}
    )
    return st.one_of(known, strategy)


@dataclass(frozen=True, slots=True)
class Desk:
    """The seeded database file every app opens a copy of, an admin's token for it (valid
    in every copy), and the backtests every app shows (bt-1 done, bt-2 failed)."""

    template: Path
    folder: Path
    token: str
    finished: BacktestJobs
    result: BacktestResult
    copies: Iterator[int] = field(default_factory=itertools.count)

    @contextmanager
    def opened(self, *, fresh_backtests: bool = False) -> Iterator[FastAPI]:
        """A new app over a new copy of the desk; with `fresh_backtests`, over an empty
        backtest queue whose runner answers with the desk's result."""
        copy = self.folder / f"copy-{next(self.copies)}.db"
        shutil.copyfile(self.template, copy)
        store = open_store(f"sqlite:///{copy}")
        jobs = (
            BacktestJobs(CannedRunner(self.result), clock=FakeClock(NOW))
            if fresh_backtests
            else self.finished
        )
        try:
            yield _app(store, desk_control(store), jobs)
        finally:
            if fresh_backtests:
                jobs.close()
            store.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class CannedRunner:
    """Answers every backtest with one real result at once: the submit route is what is
    tested, not the engine (which runs for the desk's finished job)."""

    result: BacktestResult

    def __call__(self, spec: BacktestSpec, report: PhaseReporter) -> BacktestResult:
        return self.result


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """The desk written once: its users, records and bars, an admin's token and API key,
    and two backtests run by the real runner over its bars."""
    folder = tmp_path_factory.mktemp("desk")
    template = folder / "desk.db"
    store = open_store(f"sqlite:///{template}")
    finished = BacktestJobs(StoreBacktestRunner(store), clock=FakeClock(NOW))
    try:
        control = FakeControl(FakeClock(NOW))  # the seeding needs none
        app = _app(store, control, finished)
        for role, name in NAMES.items():
            app.state.context.accounts.add_user(name, role, PASSWORDS[role])
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(app, client, store, FakeClock(NOW), FakeMonotonic(), control)
            seed(api)
            token = api.token(Role.ADMIN)
            key = client.post(
                "/api/v1/auth/api-keys", json={"name": "scraper"}, headers=api.headers(Role.ADMIN)
            )
            assert key.status_code == 201, key.text
        done = finished.submit(
            BacktestSpec(strategy=builtin_spec("sma_cross"), params={"fast": 3, "slow": 8})
        )
        failed = finished.submit(  # no bars after 2030: the job fails
            BacktestSpec(strategy=builtin_spec("sma_cross"), start=date(2030, 1, 1))
        )
        done = finished.wait(done.job_id, WAIT_S)
        failed = finished.wait(failed.job_id, WAIT_S)
    finally:
        finished.close()  # the jobs stay readable; no new ones are taken
        store.close()
    assert done is not None
    assert done.result is not None, done.error
    assert failed is not None
    assert failed.error is not None
    return Desk(template, folder, token, finished, done.result)


def seed(api: Api) -> None:
    """A little of everything the read routes show, written by the real repositories."""
    record_two_orders_and_a_fill(api)
    api.context.portfolio.save_positions(
        [Position(Symbol("005930"), Decimal(6), Decimal(600))], at=at(3), bot_id=BotId("a")
    )
    api.context.portfolio.save_positions(
        [Position(Symbol("000660"), realized_pnl=Decimal("38"))], at=at(3)
    )
    signal = Signal(
        time=at(5),
        symbol=Symbol("005930"),
        side=SignalSide.BUY,
        confidence=0.7,
        strategy_id=StrategyId("sma_cross"),
        bot_id=BotId("a"),
        reasons=("sma 5 crossed above sma 20",),
        reference_price=Decimal("71000.5"),
    )
    api.context.signals.record_many(
        [SignalDecision(signal, approved=True), SignalDecision(signal, approved=False, reason="x")]
    )
    for index, bot_id in enumerate(STORED_BOTS):
        store_bot(api, bot_id, ("0.5", "0.3", "0.2")[index], index)
    record_curve(api, "a", BOT_A)
    record_curve(api, "b", BOT_B, cash="45.5")
    record_curve(api, None, TOTAL)
    record_findings(api)
    api.context.rebalances.record(proposal(), portfolio="node")
    api.context.rebalances.record(
        proposal(), portfolio="node", status=RebalanceStatus.SKIPPED, decision="too small"
    )
    store_bars(api.store)


def desk_control(store: Store) -> FakeControl:
    """The desk's trading node: the stored bots (a running with its agents, b paused, c
    stopped), a rule, and the partly filled order o-1 (o-2 is new: no bot holds it yet)."""
    control = FakeControl(FakeClock(NOW), symbols=SYMBOLS, rules=[RULE])
    for bot in BotRepository(store).list():
        control.keep(bot)
    order = SqlOrderJournal(store).get_order(OrderId("o-1"))
    if order is not None:
        control.open_orders[order.order_id] = order

    async def set_states() -> None:
        await control.start_bot(BotId("a"))
        await control.pause_bot(BotId("b"))
        await control.stop_bot(BotId("c"))

    if control.bots():
        asyncio.run(set_states())
    return control


def _app(store: Store, control: FakeControl, jobs: BacktestJobs) -> FastAPI:
    return create_app(
        store,
        ApiSettings(jwt_secret=SecretStr(JWT_SECRET)),
        passwords=cheap_hasher(),
        clock=FakeClock(NOW),
        monotonic=FakeMonotonic(),
        control=control,
        backtest_jobs=jobs,
    )


@pytest.fixture
def served(desk: Desk) -> Iterator[ASGIClient]:
    """A client of one app over a copy of the desk, for every example of one operation."""
    with desk.opened() as app:
        client = ASGIClient(app)  # the app's lifespan never runs: it owns nothing to stop
        client.headers["Authorization"] = f"Bearer {desk.token}"
        yield client


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, desk: Desk, served: ASGIClient
) -> None:
    if case.operation.method.upper() == "GET":
        # Reads (and the coverage phase's probes of methods the path lacks) change nothing.
        case.call_and_validate(session=served)
        return
    # A write gets the services of a new app over a new copy of the desk, swapped into the
    # served app (whose routes reach everything through `app.state.context`): a new app
    # would be as good, but its first request pays for building its middleware stack.
    app = served.app
    served_context = app.state.context
    with desk.opened(fresh_backtests=case.path == "/api/v1/backtests") as fresh:
        app.state.context = fresh.state.context
        try:
            case.call_and_validate(session=served)
        finally:
            app.state.context = served_context
