"""The synthetic market: deterministic, consistent OHLC, realistic statistics, clean data."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from orchestrade.data.calendars import sessions
from orchestrade.data.quality import Recommendation, check_quality
from orchestrade.data.synthetic import (
    SyntheticMarket,
    SyntheticMarketError,
    SyntheticParameters,
    krx_tick_size,
    round_to_krx_tick,
    synthesize_market,
)
from orchestrade.domain import KrxTickRule, Market


@pytest.fixture(scope="module")
def krx_market() -> SyntheticMarket:
    return synthesize_market(30, 1500, seed=11, market=Market.KRX)


@pytest.fixture(scope="module")
def us_market() -> SyntheticMarket:
    return synthesize_market(30, 1500, seed=11, market=Market.US)


def log_returns(market: SyntheticMarket) -> pd.DataFrame:
    closes = market.bars.pivot(index="timestamp", columns="symbol", values="close")
    return np.log(closes).diff().iloc[1:]


def test_same_seed_gives_the_same_market() -> None:
    first = synthesize_market(5, 60, seed=3, market=Market.US)
    second = synthesize_market(5, 60, seed=3, market=Market.US)

    pd.testing.assert_frame_equal(first.bars, second.bars)
    assert first.sectors == second.sectors


def test_different_seeds_give_different_markets() -> None:
    first = synthesize_market(5, 60, seed=3, market=Market.US)
    second = synthesize_market(5, 60, seed=4, market=Market.US)

    assert not first.bars["close"].equals(second.bars["close"])


def test_bars_follow_the_contract_on_the_real_calendar(krx_market: SyntheticMarket) -> None:
    bars = krx_market.bars

    assert list(bars.columns) == ["symbol", "timestamp", "open", "high", "low", "close", "volume"]
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert bars["symbol"].dtype == object
    assert all(
        bars[column].dtype == np.float64 for column in ["open", "high", "low", "close", "volume"]
    )
    assert bars.equals(bars.sort_values(["symbol", "timestamp"], ignore_index=True))
    days = pd.DatetimeIndex(bars["timestamp"].unique())
    assert list(days) == list(sessions(Market.KRX, "2018-01-02", days.max()))
    assert len(days) == 1500


def test_instruments_are_labelled_synthetic(krx_market: SyntheticMarket) -> None:
    first = krx_market.instruments[0]

    assert (first.symbol, first.name, first.market, first.currency) == (
        "SYN0001",
        "Synthetic 1",
        Market.KRX,
        "KRW",
    )
    assert krx_market.synthetic
    assert krx_market.metadata["synthetic"].all()
    assert krx_market.metadata["symbol"].tolist()[-1] == "SYN0030"


@pytest.mark.parametrize("fixture", ["krx_market", "us_market"])
def test_ohlc_is_consistent_and_positive(fixture: str, request: pytest.FixtureRequest) -> None:
    bars = request.getfixturevalue(fixture).bars

    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars[["open", "high", "low", "close"]] > 0).all().all()
    assert (bars["volume"] >= 1).all()


def test_krx_prices_sit_on_the_tick_grid_and_within_the_daily_limit(
    krx_market: SyntheticMarket,
) -> None:
    bars = krx_market.bars
    rule = KrxTickRule()
    sample = bars.sample(2000, random_state=1)

    for column in ("open", "high", "low", "close"):
        assert (sample[column] == sample[column].round()).all()
        assert all(rule.is_valid_price(Decimal(int(value))) for value in sample[column])
    previous = bars.groupby("symbol")["close"].shift()
    for column in ("open", "high", "low", "close"):
        change = (bars[column] / previous - 1).dropna()
        assert change.abs().max() <= 0.30 + 1e-12


def test_us_prices_are_in_cents(us_market: SyntheticMarket) -> None:
    prices = us_market.bars[["open", "high", "low", "close"]].to_numpy()

    assert np.allclose(prices * 100, np.round(prices * 100), atol=1e-6)


def test_symbols_are_positively_correlated_near_the_model(us_market: SyntheticMarket) -> None:
    returns = log_returns(us_market)
    correlation = returns.corr().to_numpy()
    sector = np.array([us_market.sectors[symbol] for symbol in returns.columns])
    upper = np.triu_indices(len(sector), 1)
    same = (sector[:, None] == sector[None, :])[upper]
    model = us_market.parameters

    across = correlation[upper][~same].mean()
    within = correlation[upper][same].mean()

    assert abs(across - model.expected_correlation(same_sector=False)) < 0.06
    assert abs(within - model.expected_correlation(same_sector=True)) < 0.06
    assert within > across > 0.2


def test_turbulent_regimes_are_visibly_more_volatile(us_market: SyntheticMarket) -> None:
    returns = log_returns(us_market)
    regime = us_market.regimes.reindex(returns.index)

    calm = returns[regime == "calm"].std().mean()
    turbulent = returns[regime == "turbulent"].std().mean()

    assert 0.05 < (regime == "turbulent").mean() < 0.35
    assert 1.8 < turbulent / calm < 3.2  # the model's multiplier is 2.5


def test_returns_have_fat_tails(us_market: SyntheticMarket) -> None:
    returns = log_returns(us_market).stack()
    standardized = (returns - returns.mean()) / returns.std()

    assert (standardized**4).mean() > 4.5  # a normal distribution has kurtosis 3


def test_volume_rises_with_absolute_returns(us_market: SyntheticMarket) -> None:
    bars = us_market.bars.copy()
    bars["move"] = np.log(bars["close"]).groupby(bars["symbol"]).diff().abs()

    ranks = bars.dropna().groupby("symbol")[["move", "volume"]].corr(method="spearman")

    assert ranks.xs("move", level=1)["volume"].mean() > 0.2


def test_synthetic_markets_pass_the_quality_check(
    krx_market: SyntheticMarket, us_market: SyntheticMarket
) -> None:
    crypto = synthesize_market(5, 400, seed=2, market=Market.CRYPTO)

    for market in (krx_market, us_market, crypto):
        report = check_quality(market.bars, market_of=market.market, timeframe="1d")
        assert report.recommendation is Recommendation.USE
        assert report.summary()["recommendations"]["use"] == len(market.instruments)


def test_crypto_trades_every_calendar_day() -> None:
    crypto = synthesize_market(
        2, 10, seed=2, market=Market.CRYPTO, start=pd.Timestamp("2024-03-08").date()
    )

    days = crypto.bars["timestamp"].unique()

    assert len(days) == 10
    assert pd.Timestamp("2024-03-09", tz="UTC") in days  # a Saturday


def test_krx_tick_table() -> None:
    prices = [1999, 2000, 4995, 5000, 19990, 20000, 49950, 50000, 199900, 200000, 499500, 500000]

    assert krx_tick_size(prices).tolist() == [1, 5, 5, 10, 10, 50, 50, 100, 100, 500, 500, 1000]
    assert round_to_krx_tick([4998, 5003, 52_049, 52_051]).tolist() == [5000, 5000, 52_000, 52_100]
    assert round_to_krx_tick([4998.0], mode="down").tolist() == [4995]
    assert round_to_krx_tick([19_991.0], mode="up").tolist() == [20_000]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_symbols": 0, "n_days": 10}, "n_symbols"),
        ({"n_symbols": 2, "n_days": 1}, "n_days"),
        (
            {
                "n_symbols": 2,
                "n_days": 10,
                "parameters": SyntheticParameters(tail_degrees_of_freedom=2),
            },
            "tail",
        ),
        ({"n_symbols": 2, "n_days": 10**5}, "calendar"),
    ],
)
def test_impossible_markets_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(SyntheticMarketError, match=message):
        synthesize_market(seed=1, market=Market.US, **arguments)  # type: ignore[arg-type]
