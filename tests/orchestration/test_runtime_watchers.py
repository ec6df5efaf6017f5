"""The watching agents inside a trading node: rebalancing proposals through the rules and
notifications of the run's events, without changing a single trade."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orchestrade.backtest.engine import Backtest
from orchestrade.data import BarPanel
from orchestrade.data.synthetic import round_to_krx_tick
from orchestrade.domain import BotId, Message, OrderFilled, RebalanceApplied
from orchestrade.orchestration.runtime import BotPlan, replay
from orchestrade.portfolio.optimization import WeightBounds
from orchestrade.portfolio.rebalancing import RebalancePolicy, RebalanceSchedule, RebalanceStatus
from orchestrade.storage import PortfolioRepository, open_store
from orchestrade.storage.rebalances import RebalanceRepository

OFF: dict[str, Any] = {"fees": 0.001, "min_confidence": 0.0, "risk": "none", "market": "krx"}
TRADE_KEYS = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]


@pytest.fixture(scope="module")
def year() -> BarPanel:
    """Three KRX stocks, 250 daily bars of a seeded random walk on the KRX tick grid."""
    rng = np.random.default_rng(11)
    n, days = 3, 250
    start = rng.uniform(5_000, 80_000, (n, 1))
    close = start * np.exp(np.cumsum(rng.normal(0.0004, 0.02, (n, days)), axis=1))
    opens = np.concatenate([start, close[:, :-1]], axis=1) * np.exp(rng.normal(0, 0.006, (n, days)))
    o, c = round_to_krx_tick(opens), round_to_krx_tick(close)
    high = round_to_krx_tick(np.maximum(o, c) * 1.01, mode="up")
    low = round_to_krx_tick(np.minimum(o, c) * 0.99, mode="down")
    stamps = (np.datetime64("2024-01-01", "D") + np.arange(days)).astype("datetime64[ns]")
    return BarPanel(
        ("000660", "005930", "035420"), stamps, o, high, low, c, np.full((n, days), 1e6)
    )


class Sink:
    """Stands in for the notification service: keeps what it is handed."""

    event_types = frozenset({"OrderFilled", "RebalanceApplied"})

    def __init__(self) -> None:
        self.events: list[Message] = []
        self.rules: list[tuple[str, str]] = []

    def notify(self, event: Message, *, at: datetime | None = None) -> None:
        self.events.append(event)

    def notify_rule(
        self, rule: str, text: str, *, at: datetime | None = None, bot_id: str | None = None
    ) -> None:
        self.rules.append((rule, text))


def test_rebalancing_and_notifications_run_in_a_replay_and_trade_nothing_differently(
    year: BarPanel, tmp_path: Path
) -> None:
    bots = {
        "a": (Backtest(year, "sma_cross", cash=1e7, **OFF), {"fast": 5, "slow": 20}),
        "b": (Backtest(year, "sma_cross", cash=1e7, **OFF), {"fast": 3, "slow": 10}),
        "c": (Backtest(year, "rsi_reversion", cash=1e7, **OFF), {}),
    }
    sink = Sink()
    url = f"sqlite:///{tmp_path / 'app.db'}"
    policy = RebalancePolicy(
        objective="min_variance", bounds=WeightBounds(0.05, 0.6), min_history=40
    )
    (first, (backtest, params)), *others = bots.items()
    outcome = replay(
        backtest,
        params=params,
        bot_id=first,
        more_bots=[BotPlan(bot, bt, p) for bot, (bt, p) in others],
        database_url=url,
        broker_path=tmp_path / "broker.db",
        rebalance=RebalanceSchedule("monthly"),
        rebalance_policy=policy,
        notifier=sink,
    )

    for bot, (bt, p) in bots.items():
        expected = bt.run(**p).trades.loc[:, TRADE_KEYS].reset_index(drop=True)
        got = outcome.results[bot].trades.loc[:, TRADE_KEYS].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            got.sort_values(["symbol", "entry_time"]).reset_index(drop=True),
            expected.sort_values(["symbol", "entry_time"]).reset_index(drop=True),
            check_exact=True,
        )
    counts = outcome.counters["rebalancing"]
    # 250 days from January: 8 month starts after the first close; the first 40 returns wait.
    assert counts.get("waiting", 0) >= 1
    decided = counts.get("applied", 0) + counts.get("skipped", 0)
    assert decided >= 5
    with open_store(url) as store:
        records = RebalanceRepository(store).recent(limit=100, portfolio="a")
    assert len(records) == decided
    assert {r.status for r in records} <= {RebalanceStatus.APPLIED, RebalanceStatus.SKIPPED}
    for record in records:
        weights = record.proposal.weights()
        assert sorted(weights) == ["a", "b", "c"]
        assert sum(weights.values()) == pytest.approx(1.0)
        assert all(0.05 - 1e-9 <= w <= 0.6 + 1e-9 for w in weights.values())

    fills = [event for event in sink.events if isinstance(event, OrderFilled)]
    assert len(fills) == sum(len(result.fills) for result in outcome.results.values())
    applied = [event for event in sink.events if isinstance(event, RebalanceApplied)]
    assert len(applied) == counts.get("applied", 0)


def test_the_portfolio_agent_keeps_equity_snapshots_and_positions_of_each_bot(
    year: BarPanel, tmp_path: Path
) -> None:
    backtest = Backtest(year, "sma_cross", cash=1e7, **OFF)
    other = Backtest(year, "sma_cross", cash=5e6, **OFF)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    outcome = replay(
        backtest,
        params={"fast": 5, "slow": 20},
        bot_id="a",
        more_bots=[BotPlan("b", other, {"fast": 3, "slow": 10})],
        database_url=url,
        broker_path=tmp_path / "broker.db",
    )
    with open_store(url) as store:
        repository = PortfolioRepository(store)
        curves = {bot: repository.snapshots(bot_id=bot) for bot in (BotId("a"), BotId("b"))}
        whole = repository.total_snapshots()
        positions = {bot: repository.positions(BotId(bot)) for bot in ("a", "b")}
    for bot, snapshots in curves.items():
        result = outcome.results[bot]
        assert len(snapshots) == len(year.timestamps)
        got = [float(snapshot.equity) for snapshot in snapshots]
        np.testing.assert_allclose(got, result.equity["total"].to_numpy(), rtol=1e-12)
        assert all(s.equity == s.cash + s.market_value for s in snapshots)
        held = {
            symbol: float(quantity)
            for symbol, quantity in result.positions.iloc[-1].items()
            if quantity
        }
        assert {s: float(p.quantity) for s, p in positions[bot].items() if p.quantity} == held
    totals = [
        a.equity + b.equity for a, b in zip(curves[BotId("a")], curves[BotId("b")], strict=True)
    ]
    assert [s.equity for s in whole] == totals
