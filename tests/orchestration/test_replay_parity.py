"""Parity: replay through the agent stack trades exactly like the backtest kernel (real data).

ARCHITECTURE section 1: the same strategy spec on the same bars gives the same trades in
`backtest` and `replay`. Compared: every trade's symbol, entry and exit time, entry and exit
price and quantity (exact), and each symbol's and the whole run's final equity (1e-9
relative), with the default rules and risk settings and with both switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from orchestrade.backtest.engine import Backtest
from orchestrade.orchestration.runtime import replay

SYMBOLS = ("000660", "005380", "005930", "035420", "069500", "102960", "122630", "252670")
TRADE_KEYS = ["symbol", "entry_time", "exit_time", "entry_price", "exit_price", "qty"]

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def krx_files(shared_data: Path) -> list[Path]:
    return [shared_data / "krx" / f"{symbol}.csv.gz" for symbol in SYMBOLS]


@pytest.mark.parametrize("strategy", ["sma_cross", "nasdaq_growth", "nyse_value"])
@pytest.mark.parametrize("policy", ["defaults", "off"])
def test_replay_trades_like_the_backtest(
    strategy: str, policy: str, krx_files: list[Path], tmp_path: Path
) -> None:
    options: dict[str, Any] = {"cash": 10_000_000.0, "fees": 0.001, "mode": "isolated"}
    if policy == "off":
        options.update(min_confidence=0.0, risk="none")
    backtest = Backtest(krx_files, strategy, **options)

    expected = backtest.run()
    outcome = replay(
        backtest,
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        broker_path=tmp_path / "broker.db",
    )
    got = outcome.result

    assert len(expected.trades) > 0
    pd.testing.assert_frame_equal(_trades(got.trades), _trades(expected.trades), check_exact=True)
    final_expected = expected.equity.iloc[-1]
    final_got = got.equity.iloc[-1]
    np.testing.assert_allclose(final_got.to_numpy(), final_expected.to_numpy(), rtol=1e-9)


def _trades(trades: pd.DataFrame) -> pd.DataFrame:
    return trades.loc[:, TRADE_KEYS].sort_values(["symbol", "entry_time"]).reset_index(drop=True)
