"""The `Backtest` front door: data in any form, strategies by name/spec/class, settings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from orchestrade.backtest.engine import Backtest
from orchestrade.backtest.errors import InputError
from orchestrade.data import synthesize_market
from orchestrade.domain import Bar, Market
from orchestrade.strategies import ParameterError, Strategy, builtin_spec
from orchestrade.strategies.errors import SpecError

REFERENCE = {"fees": 0.001, "tax": 0.0, "risk": "none", "min_confidence": 0.0}


@pytest.fixture(scope="module")
def synthetic_frame() -> pd.DataFrame:
    return synthesize_market(4, 400, 11, market=Market.KRX).bars


def reference_trades(open_: np.ndarray, close: np.ndarray, cash: float) -> list[tuple]:
    """The issue's reference rule for sma_cross 10/30 on one series, written out plainly."""
    fast, slow = talib.SMA(close, 10), talib.SMA(close, 30)
    trades, quantity, entry = [], 0.0, None
    for t in range(1, len(close) - 1):
        up = fast[t] > slow[t] and fast[t - 1] <= slow[t - 1]
        down = fast[t] < slow[t] and fast[t - 1] >= slow[t - 1]
        price = open_[t + 1]
        if up and quantity == 0:
            quantity = math.floor(cash / (price * 1.001))
            cash -= quantity * price * 1.001
            entry = (t + 1, price)
        elif down and quantity > 0 and entry is not None:
            cash += quantity * price * 0.999
            trades.append((entry[0], entry[1], t + 1, price, quantity))
            quantity, entry = 0.0, None
    if entry is not None:
        trades.append((entry[0], entry[1], len(close) - 1, close[-1], quantity))
    return trades


def test_sma_cross_follows_the_reference_rule(synthetic_frame: pd.DataFrame) -> None:
    result = Backtest(synthetic_frame, "sma_cross", cash=1e7, **REFERENCE).run()

    index = result.equity.index
    for symbol, bars in synthetic_frame.groupby("symbol"):
        expected = reference_trades(bars.open.to_numpy(), bars.close.to_numpy(), 1e7)
        mine = result.trades[result.trades.symbol == symbol]
        got = [
            (
                index.get_loc(row.entry_time),
                row.entry_price,
                index.get_loc(row.exit_time),
                row.exit_price,
                row.qty,
            )
            for row in mine.itertuples()
        ]
        assert got == expected, symbol


def test_python_class_and_spec_give_the_same_trades(synthetic_frame: pd.DataFrame) -> None:
    class SmaCross(Strategy):
        fast = 10
        slow = 30

        def on_bar(self, bar: Bar) -> None:
            closes = self.closes(bar.symbol, self.slow + 1)
            if len(closes) < self.slow + 1:
                return
            fast = talib.SMA(closes, self.fast)[-2:]
            slow = talib.SMA(closes, self.slow)[-2:]
            if fast[1] > slow[1] and fast[0] <= slow[0]:
                self.buy(bar.symbol, reasons=("golden_cross",))
            elif fast[1] < slow[1] and fast[0] >= slow[0] and self.position(bar.symbol):
                self.close(bar.symbol, reasons=("dead_cross",))

    by_class = Backtest(synthetic_frame, SmaCross, **REFERENCE).run()
    by_spec = Backtest(synthetic_frame, "sma_cross", **REFERENCE).run()

    pd.testing.assert_frame_equal(by_class.trades, by_spec.trades)


def test_unknown_parameter_names_the_closest_one(synthetic_frame: pd.DataFrame) -> None:
    engine = Backtest(synthetic_frame, "sma_cross", **REFERENCE)

    with pytest.raises(ParameterError, match="fast"):
        engine.run(fsat=5)


def test_unknown_strategy_lists_the_builtins(synthetic_frame: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match="sma_cross"):
        Backtest(synthetic_frame, "sma_crosss")


def test_default_rules_refuse_low_confidence_signals(synthetic_frame: pd.DataFrame) -> None:
    spec = builtin_spec("macd_momentum")

    strict = Backtest(synthetic_frame, spec, risk="none").run()
    loose = Backtest(synthetic_frame, spec, risk="none", min_confidence=0.0).run()

    assert strict.settings["min_confidence"] == 0.65
    assert strict.settings["refused"].get("min_confidence", 0) > 0
    assert len(loose.trades) > len(strict.trades)


def test_krx_symbols_pay_the_krx_sell_tax_by_default(synthetic_frame: pd.DataFrame) -> None:
    taxed = Backtest(
        synthetic_frame, "sma_cross", market="krx", risk="none", min_confidence=0
    ).run()

    sells = taxed.fills[taxed.fills.side == "sell"]
    assert taxed.settings["sell_tax"][0] > 0
    assert (sells.tax > 0).all()
    assert (taxed.fills[taxed.fills.side == "buy"].tax == 0).all()


def test_portfolio_symbol_columns_add_up_to_the_account(synthetic_frame: pd.DataFrame) -> None:
    result = Backtest(
        synthetic_frame, "sma_cross", mode="portfolio", position_allocation=0.25, **REFERENCE
    ).run()

    equity = result.equity
    symbols = [c for c in equity.columns if c != "total"]
    pnl = (equity[symbols] - 1e7).sum(axis=1)
    np.testing.assert_allclose(equity["total"] - 1e7, pnl, rtol=1e-9, atol=1e-3)


def test_evaluate_matches_run_for_the_whole_account(synthetic_frame: pd.DataFrame) -> None:
    engine = Backtest(synthetic_frame, "sma_cross", **REFERENCE)

    full = engine.run(fast=8).metrics
    light = engine.evaluate(fast=8).to_dict()

    for key in ("total_return", "sharpe_ratio", "max_drawdown", "trades", "exposure"):
        assert light[key] == pytest.approx(full[key], rel=1e-12), key


def test_results_json_has_the_documented_shape(
    synthetic_frame: pd.DataFrame, tmp_path: Path
) -> None:
    result = Backtest(synthetic_frame, "sma_cross", **REFERENCE).run()

    document = result.to_dict()

    assert set(document) >= {"metrics", "per_symbol", "trades", "timing"}
    assert set(document["timing"]) == {"bars", "seconds", "load_seconds"}
    assert document["timing"]["bars"] == len(synthetic_frame)
    first = document["trades"][0]
    assert set(first) == {
        "symbol",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "qty",
        "pnl",
        "fees",
    }
    per_symbol = document["per_symbol"][first["symbol"]]
    assert {"final_equity", "trades", "total_return"} <= set(per_symbol)


def test_data_that_is_not_bars_is_refused() -> None:
    with pytest.raises(InputError, match="data must be"):
        Backtest(42, "sma_cross")


def test_files_with_different_timeframes_are_refused(tmp_path: Path) -> None:
    daily = tmp_path / "d.csv"
    daily.write_text(
        "date,symbol,open,high,low,close,volume\n2024-01-02,A,1,1,1,1,1\n2024-01-03,A,1,1,1,1,1\n",
        encoding="utf-8",
    )
    minute = tmp_path / "m.csv"
    minute.write_text(
        "timestamp,symbol,open,high,low,close,volume\n"
        "2024-01-02T14:30:00Z,B,1,1,1,1,1\n2024-01-02T14:31:00Z,B,1,1,1,1,1\n",
        encoding="utf-8",
    )

    with pytest.raises(InputError, match="mix timeframes"):
        Backtest(tmp_path, "sma_cross")


def test_krx_etfs_and_etns_are_exempt_from_the_sell_tax(tmp_path: Path) -> None:
    frame = synthesize_market(3, 200, 3, market=Market.KRX).bars
    names = {"SYN0001": "삼성전자", "SYN0002": "KODEX 200", "SYN0003": "TIGER 200 ETN"}
    frame = frame.assign(code=frame.symbol, name=frame.symbol.map(names)).drop(columns="symbol")
    path = tmp_path / "krx.csv"
    frame.to_csv(path, index=False)

    result = Backtest(path, "sma_cross", market="krx", risk="none", min_confidence=0).run()

    sells = result.fills[result.fills.side == "sell"]
    taxed = set(sells[sells.tax > 0].symbol)
    assert taxed == {"SYN0001"}
    assert set(sells.symbol) == {"SYN0001", "SYN0002", "SYN0003"}


def test_backtest_survives_pickling_for_remote_workers(synthetic_frame: pd.DataFrame) -> None:
    import pickle

    engine = Backtest(synthetic_frame, "sma_cross", **REFERENCE)

    copy = pickle.loads(pickle.dumps(engine))

    assert copy.evaluate(fast=7).to_dict() == engine.evaluate(fast=7).to_dict()
