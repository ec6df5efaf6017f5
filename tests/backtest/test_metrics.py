"""Metrics: hand-computed cases, edge behaviour, and equality with empyrical on the same returns."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.backtest import performance
from orchestrade.backtest.errors import InputError
from orchestrade.backtest.metrics import (
    Metrics,
    compute_metrics,
    per_symbol_metrics,
    run_metrics,
    traded_value,
)
from orchestrade.backtest.periods import periods_per_year
from orchestrade.backtest.tables import TRADE_COLUMNS, check_fills, check_trades, empty_trades
from orchestrade.domain import Market

EmpyricalStat = Callable[[np.ndarray, float], float]

EMPYRICAL_STATS: dict[str, EmpyricalStat] = {
    "total_return": lambda r, _ppy: float(empyrical.cum_returns_final(r)),
    "cagr": lambda r, ppy: float(empyrical.cagr(r, annualization=ppy)),
    "annual_volatility": lambda r, ppy: float(empyrical.annual_volatility(r, annualization=ppy)),
    "sharpe_ratio": lambda r, ppy: float(empyrical.sharpe_ratio(r, annualization=ppy)),
    "sortino_ratio": lambda r, ppy: float(empyrical.sortino_ratio(r, annualization=ppy)),
    "calmar_ratio": lambda r, ppy: float(empyrical.calmar_ratio(r, annualization=ppy)),
    "max_drawdown": lambda r, _ppy: float(empyrical.max_drawdown(r)),
}
"""Each `Metrics` field that empyrical also computes, as empyrical computes it."""

PERFORMANCE_FUNCTIONS: dict[str, Callable[[np.ndarray, float], float]] = {
    "total_return": lambda r, _ppy: performance.total_return(r),
    "cagr": performance.cagr,
    "annual_volatility": performance.annual_volatility,
    "sharpe_ratio": performance.sharpe_ratio,
    "sortino_ratio": performance.sortino_ratio,
    "calmar_ratio": performance.calmar_ratio,
    "max_drawdown": lambda r, _ppy: performance.max_drawdown(r),
}

PERIODS = [252, 365, 52, 12, 252 * 390, 365 * 1440]


def days(count: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=count, freq="D", tz="UTC")


def curve(values: Sequence[float], index: pd.DatetimeIndex | None = None) -> pd.Series:
    return pd.Series(
        np.asarray(values, dtype=np.float64), index=days(len(values)) if index is None else index
    )


def trades_frame(
    pnl: Sequence[float],
    return_pct: Sequence[float] | None = None,
    fees: Sequence[float] | None = None,
    symbol: str = "A",
) -> pd.DataFrame:
    count = len(pnl)
    entry = days(count) if count else pd.DatetimeIndex([], tz="UTC")
    return check_trades(
        pd.DataFrame(
            {
                "symbol": [symbol] * count,
                "entry_time": entry,
                "entry_price": [100.0] * count,
                "exit_time": entry + pd.Timedelta(days=1),
                "exit_price": [101.0] * count,
                "qty": [1.0] * count,
                "pnl": list(pnl),
                "fees": list(fees) if fees is not None else [0.0] * count,
                "exit_reason": ["signal"] * count,
                "return_pct": list(return_pct) if return_pct is not None else [0.0] * count,
                "bars_held": [1] * count,
            }
        )
    )


def metrics_of(
    values: Sequence[float],
    *,
    trades: pd.DataFrame | None = None,
    positions: Sequence[float] | None = None,
    traded: float = 0.0,
    ppy: float = 252,
    index: pd.DatetimeIndex | None = None,
) -> Metrics:
    return compute_metrics(
        curve(values, index),
        trades if trades is not None else empty_trades(),
        positions=np.zeros(len(values)) if positions is None else np.asarray(positions),
        traded_value=traded,
        periods_per_year=ppy,
    )


def assert_same(ours: float, theirs: float, what: str = "") -> None:
    if math.isnan(theirs):
        assert math.isnan(ours), f"{what}: {ours} != NaN"
    elif math.isinf(theirs):
        assert ours == theirs, f"{what}: {ours} != {theirs}"
    else:
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), f"{what}: {ours} != {theirs}"


def assert_metrics_match_empyrical(metrics: Metrics, equity: np.ndarray, ppy: float) -> None:
    returns = empyrical.simple_returns(np.asarray(equity, dtype=np.float64))
    with np.errstate(all="ignore"):  # empyrical warns on overflow where we return inf quietly
        expected = {name: stat(returns, ppy) for name, stat in EMPYRICAL_STATS.items()}
    for name, value in expected.items():
        assert_same(getattr(metrics, name), value, name)
    assert_same(metrics.max_drawdown_pct, expected["max_drawdown"] * 100.0, "max_drawdown_pct")


# --- periods per year ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeframe", "market", "expected"),
    [
        ("1d", Market.KRX, 252),
        ("1d", "us", 252),
        ("1d", "crypto", 365),
        ("1w", "krx", 52),
        ("1w", "crypto", 52),
        ("1m", "us", 252 * 390),
        ("1m", "krx", 252 * 390),
        ("5m", "us", 252 * 78),
        ("30m", "krx", 252 * 13),
        ("1h", "us", 252 * 7),
        ("4h", "us", 252 * 2),
        ("1m", "crypto", 365 * 1440),
        ("15m", "crypto", 365 * 96),
        ("4h", "crypto", 365 * 6),
    ],
)
def test_periods_per_year_follows_the_market_calendar(
    timeframe: str, market: Market | str, expected: int
) -> None:
    assert periods_per_year(timeframe, market) == expected


@pytest.mark.parametrize(("timeframe", "market"), [("2d", "us"), ("1d", "forex"), ("", "krx")])
def test_periods_per_year_rejects_unknown_timeframes_and_markets(
    timeframe: str, market: str
) -> None:
    with pytest.raises(InputError, match="is not one of"):
        periods_per_year(timeframe, market)


# --- hand-computed cases ---------------------------------------------------------------------


def test_metrics_of_a_small_curve_equal_the_hand_computed_values() -> None:
    returns = [0.1, -0.1, 120 / 99 - 1]

    metrics = metrics_of([100, 110, 99, 120])

    assert metrics.start_equity == 100.0
    assert metrics.final_equity == 120.0
    assert metrics.total_return == pytest.approx(0.2, rel=1e-12)
    assert metrics.cagr == pytest.approx(1.2 ** (252 / 3) - 1, rel=1e-12)
    assert metrics.annual_volatility == pytest.approx(statistics.stdev(returns) * 252**0.5)
    assert metrics.sharpe_ratio == pytest.approx(
        statistics.mean(returns) / statistics.stdev(returns) * 252**0.5
    )
    downside = math.sqrt(0.01 / 3) * 252**0.5
    assert metrics.sortino_ratio == pytest.approx(statistics.mean(returns) * 252 / downside)
    assert metrics.max_drawdown == pytest.approx(-0.1, rel=1e-12)
    assert metrics.max_drawdown_pct == pytest.approx(-10.0, rel=1e-12)
    assert metrics.calmar_ratio == pytest.approx((1.2 ** (252 / 3) - 1) / 0.1)
    assert metrics.max_drawdown_duration_bars == 2
    assert metrics.max_drawdown_duration_days == 2.0
    assert metrics.bars == 4


@pytest.mark.parametrize(
    ("values", "bars", "deepest"),
    [
        ([100, 120, 90, 100], 2, -0.25),  # never recovered: peak to the last bar
        ([100, 101, 102, 103], 0, 0.0),  # never under water
        ([100, 90, 100, 120, 100, 100, 110, 125], 4, -1 / 6),  # two periods, the second longer
        ([100, 90, 100, 90], 2, -0.1),  # back at the peak counts as recovered
        ([100], 0, math.nan),  # one bar: no return, no drawdown
    ],
)
def test_longest_underwater_period_runs_from_peak_to_recovery(
    values: list[float], bars: int, deepest: float
) -> None:
    metrics = metrics_of(values)

    assert metrics.max_drawdown_duration_bars == bars
    assert metrics.max_drawdown_duration_days == float(bars)
    assert_same(metrics.max_drawdown, deepest)


def test_underwater_bars_and_days_are_maximised_separately() -> None:
    index = pd.DatetimeIndex(
        [
            pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=d)
            for d in (0, 1, 30, 31, 32, 33)
        ]
    )

    metrics = metrics_of([100, 90, 100, 90, 90, 100], index=index)

    assert metrics.max_drawdown_duration_bars == 3  # bars 2 -> 5, over three days
    assert metrics.max_drawdown_duration_days == 30.0  # bars 0 -> 2, over thirty days


def test_underwater_days_are_fractional_for_intraday_bars() -> None:
    index = pd.date_range("2024-01-02 14:30", periods=4, freq="min", tz="UTC")

    metrics = metrics_of([100, 99, 98, 101], index=index, ppy=252 * 390)

    assert metrics.max_drawdown_duration_bars == 3
    assert metrics.max_drawdown_duration_days == pytest.approx(3 / 1440)


def test_trade_statistics_equal_the_hand_computed_values() -> None:
    trades = trades_frame(
        pnl=[100, -50, 30, -20, 0], return_pct=[10, -5, 3, -2, 0], fees=[1, 1, 1, 1, 1.5]
    )

    metrics = metrics_of([100, 101], trades=trades)

    assert metrics.trades == 5
    assert metrics.win_rate == 0.4
    assert metrics.average_win == 65.0
    assert metrics.average_loss == -35.0
    assert metrics.average_win_pct == 6.5
    assert metrics.average_loss_pct == -3.5
    assert metrics.profit_factor == pytest.approx(130 / 70)
    assert metrics.fees == 5.5


def test_without_trades_the_trade_statistics_are_undefined() -> None:
    metrics = metrics_of([100, 101])

    assert metrics.trades == 0
    for name in ("win_rate", "average_win", "average_loss", "profit_factor"):
        assert math.isnan(getattr(metrics, name)), name
    assert metrics.fees == 0.0


def test_profit_factor_is_infinite_without_losses_and_undefined_with_only_flat_trades() -> None:
    winners = metrics_of([100, 101], trades=trades_frame(pnl=[5, 7]))
    flat = metrics_of([100, 101], trades=trades_frame(pnl=[0, 0]))

    assert winners.profit_factor == math.inf
    assert math.isnan(winners.average_loss)
    assert winners.to_dict()["profit_factor"] is None
    assert math.isnan(flat.profit_factor)
    assert flat.win_rate == 0.0


def test_exposure_is_the_share_of_bars_holding_a_position() -> None:
    quantities = metrics_of([100, 100, 100, 100], positions=[0, 5, 2.5, 0])
    flags = metrics_of([100, 100, 100, 100], positions=[True, False, False, False])

    assert quantities.exposure == 0.5
    assert flags.exposure == 0.25


@pytest.mark.parametrize(("bars", "expected"), [(253, 2.0), (127, 4.0), (505, 1.0)])
def test_turnover_is_traded_value_over_mean_equity_per_year(bars: int, expected: float) -> None:
    metrics = metrics_of([1000.0] * bars, traded=2000.0, ppy=252)

    assert metrics.turnover == pytest.approx(expected)


def test_turnover_of_a_single_bar_is_undefined() -> None:
    assert math.isnan(metrics_of([1000.0], traded=10.0).turnover)


def test_traded_value_sums_both_sides_of_every_fill() -> None:
    fills = check_fills(
        pd.DataFrame(
            {
                "symbol": ["A", "A", "B"],
                "time": days(3),
                "side": ["buy", "sell", "buy"],
                "qty": [10.0, 10.0, 0.5],
                "price": [100.0, 110.0, 20.0],
                "fee": [0.0, 0.0, 0.0],
                "tax": [0.0, 0.0, 0.0],
                "reason": ["entry", "signal", "entry"],
            }
        )
    )

    assert traded_value(fills) == 2110.0
    assert traded_value(fills.iloc[0:0]) == 0.0


def test_run_and_symbol_metrics_split_trades_fills_and_positions_by_symbol() -> None:
    index = days(4)
    equity = pd.DataFrame({"A": [100.0, 110, 121, 121], "B": [100.0, 100, 90, 99]}, index=index)
    equity["total"] = equity["A"] + equity["B"]
    positions = pd.DataFrame({"A": [0.0, 1, 0, 0], "B": [0.0, 0, 2, 0]}, index=index)
    trades = pd.concat(
        [trades_frame([21.0], symbol="A"), trades_frame([-1.0, 0.5], symbol="B")],
        ignore_index=True,
    )
    fills = check_fills(
        pd.DataFrame(
            {
                "symbol": ["A", "A", "B"],
                "time": index[[1, 2, 2]],
                "side": ["buy", "sell", "buy"],
                "qty": [1.0, 1.0, 2.0],
                "price": [100.0, 121.0, 45.0],
                "fee": [0.0] * 3,
                "tax": [0.0] * 3,
                "reason": ["entry", "signal", "entry"],
            }
        )
    )

    run = run_metrics(equity, trades, fills, positions, periods_per_year=252)
    symbols = per_symbol_metrics(equity, trades, fills, positions, periods_per_year=252)

    assert list(symbols) == ["A", "B"]
    assert run.exposure == 0.5
    assert (symbols["A"].exposure, symbols["B"].exposure) == (0.25, 0.25)
    assert (run.trades, symbols["A"].trades, symbols["B"].trades) == (3, 1, 2)
    assert run.total_return == pytest.approx(220 / 200 - 1)
    assert symbols["A"].final_equity == 121.0
    assert symbols["B"].win_rate == 0.5
    assert run.turnover == pytest.approx(311.0 / equity["total"].mean() / (3 / 252))
    assert symbols["A"].turnover == pytest.approx(221.0 / equity["A"].mean() / (3 / 252))


def test_to_dict_is_json_with_none_for_undefined_and_infinite_values() -> None:
    metrics = metrics_of([100.0], trades=trades_frame(pnl=[3.0]))

    document = metrics.to_dict()

    assert document["sharpe_ratio"] is None
    assert document["profit_factor"] is None
    assert document["trades"] == 1
    assert isinstance(document["trades"], int)
    assert document["final_equity"] == 100.0
    assert set(document) == set(Metrics.__dataclass_fields__)
    json.dumps(document, allow_nan=False)


@pytest.mark.parametrize(
    ("equity", "message"),
    [
        (pd.Series([100.0, 101.0], index=pd.date_range("2024-01-01", periods=2)), "UTC"),
        (pd.Series([100.0, 101.0], index=days(2)[::-1]), "strictly increasing"),
        (pd.Series([100.0, 0.0], index=days(2)), "positive"),
        (pd.Series([100.0, math.nan], index=days(2)), "positive"),
        (pd.Series([], index=days(0), dtype=float), "no bars"),
        ([100.0, 101.0], "must be a Series"),
    ],
)
def test_bad_equity_is_refused_with_the_reason(equity: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        compute_metrics(
            equity,  # type: ignore[arg-type]
            empty_trades(),
            positions=np.zeros(2),
            traded_value=0.0,
            periods_per_year=252,
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"positions": np.zeros(3)}, "one value per bar"),
        ({"positions": np.array([0.0, math.inf])}, "finite"),
        ({"traded_value": -1.0}, "traded_value"),
        ({"traded_value": math.nan}, "traded_value"),
        ({"periods_per_year": 0}, "periods_per_year"),
        ({"trades": pd.DataFrame({"pnl": [1.0]})}, "return_pct, fees"),
        (
            {"trades": pd.DataFrame({"pnl": [math.inf], "return_pct": [0.0], "fees": [0.0]})},
            "finite",
        ),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    changes: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "positions": np.zeros(2),
        "traded_value": 0.0,
        "periods_per_year": 252,
        "trades": empty_trades(),
    }
    arguments.update(changes)
    trades = arguments.pop("trades")

    with pytest.raises(InputError, match=message):
        compute_metrics(curve([100.0, 101.0]), trades, **arguments)  # type: ignore[arg-type]


def test_trades_frame_fixture_has_the_contract_columns() -> None:
    assert tuple(trades_frame([1.0]).columns) == TRADE_COLUMNS


# --- edge behaviour, the same as empyrical's -------------------------------------------------


def test_a_flat_curve_has_zero_volatility_and_undefined_ratios() -> None:
    metrics = metrics_of([100.0] * 10)

    assert metrics.total_return == 0.0
    assert metrics.annual_volatility == 0.0
    assert metrics.max_drawdown == 0.0
    assert math.isnan(metrics.sharpe_ratio)
    assert math.isnan(metrics.sortino_ratio)
    assert math.isnan(metrics.calmar_ratio)
    assert_metrics_match_empyrical(metrics, np.full(10, 100.0), 252)


@pytest.mark.parametrize(("value", "sharpe"), [(0.01, math.inf), (-0.01, -math.inf)])
def test_constant_nonzero_returns_have_an_infinite_sharpe_ratio_like_empyrical(
    value: float, sharpe: float
) -> None:
    returns = np.full(12, value)

    assert performance.sharpe_ratio(returns, 252) == sharpe
    assert empyrical.sharpe_ratio(returns, annualization=252) == sharpe
    assert performance.annual_volatility(returns, 252) == 0.0


@pytest.mark.parametrize("length", [0, 1, 2])
def test_short_series_follow_empyrical(length: int) -> None:
    values = [100.0, 104.0, 101.0][:length] or [100.0]
    metrics = metrics_of(values)

    assert_metrics_match_empyrical(metrics, np.asarray(values), 252)


def test_simple_returns_equal_empyricals() -> None:
    equity = np.array([100.0, 110.0, 99.0, 120.0, 120.0, 3.0])

    assert np.array_equal(performance.simple_returns(equity), empyrical.simple_returns(equity))


# --- equality with empyrical on generated returns --------------------------------------------

basis_points = st.integers(min_value=-9_999, max_value=30_000).map(lambda bp: bp / 10_000)


@settings(max_examples=120, deadline=None)
@given(
    equity=st.lists(st.integers(min_value=1_000, max_value=1_000_000), min_size=1, max_size=80),
    ppy=st.sampled_from(PERIODS),
)
def test_metrics_of_any_equity_curve_equal_empyricals(equity: list[int], ppy: int) -> None:
    values = np.asarray(equity, dtype=np.float64)

    metrics = metrics_of(values.tolist(), ppy=ppy)

    assert_metrics_match_empyrical(metrics, values, ppy)


@settings(max_examples=300, deadline=None)
@given(returns=st.lists(basis_points, max_size=80), ppy=st.sampled_from(PERIODS))
def test_statistics_of_any_returns_equal_empyricals(returns: list[float], ppy: int) -> None:
    series = np.asarray(returns, dtype=np.float64)

    for name, ours in PERFORMANCE_FUNCTIONS.items():
        with np.errstate(all="ignore"):
            expected = EMPYRICAL_STATS[name](series, ppy)
        assert_same(ours(series, ppy), expected, name)


@settings(max_examples=100, deadline=None)
@given(value=basis_points, length=st.integers(min_value=0, max_value=40))
def test_statistics_of_zero_variance_returns_equal_empyricals(value: float, length: int) -> None:
    series = np.full(length, value)

    for name, ours in PERFORMANCE_FUNCTIONS.items():
        with np.errstate(all="ignore"):
            expected = EMPYRICAL_STATS[name](series, 252)
        assert_same(ours(series, 252), expected, name)


@settings(max_examples=100, deadline=None)
@given(
    returns=st.lists(
        st.integers(min_value=-9_999, max_value=-1).map(lambda bp: bp / 10_000),
        min_size=2,
        max_size=60,
    )
)
def test_statistics_of_all_negative_returns_equal_empyricals(returns: list[float]) -> None:
    series = np.asarray(returns, dtype=np.float64)

    for name, ours in PERFORMANCE_FUNCTIONS.items():
        assert_same(ours(series, 365), EMPYRICAL_STATS[name](series, 365), name)
    assert performance.sharpe_ratio(series, 365) < 0 or series.min() == series.max()
    assert performance.calmar_ratio(series, 365) < 0


# --- equality with empyrical on real market data ---------------------------------------------


def _closes(path: Path, *, date_column: str = "date", symbol: str | None = None) -> pd.Series:
    frame = pd.read_csv(path, usecols=[date_column, "close", *(["symbol"] if symbol else [])])
    if symbol:
        frame = frame[frame["symbol"] == symbol]
    stamps = pd.to_datetime(frame[date_column].astype(str), utc=True, format="mixed")
    closes = pd.Series(frame["close"].to_numpy(dtype=np.float64), index=stamps)
    closes = closes[np.isfinite(closes.to_numpy()) & (closes.to_numpy() > 0)]
    return closes[~closes.index.duplicated()].sort_index()


def test_metrics_of_every_krx_close_series_equal_empyricals(shared_data: Path) -> None:
    files = sorted((shared_data / "krx").glob("*.csv.gz"))
    assert len(files) == 32

    for path in files:
        closes = _closes(path)
        metrics = compute_metrics(
            closes,
            empty_trades(),
            positions=np.ones(len(closes)),
            traded_value=0.0,
            periods_per_year=periods_per_year("1d", "krx"),
        )
        assert_metrics_match_empyrical(metrics, closes.to_numpy(), 252)
        assert metrics.exposure == 1.0


def test_metrics_of_bitcoin_daily_and_spy_minutes_equal_empyricals(shared_data: Path) -> None:
    cases = [
        (_closes(shared_data / "crypto" / "btcusd_1d_2011_2025.csv.gz"), "1d", "crypto"),
        (
            _closes(
                shared_data / "intraday" / "us_spy_1m_2024-02_2024-05.csv.gz",
                date_column="timestamp",
            ),
            "1m",
            "us",
        ),
    ]
    for closes, timeframe, market in cases:
        ppy = periods_per_year(timeframe, market)
        metrics = compute_metrics(
            closes,
            empty_trades(),
            positions=np.zeros(len(closes)),
            traded_value=0.0,
            periods_per_year=ppy,
        )
        assert_metrics_match_empyrical(metrics, closes.to_numpy(), ppy)
        assert len(closes) > 5000


@pytest.mark.slow
def test_metrics_of_sp500_stocks_equal_empyricals(shared_data: Path) -> None:
    path = shared_data / "us_daily" / "sp500_5yr.csv.gz"
    frame = pd.read_csv(path, usecols=["date", "symbol", "close"])
    chosen = ["AAPL", "EBAY", "LNT", "NFLX", "NI", "APTV", "GOOG", "BHGE"]

    for symbol in chosen:
        rows = frame[frame["symbol"] == symbol]
        closes = pd.Series(
            rows["close"].to_numpy(dtype=np.float64),
            index=pd.to_datetime(rows["date"], utc=True),
        ).sort_index()
        metrics = compute_metrics(
            closes,
            empty_trades(),
            positions=np.zeros(len(closes)),
            traded_value=0.0,
            periods_per_year=252,
        )
        assert_metrics_match_empyrical(metrics, closes.to_numpy(), 252)


# --- many curves at once ---------------------------------------------------------------------


def _reference_underwater(values: list[float], stamps: list[int]) -> tuple[int, float]:
    """Plain loop: every period from a peak to its recovery (or the last bar)."""
    longest_bars, longest_nanos = 0, 0
    peak_at, peak = 0, values[0]
    for position in range(1, len(values)):
        if values[position] >= peak:
            if position - peak_at > 1:
                longest_bars = max(longest_bars, position - peak_at)
                longest_nanos = max(longest_nanos, stamps[position] - stamps[peak_at])
            peak_at, peak = position, values[position]
    last = len(values) - 1
    if last > peak_at:
        longest_bars = max(longest_bars, last - peak_at)
        longest_nanos = max(longest_nanos, stamps[last] - stamps[peak_at])
    return longest_bars, longest_nanos / 86_400e9


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=40),
    gaps=st.lists(st.integers(min_value=1, max_value=5), min_size=40, max_size=40),
)
def test_longest_underwater_equals_a_plain_loop(values: list[int], gaps: list[int]) -> None:
    stamps = np.cumsum([0, *gaps[: len(values) - 1]]) * 86_400 * 10**9
    floats = [float(value) for value in values]

    underwater = performance.longest_underwater(np.asarray(floats), stamps)

    assert (underwater.bars, underwater.days) == _reference_underwater(floats, stamps.tolist())


def test_curve_statistics_of_many_curves_equal_the_single_curve_functions() -> None:
    rng = np.random.default_rng(7)
    curves = 100 * np.cumprod(1 + rng.normal(0.0003, 0.02, size=(70, 5_000)), axis=1)
    curves[3] = 100.0  # a flat curve among them
    stamps = days(5_000).asi8

    by_rows = performance.curve_statistics(curves, stamps, 252)
    by_columns = performance.curve_statistics(curves.T.copy(), stamps, 252, time_axis=0)

    for row in (0, 3, 25, 26, 27, 69):  # 26 curves per block: rows on both sides of a boundary
        returns = performance.simple_returns(curves[row])
        for name, single in PERFORMANCE_FUNCTIONS.items():
            if name == "max_drawdown":
                assert_same(by_rows.max_drawdown[row], single(returns, 252), name)
            else:
                assert_same(getattr(by_rows, name)[row], single(returns, 252), name)
        underwater = performance.longest_underwater(curves[row], stamps)
        assert by_rows.underwater_bars[row] == underwater.bars
        assert by_rows.underwater_days[row] == underwater.days
    for name in by_rows.__dataclass_fields__:
        assert np.array_equal(getattr(by_rows, name), getattr(by_columns, name), equal_nan=True)


def test_curve_statistics_rejects_an_unknown_time_axis() -> None:
    with pytest.raises(InputError, match="time_axis"):
        performance.curve_statistics(np.ones((2, 3)), days(3).asi8, 252, time_axis=2)


def test_symbol_metrics_equal_single_account_metrics() -> None:
    rng = np.random.default_rng(3)
    index = days(300)
    symbols = [f"S{k}" for k in range(12)]
    equity = pd.DataFrame(
        1_000 * np.cumprod(1 + rng.normal(0, 0.01, size=(300, 12)), axis=0),
        index=index,
        columns=symbols,
    )
    equity["total"] = equity[symbols].sum(axis=1)
    positions = pd.DataFrame((rng.random((300, 12)) < 0.3) * 5.0, index=index, columns=symbols)
    picks = rng.integers(0, 11, size=40)  # S11 gets no trade and no fill
    trades = pd.concat(
        [trades_frame([float(rng.normal())], [1.0], [0.1], symbol=symbols[k]) for k in picks],
        ignore_index=True,
    )
    fills = check_fills(
        pd.DataFrame(
            {
                "symbol": [symbols[k] for k in picks],
                "time": index[: len(picks)],
                "side": ["buy"] * len(picks),
                "qty": rng.integers(1, 9, size=len(picks)).astype(float),
                "price": rng.uniform(10, 20, size=len(picks)),
                "fee": [0.0] * len(picks),
                "tax": [0.0] * len(picks),
                "reason": ["entry_market"] * len(picks),
            }
        )
    )

    together = per_symbol_metrics(equity, trades, fills, positions, periods_per_year=252)

    for symbol in symbols:
        alone = compute_metrics(
            equity[symbol],
            trades[trades["symbol"] == symbol],
            positions=positions[symbol].to_numpy(),
            traded_value=traded_value(fills[fills["symbol"] == symbol]),
            periods_per_year=252,
        )
        for name, value in alone.to_dict().items():
            expected = getattr(alone, name)
            assert_same(getattr(together[symbol], name), expected, f"{symbol}.{name}")
            assert (together[symbol].to_dict()[name] is None) == (value is None)
    assert together["S11"].trades == 0
    assert together["S11"].turnover == 0.0
