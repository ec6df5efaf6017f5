"""The trading node end to end on small synthetic data: a replay through every agent trades
like `Backtest.run` (trades exactly, equity within 1e-9), resumes without resending, and
refuses what the stack cannot trade."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orchestrade import Bar, Strategy
from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.results import BacktestResult
from orchestrade.data import BarPanel
from orchestrade.data.synthetic import round_to_krx_tick
from orchestrade.orchestration.errors import PlanningError, RuntimeConfigurationError
from orchestrade.orchestration.runtime import (
    NodeClock,
    ReplayOutcome,
    TradingNode,
    replay,
)
from orchestrade.strategies import resolve_spec

TRADE_KEYS = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]
PARAMS = {"fast": 5, "slow": 20}
SMA_CROSS = resolve_spec("sma_cross").to_dict()


@pytest.fixture(scope="module")
def bars() -> BarPanel:
    """Two KRX stocks, 120 daily bars of a seeded random walk on the KRX tick grid."""
    rng = np.random.default_rng(4)
    n_symbols, n_days = 2, 120
    start = rng.uniform(5_000, 80_000, (n_symbols, 1))
    close = start * np.exp(np.cumsum(rng.normal(0.0005, 0.02, (n_symbols, n_days)), axis=1))
    before = np.concatenate([start, close[:, :-1]], axis=1)
    opens = before * np.exp(rng.normal(0, 0.006, (n_symbols, n_days)))
    wicks = np.abs(rng.normal(0, 0.01, (2, n_symbols, n_days)))
    o, c = round_to_krx_tick(opens), round_to_krx_tick(close)
    high = round_to_krx_tick(np.maximum(opens, close) * (1 + wicks[0]), mode="up")
    low = round_to_krx_tick(np.minimum(opens, close) * (1 - wicks[1]), mode="down")
    stamps = (np.datetime64("2024-01-02", "D") + np.arange(n_days)).astype("datetime64[ns]")
    return BarPanel(
        ("000660", "005930"),
        stamps,
        o,
        np.maximum(high, np.maximum(o, c)),
        np.minimum(low, np.minimum(o, c)),
        c,
        rng.uniform(1e5, 1e6, (n_symbols, n_days)).round(),
    )


def spec(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(SMA_CROSS))
    document.update(changes)
    return document


def run_both(
    backtest: Backtest, tmp_path: Path, params: dict[str, Any] | None = None
) -> tuple[BacktestResult, ReplayOutcome]:
    params = PARAMS if params is None else params
    expected = backtest.run(**params)
    outcome = replay(
        backtest,
        params=params,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        broker_path=tmp_path / "paper" / "bot.db",
    )
    return expected, outcome


def trades(result: BacktestResult) -> pd.DataFrame:
    frame = result.trades.loc[:, TRADE_KEYS].sort_values(["symbol", "entry_time"])
    return frame.reset_index(drop=True)


def assert_same_trading(expected: BacktestResult, outcome: ReplayOutcome) -> None:
    got = outcome.require_result()
    assert len(expected.trades) > 0
    pd.testing.assert_frame_equal(trades(got), trades(expected), check_exact=True)
    np.testing.assert_allclose(got.equity.to_numpy(), expected.equity.to_numpy(), rtol=1e-9)
    assert list(got.equity.columns) == list(expected.equity.columns)


# -- parity with the backtest -----------------------------------------------------------------


class Run:
    """A backtest, its result, and the replay of it on files in `folder`."""

    def __init__(self, backtest: Backtest, folder: Path) -> None:
        self.backtest, self.folder = backtest, folder
        self.expected, self.outcome = run_both(backtest, folder)


@pytest.fixture(scope="module")
def default_run(bars: BarPanel, tmp_path_factory: pytest.TempPathFactory) -> Run:
    backtest = Backtest(bars, "sma_cross", cash=10_000_000.0, market="krx")
    return Run(backtest, tmp_path_factory.mktemp("default"))


def test_a_replay_with_the_default_rules_and_risk_trades_like_the_backtest(
    default_run: Run,
) -> None:
    outcome = default_run.outcome

    assert_same_trading(default_run.expected, outcome)
    assert outcome.interrupted is False
    assert outcome.bars == 240
    assert outcome.counters["execution"]["submitted"] == len(default_run.expected.fills)
    assert outcome.reconciliation is not None
    assert outcome.reconciliation.is_clean


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"risk": "none", "min_confidence": 0.0}, id="rules-and-risk-off"),
        pytest.param(
            {"slippage_bps": 15.0, "slippage_range": 0.05, "tax": 0.0025, "fee_min": 500.0},
            id="slippage-tax-minimum-fee",
        ),
    ],
)
def test_a_replay_trades_like_the_backtest(
    bars: BarPanel, options: dict[str, Any], tmp_path: Path
) -> None:
    backtest = Backtest(bars, "sma_cross", cash=10_000_000.0, market="krx", **options)

    expected, outcome = run_both(backtest, tmp_path)

    assert_same_trading(expected, outcome)
    assert outcome.counters["execution"]["submitted"] == len(expected.fills)


STOPS = {"stop_loss": 0.03, "take_profit": 0.06, "trailing_stop": 0.04}


@pytest.fixture(scope="module")
def with_stops(
    bars: BarPanel, tmp_path_factory: pytest.TempPathFactory
) -> tuple[BacktestResult, ReplayOutcome]:
    backtest = Backtest(bars, spec(stops=STOPS), cash=10_000_000.0, market="krx")
    return run_both(backtest, tmp_path_factory.mktemp("stops"))


def test_position_stops_rest_at_the_broker_and_exit_like_the_backtest(
    with_stops: tuple[BacktestResult, ReplayOutcome],
) -> None:
    expected, outcome = with_stops

    got = outcome.require_result()
    pd.testing.assert_frame_equal(trades(got), trades(expected), check_exact=True)
    np.testing.assert_allclose(
        got.equity.iloc[-1].to_numpy(), expected.equity.iloc[-1].to_numpy(), rtol=1e-9
    )
    reasons = set(expected.trades["exit_reason"])
    assert {"stop_loss", "take_profit", "trailing_stop"} <= reasons
    assert outcome.counters["risk"]["protective"] > 0
    # Each trade ends for the same reason: the protective orders' ids carry it.
    order = ["symbol", "entry_time"]
    assert list(got.trades.sort_values(order)["exit_reason"]) == list(
        expected.trades.sort_values(order)["exit_reason"]
    )


def test_the_equity_curve_with_position_stops_is_the_backtests(
    with_stops: tuple[BacktestResult, ReplayOutcome],
) -> None:
    expected, outcome = with_stops

    got = outcome.require_result().equity.to_numpy()
    np.testing.assert_allclose(got, expected.equity.to_numpy(), rtol=1e-9)


def test_a_stop_exit_that_trips_the_daily_loss_limit_halts_entries_like_the_backtest(
    tmp_path: Path,
) -> None:
    """SMA(2)/SMA(3) with a 15% stop loss. Day 4 crosses above: 832 shares bought at day 5's
    open of 12,000. Day 6 is flat (SMA(2) == SMA(3)). Day 7 trades down to 10,000: the stop
    sells at 10,200 (-15% of the day's start), and the close of 12,600 crosses above again.
    The kernel halts the account for day 7, so that entry is dropped: one trade in all."""
    rows = [
        (10_000, 10_000, 10_000, 10_000),
        (9_000, 9_000, 9_000, 9_000),
        (8_000, 8_000, 8_000, 8_000),
        (9_000, 9_000, 9_000, 9_000),
        (12_000, 12_000, 12_000, 12_000),
        (12_000, 12_000, 12_000, 12_000),
        (12_000, 12_000, 12_000, 12_000),
        (12_000, 12_600, 10_000, 12_600),
        (12_600, 12_700, 12_500, 12_700),
        (12_700, 12_800, 12_600, 12_800),
    ]
    panel = ohlc_panel(rows)
    backtest = Backtest(panel, spec(stops={"stop_loss": 0.15}), cash=10_000_000.0, fees=0.001)

    expected, outcome = run_both(backtest, tmp_path, {"fast": 2, "slow": 3})

    assert list(expected.trades["exit_reason"]) == ["stop_loss"]
    pd.testing.assert_frame_equal(trades(outcome.require_result()), trades(expected))


@pytest.mark.parametrize(
    "sizing",
    [
        {"method": "percent_equity", "fraction": 0.5},
        {"method": "fixed_qty", "quantity": 50},
    ],
    ids=["percent_equity", "fixed_qty"],
)
def test_sizing_methods_buy_the_backtests_quantities(
    bars: BarPanel, sizing: dict[str, Any], tmp_path: Path
) -> None:
    backtest = Backtest(bars, spec(sizing=sizing), cash=10_000_000.0, market="krx")

    expected, outcome = run_both(backtest, tmp_path)

    assert_same_trading(expected, outcome)


def ohlc_panel(
    rows: Sequence[tuple[float, float, float, float]], symbols: tuple[str, ...] = ("005930",)
) -> BarPanel:
    """KRX stocks that all trade `rows` (open, high, low, close), daily from 2024-01-02."""
    o, h, lo, c = (
        np.tile(np.array(column, dtype=np.float64), (len(symbols), 1))
        for column in zip(*rows, strict=True)
    )
    stamps = (np.datetime64("2024-01-02", "D") + np.arange(len(rows))).astype("datetime64[ns]")
    return BarPanel(symbols, stamps, o, h, lo, c, np.full(o.shape, 1e7))


def test_an_entry_the_fat_finger_check_refuses_is_refused_in_both(tmp_path: Path) -> None:
    """SMA(2)/SMA(3): the close of day 4 (12,000) crosses above; day 5 opens 5.8% higher
    (12,700), beyond the 5% limit: no entry. Day 8 (14,000) crosses above again; day 9 opens
    at 14,100: floor(10,000,000 / (14,100 x 1.001)) = 708 shares, held to the end."""
    closes = [10_000, 9_000, 8_000, 9_000, 12_000, 12_700, 11_000, 13_000, 14_000]
    rows = [(price, price, price, price) for price in closes]
    rows += [(14_100, 14_200, 14_100, 14_200), (14_300, 14_300, 14_300, 14_300)]
    backtest = Backtest(ohlc_panel(rows), "sma_cross", cash=10_000_000.0, fees=0.001)
    params = {"fast": 2, "slow": 3}

    expected, outcome = run_both(backtest, tmp_path, params)

    assert_same_trading(expected, outcome)
    (trade,) = outcome.require_result().trades.itertuples()
    assert (trade.entry_time, trade.entry_price, trade.qty, trade.exit_reason) == (
        pd.Timestamp("2024-01-11", tz="UTC"),
        14_100.0,
        708.0,
        "end",
    )
    assert outcome.counters["risk"] == {"approved": 1, "price_deviation": 1}
    assert outcome.counters["orchestrator"] == {"approved": 3}


def test_portfolio_mode_is_refused_with_the_reason(bars: BarPanel, tmp_path: Path) -> None:
    """Shared cash across symbols needs entries sized in turn from the cash the previous ones
    left (the kernel's rule) and an equity split per symbol; the stack refuses the mode
    rather than report numbers that differ from the backtest's."""
    backtest = Backtest(bars, "sma_cross", cash=10_000_000.0, market="krx", mode="portfolio")

    with pytest.raises(PlanningError, match="portfolio mode is not supported"):
        replay(
            backtest,
            database_url=f"sqlite:///{tmp_path / 'app.db'}",
            broker_path=tmp_path / "broker.db",
        )


def test_a_second_run_on_the_same_files_sends_nothing_and_ends_alike(default_run: Run) -> None:
    first = default_run.outcome

    again = replay(
        default_run.backtest,
        params=PARAMS,
        database_url=f"sqlite:///{default_run.folder / 'app.db'}",
        broker_path=default_run.folder / "paper" / "bot.db",
    )

    assert "submitted" not in again.counters["execution"]
    assert again.counters["execution"]["replayed"] == first.counters["execution"]["submitted"]
    assert again.reconciliation is not None
    assert again.reconciliation.is_clean
    pd.testing.assert_frame_equal(trades(again.require_result()), trades(first.require_result()))
    np.testing.assert_allclose(
        again.require_result().equity.to_numpy(), first.require_result().equity.to_numpy()
    )


# -- what the node refuses ------------------------------------------------------------------------


class BuyAndHold(Strategy):
    def on_bar(self, bar: Bar) -> None:
        if not self.position(bar.symbol):
            self.buy(bar.symbol)


def test_a_python_strategy_class_is_refused_with_the_reason(bars: BarPanel, tmp_path: Path) -> None:
    backtest = Backtest(bars, BuyAndHold, market="krx")

    with pytest.raises(RuntimeConfigurationError) as caught:
        replay(
            backtest,
            database_url=f"sqlite:///{tmp_path / 'app.db'}",
            broker_path=tmp_path / "bot.db",
        )

    assert "Python Strategy class has no streaming form" in str(caught.value)
    assert not (tmp_path / "bot.db").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"remote": ["risk", "oracle"]}, "unknown agent(s) oracle; agents are data, strategy"),
        ({"mode": "live"}, "mode must be replay or paper, got 'live'"),
        ({"mode": "paper", "interval_s": 0}, "interval_s must be > 0, got 0"),
    ],
)
def test_options_the_node_cannot_run_are_refused(
    bars: BarPanel, options: dict[str, Any], message: str, tmp_path: Path
) -> None:
    backtest = Backtest(bars, "sma_cross", market="krx")

    with pytest.raises(RuntimeConfigurationError) as caught:
        TradingNode(
            backtest,
            database_url=f"sqlite:///{tmp_path / 'app.db'}",
            broker_path=tmp_path / "bot.db",
            **options,
        )

    assert message in str(caught.value)


def test_a_configuration_the_planner_cannot_trade_fails_before_any_order(
    bars: BarPanel, tmp_path: Path
) -> None:
    backtest = Backtest(bars, "sma_cross", market="krx", fill="close")

    with pytest.raises(PlanningError, match="fill 'close' is not supported"):
        replay(
            backtest,
            database_url=f"sqlite:///{tmp_path / 'app.db'}",
            broker_path=tmp_path / "bot.db",
        )


# -- small parts ---------------------------------------------------------------------------------


def test_the_replay_clock_is_the_slice_being_replayed_and_paper_time_is_the_wall_clock() -> None:
    first = datetime(2024, 1, 2, tzinfo=UTC)
    replay_clock = NodeClock("replay", first)
    paper_clock = NodeClock("paper", first)

    before = replay_clock()
    replay_clock.now = first + timedelta(days=3)

    assert before == first
    assert replay_clock() == first + timedelta(days=3)
    assert paper_clock() > first + timedelta(days=365)
    assert paper_clock().tzinfo is UTC


def test_an_outcome_without_a_local_portfolio_has_no_result() -> None:
    outcome = ReplayOutcome(None, None, bars=1_000, seconds=0.5)

    with pytest.raises(RuntimeConfigurationError, match="portfolio agent ran in another process"):
        outcome.require_result()
    assert outcome.bars_per_second == 2_000.0
    assert ReplayOutcome(None, None, bars=10, seconds=0.0).bars_per_second == float("inf")


def test_a_feed_that_breaks_ends_the_run_resumably(
    bars: BarPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed that disconnects mid-run (here: the slice iterator raises) stops the node
    cleanly: no exception escapes, the outcome says interrupted, and a second run on the same
    files resumes to the uninterrupted result without sending any order twice."""
    import orchestrade.orchestration.runtime as runtime

    backtest = Backtest(bars, spec(stops=STOPS), cash=10_000_000.0, market="krx")
    expected = backtest.run(**PARAMS)
    real = runtime.iter_slices

    def breaking(panel: BarPanel, timeframe: str = "1d") -> Any:
        for number, item in enumerate(real(panel, timeframe)):
            if number == 60:
                raise ConnectionError("feed disconnected")
            yield item

    options: dict[str, Any] = {
        "params": PARAMS,
        "database_url": f"sqlite:///{tmp_path / 'app.db'}",
        "broker_path": tmp_path / "paper" / "bot.db",
    }
    monkeypatch.setattr(runtime, "iter_slices", breaking)
    first = replay(backtest, **options)
    monkeypatch.setattr(runtime, "iter_slices", real)
    second = replay(backtest, **options)

    assert first.interrupted
    assert first.bars == 60 * len(bars.symbols)
    assert second.interrupted is False
    assert "failed" not in second.counters["execution"]
    assert_same_trading(expected, second)


def test_signal_decisions_are_recorded_once_even_across_a_resumed_run(
    bars: BarPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every decision of the rules (approved or rejected, with the reasons) lands in the
    signals table; a run resumed after an interruption decides its earlier bars again but
    does not record them twice."""
    import orchestrade.orchestration.runtime as runtime
    from orchestrade.storage import SignalRepository, open_store

    backtest = Backtest(bars, "sma_cross", cash=10_000_000.0, market="krx")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    options: dict[str, Any] = {"params": PARAMS, "database_url": url}
    whole = replay(backtest, broker_path=tmp_path / "whole.db", bot_id="whole", **options)

    real = runtime.iter_slices

    def breaking(panel: BarPanel, timeframe: str = "1d") -> Any:
        for number, item in enumerate(real(panel, timeframe)):
            if number == 70:
                raise ConnectionError("feed disconnected")
            yield item

    monkeypatch.setattr(runtime, "iter_slices", breaking)
    replay(backtest, broker_path=tmp_path / "split.db", bot_id="split", **options)
    monkeypatch.setattr(runtime, "iter_slices", real)
    replay(backtest, broker_path=tmp_path / "split.db", bot_id="split", **options)

    with open_store(url) as store:
        repository = SignalRepository(store)
        recorded = {
            bot: repository.recent(limit=10_000, bot_id=bot)  # type: ignore[arg-type]
            for bot in ("whole", "split")
        }
    decided = whole.counters["orchestrator"]
    assert len(recorded["whole"]) == decided.get("approved", 0) + decided.get("rejected", 0)
    key = [(d.signal.time, d.signal.symbol, d.approved, d.reason) for d in recorded["whole"]]
    again = [(d.signal.time, d.signal.symbol, d.approved, d.reason) for d in recorded["split"]]
    assert again == key
    assert len(set(again)) == len(again)


def test_the_node_checkpoints_its_files_off_the_loop_and_stops_doing_so_at_the_end(
    bars: BarPanel, tmp_path: Path
) -> None:
    backtest = Backtest(bars, spec(), cash=10_000_000.0, market="krx")
    node = TradingNode(
        backtest,
        params=PARAMS,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        broker_path=tmp_path / "paper" / "bot.db",
    )

    async def run() -> list[bool]:
        await node.start()
        running = [checkpointer.running for checkpointer in node.checkpointers]
        assert node.data is not None
        await node.data.finished.wait()
        await node.stop()
        return running

    running = asyncio.run(run())

    files = sorted(checkpointer.path for checkpointer in node.checkpointers)
    assert files == sorted([tmp_path / "app.db", tmp_path / "paper" / "bot.db"])
    assert running == [True, True]
    assert not any(checkpointer.running for checkpointer in node.checkpointers)
    assert all(checkpointer.failure is None for checkpointer in node.checkpointers)


def test_a_node_on_a_database_in_memory_checkpoints_only_the_brokers_file(
    bars: BarPanel, tmp_path: Path
) -> None:
    backtest = Backtest(bars, spec(), cash=10_000_000.0, market="krx")
    node = TradingNode(
        backtest, params=PARAMS, database_url="sqlite://", broker_path=tmp_path / "bot.db"
    )
    node.build()
    try:
        assert [checkpointer.path for checkpointer in node.checkpointers] == [tmp_path / "bot.db"]
    finally:
        assert node.broker is not None
        assert node.store is not None
        node.broker.close()
        node.store.close()
