"""Crash safety: a replay killed with SIGKILL at random instants and restarted each time ends
exactly where an uninterrupted replay ends (real KRX data).

The driver (`replay_crash_driver`) replays `sma_cross` and `nyse_value` (protective stop
orders) on four KRX stocks. It runs once uninterrupted (the baseline, which also times the
run), then, on fresh files, is started and killed with SIGKILL over and over: a few times
while it starts (loading data, opening the database, reconciling), the rest at instants
drawn uniformly over the whole replay, and a few times by its own hand at the narrow
instants a random kill rarely hits (just before an order or a cancel reaches the broker,
just after the broker committed fills nobody has heard of yet); then it runs to the end.
Afterwards:

- the broker received every client order id at most once, and the only resent orders
  ("<id>-resent") are of ids the journal marked never sent (and the broker never got);
- the broker's fills and the journal's are the same fills, and the same (up to the resend
  ids) as the baseline broker's;
- positions (the journal's fills summed per symbol) equal the broker's positions;
- the broker's cash is the initial cash plus the net cash flow of the journaled fills;
- no order is open in the journal that is not open at the broker, and vice versa;
- the trades equal the baseline's exactly, the final equity within 1e-9 relative.

The driver processes are forked from a `forkserver` that has imported the stack already,
so each restart costs the replay, not the interpreter's start-up; each one is still a
separate process that dies by SIGKILL with whatever it held in memory.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orchestrade.backtest.engine import Backtest
from orchestrade.brokers.paper import PaperBroker, PaperSettings
from orchestrade.domain import Fill, OrderId
from orchestrade.execution.reconciliation import (
    NEVER_SENT_REASON,
    DifferenceKind,
    journal_positions,
)
from orchestrade.orchestration.runtime import ReplayOutcome, replay
from orchestrade.storage import SqlOrderJournal, open_store

from . import replay_crash_driver as driver

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

SEED = 20_240_611
STARTUP_KILLS = 2
"""Kills timed from the process start: while the data loads and the stores open."""
EARLY_KILLS = 3
"""Kills in the first 5% of the replay: reconciliation, the first bars."""
SPREAD_KILLS = 17
"""Kills at instants drawn from 5% to 95% of the baseline's replay time."""
MINIMUM_KILLS = 20
"""Kills at random instants, at least (runs that end before their kill are made up for)."""
TARGETED_KILLS = (("submit", 10, 3), ("commit", 10, 3), ("cancel", 3, 2))
"""Self-inflicted SIGKILLs at the N-th instant of a kind (the driver's `die_at`): kind,
largest N, how many."""
RUN_TIMEOUT_S = 180.0
RESENT = "-resent"


@dataclass(slots=True)
class Campaign:
    """What the kill loop did."""

    kills: int = 0
    targeted: int = 0
    finished_before_kill: int = 0
    runs: int = 0


def test_replay_killed_at_random_instants_ends_like_an_uninterrupted_one(
    shared_data: Path, tmp_path: Path
) -> None:
    started = time.perf_counter()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(driver.PRELOAD))
    baseline_dir, crash_dir = tmp_path / "baseline", tmp_path / "crash"
    baseline_dir.mkdir()
    crash_dir.mkdir()

    duration = _uninterrupted(context, shared_data, baseline_dir)
    campaign = _kill_repeatedly(context, shared_data, crash_dir, duration)
    (crash_dir / driver.RESULT_NAME).unlink(missing_ok=True)
    _uninterrupted(context, shared_data, crash_dir)

    assert campaign.kills >= MINIMUM_KILLS
    baseline = json.loads((baseline_dir / driver.RESULT_NAME).read_text())
    crashed = json.loads((crash_dir / driver.RESULT_NAME).read_text())
    backtests = driver.backtests(shared_data)
    for strategy, backtest in backtests.items():
        expected, got = baseline[strategy], crashed[strategy]
        assert len(expected["trades"]) > 0, f"{strategy}: the baseline made no trades"
        _check_books(strategy, backtest, crash_dir, baseline_dir)
        assert got["trades"] == expected["trades"], f"{strategy}: trades differ from the baseline"
        assert got["equity"].keys() == expected["equity"].keys()
        for column, value in expected["equity"].items():
            assert got["equity"][column] == pytest.approx(value, rel=1e-9, abs=0.0), (
                f"{strategy}: final equity of {column}"
            )
    # The stops of nyse_value must have been exercised, or the test proves less than it says.
    protective = _journal_fills(crash_dir, "nyse_value")
    assert any("-protect" in fill.order_id for fill in protective)
    print(  # noqa: T201 - the figures the report quotes (pytest -s)
        f"\ncrash test: {campaign.kills} kills at random instants, {campaign.targeted} at "
        f"chosen ones, {campaign.finished_before_kill} runs ended "
        f"before their kill, baseline {duration:.2f} s, total "
        f"{time.perf_counter() - started:.1f} s; "
        f"reconciliation differences: {dict(_recovery_counts(crash_dir))}"
    )


@pytest.mark.parametrize("stop_at", ["2018-06-01", "2021-09-30"])
def test_a_replay_resumed_after_stopping_part_way_trades_like_one_that_never_stopped(
    shared_data: Path, tmp_path: Path, stop_at: str
) -> None:
    """Deterministic: the first run ends early (a shorter panel: a clean stop at a bar), the
    second runs all bars on the same files and re-asks every earlier order; a third run
    after the end re-asks them all. Protective stops resting at the stop must fill when
    they filled the first time, not when they are asked for again."""
    strategy = "nyse_value"
    backtest = driver.backtests(shared_data)[strategy]
    prepared = backtest.bars
    shortened = Backtest(
        prepared.panel.select(end=np.datetime64(stop_at)),
        strategy,
        cash=driver.CASH,
        fees=driver.FEES,
        mode="isolated",
        markets=dict(zip(prepared.panel.symbols, prepared.markets, strict=True)),
        kinds=dict(zip(prepared.panel.symbols, prepared.kinds, strict=True)),
    )
    baseline_dir, resumed_dir = tmp_path / "baseline", tmp_path / "resumed"

    def run(backtest: Backtest, work: Path) -> ReplayOutcome:
        return replay(
            backtest,
            database_url=driver.database_url(work, strategy),
            broker_path=driver.broker_path(work, strategy),
            bot_id=driver.bot_id(strategy),
        )

    expected = run(backtest, baseline_dir).require_result()
    first = run(shortened, resumed_dir)
    resumed = run(backtest, resumed_dir)
    again = run(backtest, resumed_dir)

    assert first.counters["execution"]["submitted"] > 0
    assert resumed.counters["execution"]["replayed"] == first.counters["execution"]["submitted"]
    assert "submitted" not in again.counters["execution"]
    assert again.counters["execution"]["fills_republished"] == len(
        _journal_fills(resumed_dir, strategy)
    )
    trades = expected.trades.loc[:, list(driver.TRADE_KEYS)]
    for outcome in (resumed, again):
        result = outcome.require_result()
        pd.testing.assert_frame_equal(
            result.trades.loc[:, list(driver.TRADE_KEYS)], trades, check_exact=True
        )
        np.testing.assert_allclose(
            result.equity.iloc[-1].to_numpy(), expected.equity.iloc[-1].to_numpy(), rtol=1e-9
        )
    _check_books(strategy, backtest, resumed_dir, baseline_dir)


def _uninterrupted(context: ForkServerContext, data: Path, work: Path) -> float:
    """Run the driver to the end in `work`; the seconds from its `ready` to its exit."""
    ready = work / "ready-final"
    process = context.Process(target=driver.main, args=([str(data), str(work), str(ready)],))
    process.start()
    _wait_ready(process, ready)
    since = time.perf_counter()
    process.join(RUN_TIMEOUT_S)
    seconds = time.perf_counter() - since
    if process.exitcode is None:
        process.kill()
        process.join()
        pytest.fail(f"the driver in {work} did not finish within {RUN_TIMEOUT_S} s")
    assert process.exitcode == 0, _failure(work, process.exitcode)
    return seconds


@dataclass(frozen=True, slots=True)
class Kill:
    """One planned kill: `at` seconds after the process started (anchor "start") or after
    it got ready (anchor "ready"), as a fraction of the run's duration when `scaled`; or,
    with `die_at`, by the driver's own hand."""

    anchor: str
    at: float
    scaled: bool = True
    die_at: str | None = None


def _kill_plan(rng: random.Random) -> list[Kill]:
    """The spread kills in time order, so that each restart gets further than the last and
    the kills cover the whole run; the others at random places in its first two thirds (a
    targeted kill needs new orders ahead of it, so not after a run got to the end)."""
    spread = sorted(rng.uniform(0.05, 0.9) for _ in range(SPREAD_KILLS))
    plan = [Kill("ready", at) for at in spread]
    others = [
        *(Kill("start", rng.uniform(0.0, 0.4), scaled=False) for _ in range(STARTUP_KILLS)),
        *(Kill("ready", rng.uniform(0.0, 0.05)) for _ in range(EARLY_KILLS)),
        *(
            Kill("ready", RUN_TIMEOUT_S, False, f"{kind}:{rng.randint(1, most)}")
            for kind, most, count in TARGETED_KILLS
            for _ in range(count)
        ),
    ]
    for kill in others:
        plan.insert(rng.randint(0, 2 * SPREAD_KILLS // 3), kill)
    return plan


def _kill_repeatedly(
    context: ForkServerContext, data: Path, work: Path, duration: float
) -> Campaign:
    """Start the driver in `work` and SIGKILL it, again and again (see the module doc).

    Kill instants are fractions of `duration`, the baseline's run time, until a run gets to
    its end before its kill (the machine got faster, or the run re-asked more than it
    sent): from then on they are fractions of that run's time, since every later run only
    re-asks (kills of those test the restart of a restart)."""
    rng = random.Random(SEED)
    plan = _kill_plan(rng)
    most_runs = 2 * len(plan) + MINIMUM_KILLS
    campaign = Campaign()
    while plan or campaign.kills < MINIMUM_KILLS:
        kill = plan.pop(0) if plan else Kill("ready", rng.uniform(0.05, 0.9))
        campaign.runs += 1
        if campaign.runs > most_runs:
            pytest.fail(f"only {campaign.kills} of {campaign.runs} runs could be killed")
        ready = work / f"ready-{campaign.runs}"
        arguments = [str(data), str(work), str(ready)] + ([kill.die_at] if kill.die_at else [])
        process = context.Process(target=driver.main, args=(arguments,))
        process.start()
        if kill.anchor == "ready":
            _wait_ready(process, ready)
        since = time.perf_counter()
        process.join(kill.at * duration if kill.scaled else kill.at)
        if process.exitcode is None:
            process.kill()
            process.join()
            assert kill.die_at is None, f"the driver armed with {kill.die_at} did not die"
            assert process.exitcode == -signal.SIGKILL
            campaign.kills += 1
        elif process.exitcode == -signal.SIGKILL and kill.die_at is not None:
            campaign.targeted += 1
        else:
            assert process.exitcode == 0, _failure(work, process.exitcode)
            campaign.finished_before_kill += 1
            if kill.anchor == "ready":
                duration = time.perf_counter() - since
    return campaign


def _wait_ready(process: Any, ready: Path) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not ready.exists() and process.is_alive():
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the driver never got ready")
        time.sleep(0.002)


def _failure(work: Path, exitcode: int | None) -> str:
    log = work / "driver.log"
    text = log.read_text()[-4000:] if log.exists() else "(no log)"
    return f"driver exited with {exitcode}; end of its log:\n{text}"


def _check_books(strategy: str, backtest: Backtest, work: Path, baseline: Path) -> None:
    """The broker's and the journal's books of `strategy` in `work` agree (module doc)."""
    with _journal(work, strategy) as journal, _broker(work, strategy, backtest) as broker:
        submissions = broker.submissions()
        sent_twice = {order_id: n for order_id, n in submissions.items() if n != 1}
        assert not sent_twice, f"{strategy}: orders received more than once: {sent_twice}"
        for order_id in submissions:
            if order_id.endswith(RESENT):
                original = OrderId(order_id.removesuffix(RESENT))
                assert broker.received(original) == 0, f"{order_id} resent but {original} sent"
                reasons = [event.reason for event in journal.order_events(original)]
                assert NEVER_SENT_REASON in reasons, f"{order_id} resent, {original} not marked"
            assert journal.get_order(OrderId(order_id)) is not None, f"{order_id} not journaled"

        broker_fills = asyncio.run(broker.fills())
        journal_fills = journal.fills()
        assert _by_id(broker_fills) == _by_id(journal_fills), f"{strategy}: fills differ"
        assert len(journal_fills) == len(_by_id(journal_fills))

        positions = asyncio.run(broker.positions())
        assert journal_positions(journal_fills) == dict(positions)
        account = asyncio.run(broker.account())
        initial = Decimal(repr(backtest.config.cash)) * len(backtest.bars.panel.symbols)
        assert account.cash == initial + sum(
            (fill.net_cash_flow for fill in journal_fills), Decimal(0)
        )

        journal_open = {order.order_id: order.status for order in journal.open_orders()}
        broker_open = {order.order_id: order.status for order in broker.orders(open_only=True)}
        assert journal_open == broker_open, f"{strategy}: open orders differ"
    with _broker(baseline, strategy, backtest) as reference:
        expected = _comparable(asyncio.run(reference.fills()))
        sent = reference.submissions()
        assert sent, f"{strategy}: the baseline sent no orders"
        assert set(sent.values()) == {1}
    assert _comparable(broker_fills) == expected, f"{strategy}: fills differ from the baseline"


def _by_id(fills: Any) -> dict[str, Fill]:
    return {fill.fill_id: fill for fill in fills}


def _comparable(fills: Any) -> list[tuple[Any, ...]]:
    """Fills without their ids, resends named as the order they replace."""
    return sorted(
        (
            fill.order_id.replace(RESENT, ""),
            fill.symbol,
            fill.side.value,
            fill.quantity,
            fill.price,
            fill.filled_at,
            fill.fee,
            fill.tax,
        )
        for fill in fills
    )


def _journal_fills(work: Path, strategy: str) -> list[Fill]:
    with _journal(work, strategy) as journal:
        return list(journal.fills())


def _recovery_counts(work: Path) -> Counter[str]:
    """What the restarts' reconciliations settled: differences by kind, from the driver's
    log (each report logs one line per difference, starting with its kind)."""
    kinds = tuple(kind.value for kind in DifferenceKind)
    counts: Counter[str] = Counter()
    for line in (work / "driver.log").read_text().splitlines():
        kind = line.split(" ", 1)[0]
        if kind in kinds:
            counts[kind] += 1
    return counts


@contextmanager
def _journal(work: Path, strategy: str) -> Iterator[SqlOrderJournal]:
    store = open_store(driver.database_url(work, strategy))
    try:
        yield SqlOrderJournal(store)
    finally:
        store.close()


@contextmanager
def _broker(work: Path, strategy: str, backtest: Backtest) -> Iterator[PaperBroker]:
    """The strategy's paper broker file, opened with the settings the runtime uses."""
    config = backtest.run_config()
    symbols = list(backtest.bars.panel.symbols)
    broker = PaperBroker.open(
        driver.broker_path(work, strategy),
        PaperSettings.from_simulation(config, symbols),
        cash=Decimal(repr(config.cash * len(symbols))),
        clock=lambda: datetime.now(UTC),
    )
    try:
        yield broker
    finally:
        broker.close()
