"""Streaming tick-to-bar aggregation: hand-computed bars, the late and duplicate tick policies,
and equality with the batch `ticks_to_bars` on random and real ticks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.data.bar_aggregation import AggregationStats, BarAggregator
from orchestrade.data.resampling import TimeframeError, resample_bars, ticks_to_bars
from orchestrade.domain import Bar, Market, Side, Symbol, Tick

BTC = Symbol("BTC")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def tick(
    time: str | datetime,
    price: float | str,
    quantity: float | str = 1,
    symbol: str = "BTC",
    aggressor: Side | None = None,
) -> Tick:
    when = at(time) if isinstance(time, str) else time
    return Tick(Symbol(symbol), when, Decimal(str(price)), Decimal(str(quantity)), aggressor)


def ohlcv(bar: Bar) -> tuple[str, str, float, float, float, float, float]:
    return (
        bar.symbol,
        bar.start.strftime("%Y-%m-%d %H:%M"),
        float(bar.open),
        float(bar.high),
        float(bar.low),
        float(bar.close),
        float(bar.volume),
    )


def stream(aggregator: BarAggregator, ticks: Iterable[Tick]) -> list[Bar]:
    """Every bar the aggregator emits for `ticks`, then the forming ones (flush())."""
    bars = [bar for bar in map(aggregator.add, ticks) if bar is not None]
    return bars + aggregator.flush()


def batch(ticks: Sequence[Tick], timeframe: str, market: Market) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([t.time for t in ticks]).as_unit("ns"),
            "symbol": [t.symbol for t in ticks],
            "price": [float(t.price) for t in ticks],
            "size": [float(t.quantity) for t in ticks],
        }
    )
    return ticks_to_bars(frame, timeframe, market=market)


def as_frame(bars: Sequence[Bar]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "symbol": pd.Series([b.symbol for b in bars], dtype=object),
            "timestamp": pd.DatetimeIndex([b.start for b in bars], tz="UTC").as_unit("ns"),
            **{
                name: np.array([float(getattr(b, name)) for b in bars], dtype=np.float64)
                for name in ("open", "high", "low", "close", "volume")
            },
        }
    )
    return frame.sort_values(["symbol", "timestamp"], kind="stable", ignore_index=True)


def assert_same_bars(streamed: Sequence[Bar], expected: pd.DataFrame) -> None:
    actual = as_frame(streamed)
    pd.testing.assert_frame_equal(actual.drop(columns="volume"), expected.drop(columns="volume"))
    np.testing.assert_allclose(actual["volume"], expected["volume"], rtol=1e-12)


# --- hand-computed ------------------------------------------------------------------


def test_a_bar_is_emitted_by_the_first_tick_of_the_next_bucket():
    aggregator = BarAggregator("1m", market=Market.CRYPTO)
    assert aggregator.add(tick("2024-01-01T00:00:05Z", 100, 2)) is None
    assert aggregator.add(tick("2024-01-01T00:00:40Z", 103, 1)) is None
    assert aggregator.add(tick("2024-01-01T00:00:59.999999Z", 99, "0.5")) is None
    bar = aggregator.add(tick("2024-01-01T00:02:00Z", 101, 1))  # 00:01 had no trade
    assert bar == Bar(BTC, "1m", at("2024-01-01T00:00Z"), Decimal(100), Decimal(103),
                      Decimal(99), Decimal(99), Decimal("3.5"))  # fmt: skip
    assert aggregator.forming(BTC) == Bar(
        BTC, "1m", at("2024-01-01T00:02Z"), *[Decimal(101)] * 4, Decimal(1)
    )
    assert aggregator.forming(Symbol("ETH")) is None
    assert aggregator.stats == AggregationStats(accepted=4, late=0, duplicates=0)


def test_flush_emits_the_bars_whose_bucket_has_ended():
    aggregator = BarAggregator("5m", market=Market.CRYPTO)
    aggregator.add(tick("2024-01-01T00:01Z", 10, symbol="ETH"))
    aggregator.add(tick("2024-01-01T00:03Z", 20, symbol="BTC"))
    aggregator.add(tick("2024-01-01T00:06Z", 30, symbol="SOL"))
    assert aggregator.flush(at("2024-01-01T00:04:59Z")) == []
    flushed = aggregator.flush(at("2024-01-01T00:05Z"))  # bucket end is exclusive
    assert [ohlcv(b) for b in flushed] == [
        ("BTC", "2024-01-01 00:00", 20.0, 20.0, 20.0, 20.0, 1.0),
        ("ETH", "2024-01-01 00:00", 10.0, 10.0, 10.0, 10.0, 1.0),
    ]
    # a flushed bucket is closed: a tick for it is late
    assert aggregator.add(tick("2024-01-01T00:04:30Z", 11, symbol="ETH")) is None
    assert aggregator.stats.late == 1
    assert [ohlcv(b) for b in aggregator.flush()] == [
        ("SOL", "2024-01-01 00:05", 30.0, 30.0, 30.0, 30.0, 1.0)
    ]
    assert aggregator.flush() == []


def test_out_of_order_ticks_in_the_forming_bar_merge_like_the_batch_sort():
    # The batch example of test_resampling: times 30 s, 10 s, 30 s, 60 s.
    ticks = [
        tick("2024-01-01T00:00:30Z", 101, 1),
        tick("2024-01-01T00:00:10Z", 100, 2),  # earlier: becomes the open
        tick("2024-01-01T00:00:30Z", 99, "0.5"),  # same time as the last: becomes the close
        tick("2024-01-01T00:01:00Z", 102, 1),
    ]
    bars = stream(BarAggregator("1m", market=Market.CRYPTO), ticks)
    assert [ohlcv(b)[2:] for b in bars] == [
        (100.0, 101.0, 99.0, 99.0, 3.5),
        (102.0, 102.0, 102.0, 102.0, 1.0),
    ]
    assert_same_bars(bars, batch(ticks, "1m", Market.CRYPTO))


def test_an_earlier_tick_with_the_opens_time_does_not_replace_the_open():
    ticks = [
        tick("2024-01-01T00:00:20Z", 101),
        tick("2024-01-01T00:00:50Z", 105),
        tick("2024-01-01T00:00:20Z", 95),  # ties with the open's time, arrived later
    ]
    (bar,) = stream(BarAggregator("1m", market=Market.CRYPTO), ticks)
    assert ohlcv(bar)[2:] == (101.0, 105.0, 95.0, 105.0, 3.0)
    assert_same_bars([bar], batch(ticks, "1m", Market.CRYPTO))


def test_late_ticks_are_dropped_and_counted():
    ticks = [
        tick("2024-01-01T00:00:10Z", 100),
        tick("2024-01-01T00:01:10Z", 101),  # emits 00:00
        tick("2024-01-01T00:00:50Z", 90),  # 00:00 already emitted: late
        tick("2024-01-01T00:03:00Z", 103),  # emits 00:01
        tick("2024-01-01T00:02:30Z", 80),  # older than the forming 00:03 bar: late
        tick("2024-01-01T00:03:01Z", 104),
    ]
    aggregator = BarAggregator("1m", market=Market.CRYPTO)
    bars = stream(aggregator, ticks)
    assert [ohlcv(b)[1:] for b in bars] == [
        ("2024-01-01 00:00", 100.0, 100.0, 100.0, 100.0, 1.0),
        ("2024-01-01 00:01", 101.0, 101.0, 101.0, 101.0, 1.0),
        ("2024-01-01 00:03", 103.0, 104.0, 103.0, 104.0, 2.0),
    ]
    assert aggregator.stats == AggregationStats(accepted=4, late=2, duplicates=0)
    accepted = [t for i, t in enumerate(ticks) if i not in (2, 4)]
    assert_same_bars(bars, batch(accepted, "1m", Market.CRYPTO))


def test_identical_prints_count_twice_by_default_and_once_with_drop():
    ticks = [
        tick("2024-01-01T00:00:10Z", 100, 2, aggressor=Side.BUY),
        tick("2024-01-01T00:00:10Z", 100, 2, aggressor=Side.BUY),  # repeat
        tick("2024-01-01T00:00:10Z", 100, 2, aggressor=Side.SELL),  # another trade
        tick("2024-01-01T00:00:10Z", 100, 3, aggressor=Side.BUY),  # another trade
        tick("2024-01-01T00:01:10Z", 101, 1),
        tick("2024-01-01T00:01:10Z", 101, 1),  # repeat in the next bar
    ]
    kept = BarAggregator("1m", market=Market.CRYPTO)
    dropped = BarAggregator("1m", market=Market.CRYPTO, duplicates="drop")
    assert [float(b.volume) for b in stream(kept, ticks)] == [9.0, 2.0]
    assert [float(b.volume) for b in stream(dropped, ticks)] == [7.0, 1.0]
    assert kept.stats == AggregationStats(accepted=6)
    assert dropped.stats == AggregationStats(accepted=4, duplicates=2)


def test_us_hourly_bars_stop_at_the_close_and_post_market_starts_at_sixteen():
    # 2024-03-08 (EST, UTC-5): open 14:30Z, close 21:00Z.
    ticks = [
        tick("2024-03-08T14:29:59Z", 1),  # pre-market, bucket from 09:00 ET (14:00Z)
        tick("2024-03-08T14:30:00Z", 2),  # the open
        tick("2024-03-08T15:29:00Z", 3),
        tick("2024-03-08T20:30:00Z", 4),  # the short 15:30-16:00 ET bar
        tick("2024-03-08T20:59:59Z", 5),
        tick("2024-03-08T21:00:00Z", 6),  # post-market
        tick("2024-03-08T21:45:00Z", 7),
    ]
    bars = stream(BarAggregator("1h", market=Market.US), ticks)
    assert [(ohlcv(b)[1], ohlcv(b)[2], ohlcv(b)[5]) for b in bars] == [
        ("2024-03-08 14:00", 1.0, 1.0),
        ("2024-03-08 14:30", 2.0, 3.0),
        ("2024-03-08 20:30", 4.0, 5.0),
        ("2024-03-08 21:00", 6.0, 7.0),
    ]
    assert_same_bars(bars, batch(ticks, "1h", Market.US))


def test_flush_at_the_close_emits_the_short_last_bar_of_a_us_session():
    aggregator = BarAggregator("1h", market=Market.US)
    aggregator.add(tick("2024-03-08T20:45:00Z", 4))
    assert aggregator.flush(at("2024-03-08T20:59:59Z")) == []
    (bar,) = aggregator.flush(at("2024-03-08T21:00:00Z"))  # 16:00 ET ends the 15:30 bar
    assert bar.start == at("2024-03-08T20:30Z")


def test_krx_hourly_bars_follow_the_late_open_of_the_first_session():
    # 2024-01-02 opens at 10:00 KST (01:00Z), closes 15:30 KST (06:30Z).
    ticks = [tick("2024-01-02T01:10:00Z", 70_000), tick("2024-01-02T02:05:00Z", 70_100)]
    bars = stream(BarAggregator("1h", market=Market.KRX), ticks)
    assert [b.start for b in bars] == [at("2024-01-02T01:00Z"), at("2024-01-02T02:00Z")]


def test_daily_bars_follow_the_exchange_trading_date():
    # KRX: 23:30Z on 01-02 is 08:30 KST on 01-03; US: 00:56Z on a Saturday is Friday evening.
    krx = stream(
        BarAggregator("1d", market=Market.KRX),
        [tick("2024-01-02T05:00Z", 100), tick("2024-01-02T23:30Z", 101)],
    )
    us = stream(
        BarAggregator("1d", market=Market.US),
        [tick("2024-02-23T20:00Z", 100), tick("2024-02-24T00:56Z", 99)],
    )
    assert [b.start for b in krx] == [at("2024-01-02T00:00Z"), at("2024-01-03T00:00Z")]
    assert [(b.start, b.close) for b in us] == [(at("2024-02-23T00:00Z"), Decimal(99))]


def test_a_daily_bar_ends_at_the_exchanges_local_midnight():
    aggregator = BarAggregator("1d", market=Market.KRX)
    aggregator.add(tick("2024-01-02T05:00Z", 100))  # 2024-01-02 KST
    assert aggregator.flush(at("2024-01-02T14:59:59Z")) == []
    (bar,) = aggregator.flush(at("2024-01-02T15:00Z"))  # 00:00 KST on 01-03
    assert bar.start == at("2024-01-02T00:00Z")


def test_weekly_bars_are_stamped_on_the_monday():
    bars = stream(
        BarAggregator("1w", market=Market.US),
        [tick("2024-03-06T15:00Z", 1), tick("2024-03-08T15:00Z", 2), tick("2024-03-11T15:00Z", 3)],
    )
    assert [(b.start, b.close) for b in bars] == [
        (at("2024-03-04T00:00Z"), Decimal(2)),
        (at("2024-03-11T00:00Z"), Decimal(3)),
    ]


@pytest.mark.parametrize(
    ("timeframe", "duplicates", "message"),
    [
        ("2m", "keep", "timeframe '2m' is not a stored bar length"),
        ("1d", "skip", "duplicates must be 'keep' or 'drop', got 'skip'"),
    ],
)
def test_unknown_timeframes_and_policies_are_refused(timeframe, duplicates, message):
    with pytest.raises(TimeframeError, match=message):
        BarAggregator(timeframe, market=Market.CRYPTO, duplicates=duplicates)


# --- equality with the batch on random ticks ----------------------------------------

WINDOWS = {
    Market.CRYPTO: at("2024-03-08T20:00Z"),
    Market.US: at("2024-03-08T08:00Z"),  # a weekend and the DST switch
    Market.KRX: at("2023-12-27T20:00Z"),  # the year-end holiday and the late first open
}


@st.composite
def tick_streams(draw: st.DrawFn) -> tuple[Market, str, str, list[Tick]]:
    market = draw(st.sampled_from(list(WINDOWS)))
    timeframe = draw(st.sampled_from(["1m", "5m", "15m", "1h", "4h", "1d", "1w"]))
    duplicates = draw(st.sampled_from(["keep", "drop"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 300))
    span_s = draw(st.sampled_from([600, 6 * 3600, 5 * 86_400]))
    seconds = np.sort(rng.integers(0, span_s, n))
    seconds[rng.random(n) < 0.1] = seconds[0]  # equal times
    seconds = np.sort(seconds)
    disorder = draw(st.sampled_from([0, 3, 60 * 30]))  # jitter of the arrival times
    arrival = np.argsort(seconds + rng.integers(0, disorder + 1, n), kind="stable")
    symbols = rng.choice(["A", "B"], n)
    prices = rng.integers(1, 50, n)
    quantities = rng.integers(1, 4, n)
    ticks = [
        Tick(
            Symbol(str(symbols[i])),
            WINDOWS[market] + timedelta(seconds=int(seconds[i])),
            Decimal(int(prices[i])),
            Decimal(int(quantities[i])),
        )
        for i in arrival
    ]
    if draw(st.booleans()):  # a feed that re-sends a few prints
        repeats = rng.integers(0, n, n // 10)
        for r in sorted(repeats, reverse=True):
            ticks.insert(int(r) + 1, ticks[int(r)])
    return market, timeframe, duplicates, ticks


@settings(max_examples=150, deadline=None)
@given(tick_streams())
def test_streamed_bars_equal_the_batch_bars_of_the_accepted_ticks(case):
    market, timeframe, duplicates, ticks = case
    aggregator = BarAggregator(timeframe, market=market, duplicates=duplicates)
    bars: list[Bar] = []
    accepted: list[Tick] = []
    for t in ticks:
        before = aggregator.stats
        bar = aggregator.add(t)
        if bar is not None:
            bars.append(bar)
        if aggregator.stats.accepted > before.accepted:
            accepted.append(t)
    bars += aggregator.flush()
    assert aggregator.stats.accepted + aggregator.stats.late + aggregator.stats.duplicates == len(
        ticks
    )
    for symbol in {b.symbol for b in bars}:  # each symbol's bars come in time order
        starts = [b.start for b in bars if b.symbol == symbol]
        assert starts == sorted(starts)
        assert len(set(starts)) == len(starts)
    assert_same_bars(bars, batch(accepted, timeframe, market))
    if duplicates == "keep" and aggregator.stats.late == 0:
        assert len(accepted) == len(ticks)


# --- real minutes as trades ---------------------------------------------------------


def minute_prints(frame: pd.DataFrame) -> list[Tick]:
    """Four trades per 1-minute bar (open at :00, high at :15, low at :30, close at :45,
    a quarter of the volume each), in time order across symbols."""
    offsets = (0, 15, 30, 45)
    rows = frame.sort_values(["timestamp", "symbol"], kind="stable")
    ticks = []
    for symbol, stamp, o, h, lo, c, v in rows.itertuples(index=False):
        start = stamp.to_pydatetime()
        quantity = Decimal(repr(float(v))) / 4
        for offset, price in zip(offsets, (o, h, lo, c), strict=True):
            ticks.append(
                Tick(Symbol(symbol), start + timedelta(seconds=offset), Decimal(repr(price)),
                     quantity)
            )  # fmt: skip
    return ticks


@pytest.mark.parametrize("timeframe", ["5m", "1h", "1d"])
def test_real_spy_minutes_across_the_dst_switch(
    read_bars: Callable[[str], pd.DataFrame], shared_data: Path, timeframe: str
) -> None:
    spy = read_bars("intraday/us_spy_1m_2024-02_2024-05.csv.gz")
    week = spy[(spy["timestamp"] >= "2024-03-07") & (spy["timestamp"] < "2024-03-13")]
    ticks = minute_prints(week)
    bars = stream(BarAggregator(timeframe, market=Market.US), ticks)
    assert_same_bars(bars, batch(ticks, timeframe, Market.US))
    # and the prices are those of resampling the minute bars themselves
    resampled = resample_bars(week.reset_index(drop=True), timeframe, market=Market.US)
    pd.testing.assert_frame_equal(
        as_frame(bars).drop(columns="volume"), resampled.drop(columns="volume")
    )
    if timeframe == "1d":
        # 00:00-01:00Z on 03-07 is Wednesday's post-market (19:00-20:00 ET)
        assert [b.start.day for b in bars] == [6, 7, 8, 11, 12]


def test_real_binance_minutes_of_four_interleaved_symbols(
    read_bars: Callable[[str], pd.DataFrame], shared_data: Path
) -> None:
    frame = read_bars("intraday/binance_spot_1m_2025-03.csv.gz")
    day = frame[frame["timestamp"] < "2025-03-01T09:00Z"]
    ticks = minute_prints(day)
    aggregator = BarAggregator("15m", market=Market.CRYPTO)
    bars = stream(aggregator, ticks)
    assert_same_bars(bars, batch(ticks, "15m", Market.CRYPTO))
    assert len(bars) == 4 * 24  # 03:00Z .. 09:00Z, four symbols
    assert aggregator.stats == AggregationStats(accepted=len(ticks))
