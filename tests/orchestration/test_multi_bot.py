"""Several bots in one node: each trades exactly like its own backtest, through one bus, one
OMS and one broker account; bots that cannot share a node are refused with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orchestrade.backtest.engine import Backtest
from orchestrade.data import BarPanel
from orchestrade.orchestration.errors import RuntimeConfigurationError
from orchestrade.orchestration.runtime import BotPlan, TradingNode, replay
from orchestrade.storage import BotRepository, open_store

from .test_runtime import bars  # noqa: F401  (the synthetic two-symbol fixture)

TRADE_KEYS = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]
OFF: dict[str, Any] = {"fees": 0.001, "min_confidence": 0.0, "risk": "none"}
REAL_SYMBOLS = ("000660", "005380", "005930", "035420", "069500", "102960", "122630", "252670")


def _trades(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, TRADE_KEYS].sort_values(["symbol", "entry_time"]).reset_index(drop=True)


def _assert_each_bot_trades_like_its_backtest(
    plans: dict[str, tuple[Backtest, dict[str, Any]]], tmp_path: Path
) -> None:
    (first, (backtest, params)), *others = plans.items()
    outcome = replay(
        backtest,
        params=params,
        bot_id=first,
        more_bots=[BotPlan(bot, bt, p) for bot, (bt, p) in others],
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        broker_path=tmp_path / "broker.db",
    )
    assert sorted(outcome.results) == sorted(plans)
    assert outcome.result is outcome.results[first]
    traded = 0
    for bot, (bt, p) in plans.items():
        expected, got = bt.run(**p), outcome.results[bot]
        traded += len(expected.trades)
        pd.testing.assert_frame_equal(
            _trades(got.trades), _trades(expected.trades), check_exact=True
        )
        np.testing.assert_allclose(
            got.equity.iloc[-1].to_numpy(), expected.equity.iloc[-1].to_numpy(), rtol=1e-9
        )
        assert (
            len(got.fills)
            == 2 * len(expected.trades) - (expected.trades["exit_reason"] == "end").sum()
        )
    assert traded > 0


def test_two_bots_share_a_node_and_each_trades_like_its_backtest(
    bars: BarPanel,  # noqa: F811
    tmp_path: Path,
) -> None:
    fast = Backtest(bars, "sma_cross", cash=10_000_000.0, market="krx", **OFF)
    slow = Backtest(bars, "sma_cross", cash=5_000_000.0, market="krx", **OFF)
    _assert_each_bot_trades_like_its_backtest(
        {"fast": (fast, {"fast": 3, "slow": 10}), "slow": (slow, {"fast": 5, "slow": 20})},
        tmp_path,
    )
    with open_store(f"sqlite:///{tmp_path / 'app.db'}") as store:
        saved = {bot: BotRepository(store).get(bot) for bot in ("fast", "slow")}
    allocations = {bot: float(b.allocation) for bot, b in saved.items() if b is not None}
    assert allocations == pytest.approx({"fast": 2 / 3, "slow": 1 / 3})


@pytest.mark.shared_data
@pytest.mark.slow
def test_three_strategies_in_one_node_on_real_data(shared_data: Path, tmp_path: Path) -> None:
    files = [shared_data / "krx" / f"{symbol}.csv.gz" for symbol in REAL_SYMBOLS]
    plans = {
        name: (Backtest(files, name, cash=10_000_000.0, **OFF), {})
        for name in ("sma_cross", "nasdaq_growth", "nyse_value")
    }
    _assert_each_bot_trades_like_its_backtest(plans, tmp_path)


def test_bots_that_cannot_share_a_node_are_refused(
    bars: BarPanel,  # noqa: F811
    tmp_path: Path,
) -> None:
    base = Backtest(bars, "sma_cross", cash=1_000_000.0, market="krx", **OFF)
    options: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'app.db'}",
        "broker_path": tmp_path / "broker.db",
        "bot_id": "a",
    }
    other_bars = BarPanel(
        bars.symbols[:1],
        bars.timestamps,
        bars.open[:1],
        bars.high[:1],
        bars.low[:1],
        bars.close[:1],
        bars.volume[:1],
    )
    cases = {
        "given twice": BotPlan("a", base),
        "other bars": BotPlan("b", Backtest(other_bars, "sma_cross", market="krx", **OFF)),
        "other costs": BotPlan(
            "b", Backtest(bars, "sma_cross", market="krx", fees=0.002, min_confidence=0.0)
        ),
    }
    for needle, plan in cases.items():
        with pytest.raises(RuntimeConfigurationError, match=needle):
            TradingNode(base, more_bots=[plan], **options)
    with pytest.raises(RuntimeConfigurationError, match="one process"):
        TradingNode(base, more_bots=[BotPlan("b", base)], remote=["strategy"], **options)
