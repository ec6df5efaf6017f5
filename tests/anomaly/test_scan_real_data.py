"""The market detectors over the real data in ../shared/data: the minutes that trip the price
detector, checked by hand against the raw rows; volume spikes checked by hand and against an
independent vectorized computation; the order books, which never trip at the default 70%.

Hand checks (raw rows of the files):

* ETHUSDT 2025-02-03T01:55Z: high 2577.49, low 2407.8, so (2577.49 - 2407.8) / 2577.49 =
  6.58% inside the minute (the tariff-news crash). 02:07Z: 2413.33 / 2171.0: 10.04%.
* XRPUSDT 2025-02-03T02:07Z: 1.9499 / 1.8: 7.69%.
* BTCUSDT 2021-04-18T03:37Z: 54720.6 / 51867.63: 5.21% (the April 2021 liquidation cascade).
* BKNG 2024-05-02T20:03Z (post-market after earnings): 3799.99 / 3472.91: 8.61%.
* 005930 1996-10-01: volume 96,708,504 against the 20 previous sessions' 110,301,500 / 20 =
  5,515,075: 17.5x.
* BTCUSDT 2023-09-24T23:27Z: 894.12408 against 160.55809 / 20 = 8.0279: 111.4x.
* Binance BTCUSDT book, first snapshot: best bid 10.896, best ask 1.714, so (10.896 - 1.714) /
  12.61 = +72.8% at the top level; over the best 5 levels 12.387 vs 8.347: +19.5%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestrade.anomaly import AnomalyThresholds, ScanReport, scan_bars, scan_book
from orchestrade.data import clean_bars, clean_book_levels, discover_files, read_market_file

pytestmark = pytest.mark.shared_data


def bars_of(path: Path) -> tuple[pd.DataFrame, str]:
    data = read_market_file(path)
    clean, _ = clean_bars(data.frame)
    assert data.timeframe is not None
    return clean, data.timeframe


def scanned(path: Path, thresholds: AnomalyThresholds | None = None) -> ScanReport:
    frame, timeframe = bars_of(path)
    return scan_bars(frame, timeframe, thresholds=thresholds, source=path.name)


def moves(report: ScanReport) -> list[tuple[str, str, float]]:
    return [
        (found.anomaly.subject, found.at.strftime("%Y-%m-%dT%H:%MZ"), round(found.anomaly.value, 5))
        for found in report.of("price_move")
    ]


def test_the_minutes_that_move_more_than_five_percent(shared_data: Path) -> None:
    intraday = shared_data / "intraday"

    found = {
        name: moves(scanned(intraday / name))
        for name in (
            "binance_spot_1m_2025-01.csv.gz",
            "binance_spot_btcusdt_1m_segments_2021_2024.csv.gz",
            "us_stocks_sparse_1m_2024.csv.gz",
            "us_spy_1m_2024-02_2024-05.csv.gz",
        )
    }

    assert found == {
        "binance_spot_1m_2025-01.csv.gz": [
            ("ETHUSDT", "2025-02-03T01:55Z", round((2577.49 - 2407.8) / 2577.49, 5)),
            ("ETHUSDT", "2025-02-03T02:07Z", round((2413.33 - 2171.0) / 2413.33, 5)),
            ("XRPUSDT", "2025-02-03T02:07Z", round((1.9499 - 1.8) / 1.9499, 5)),
        ],
        "binance_spot_btcusdt_1m_segments_2021_2024.csv.gz": [
            ("BTCUSDT", "2021-04-18T03:37Z", round((54720.6 - 51867.63) / 54720.6, 5)),
        ],
        "us_stocks_sparse_1m_2024.csv.gz": [
            ("BKNG", "2024-05-02T20:03Z", round((3799.99 - 3472.91) / 3799.99, 5)),
        ],
        "us_spy_1m_2024-02_2024-05.csv.gz": [],
    }


def test_daily_and_hourly_bars_never_trip_a_one_minute_move(shared_data: Path) -> None:
    for path in (shared_data / "krx" / "091160.csv.gz", shared_data / "crypto"):
        for file in discover_files([path]):
            assert scanned(file).of("price_move") == []


def test_hand_checked_volume_spikes(shared_data: Path) -> None:
    samsung = scanned(shared_data / "krx" / "005930.csv.gz")
    btc = scanned(shared_data / "intraday" / "binance_spot_btcusdt_1m_segments_2021_2024.csv.gz")

    spikes = {found.at.strftime("%Y-%m-%dT%H:%M"): found.anomaly for found in samsung.findings}
    biggest = max(btc.of("volume_spike"), key=lambda found: found.anomaly.value)

    assert sorted(spikes) == ["1996-10-01T00:00", "1997-08-02T00:00"]
    assert spikes["1996-10-01T00:00"].value == pytest.approx(96_708_504 / (110_301_500 / 20))
    assert biggest.at.strftime("%Y-%m-%dT%H:%M") == "2023-09-24T23:27"
    assert biggest.anomaly.value == pytest.approx(894.12408 / (160.55809 / 20))


def reference_findings(frame: pd.DataFrame, step: pd.Timedelta) -> set[tuple[str, str, str]]:
    """The same policies computed with whole-column pandas operations, for 1-minute bars and
    the default thresholds: a bar's 1-minute window holds its open, its close and the previous
    bar's close when that bar is exactly one step earlier."""
    found: set[tuple[str, str, str]] = set()
    for symbol, bars in frame.groupby("symbol", sort=False):
        bars = bars.sort_values("timestamp")
        open_, high, low, close = (
            bars[c].to_numpy(float) for c in ("open", "high", "low", "close")
        )
        volume = bars["volume"].to_numpy(float)
        previous = np.r_[np.nan, close[:-1]]
        adjacent = np.r_[False, np.diff(bars["timestamp"].to_numpy()) == step.to_timedelta64()]
        previous = np.where(adjacent, previous, open_)
        lowest = np.minimum.reduce([open_, previous, close])
        highest = np.maximum.reduce([open_, previous, close])
        move = np.maximum.reduce(
            [(close - lowest) / lowest, (highest - close) / highest, (high - low) / high]
        )
        total = pd.Series(volume).rolling(20).sum().shift(1).to_numpy()
        ratio = np.where(total > 0, volume * 20 / np.where(total > 0, total, 1), 0.0)
        for name, condition in (("price_move", move > 0.05), ("volume_spike", ratio > 10)):
            rising = condition & ~np.r_[False, condition[:-1]]
            for start in bars["timestamp"].to_numpy()[rising]:
                found.add((name, str(symbol), pd.Timestamp(start).strftime("%Y-%m-%dT%H:%M")))
    return found


def test_the_streaming_detectors_agree_with_a_vectorized_computation(shared_data: Path) -> None:
    frame, timeframe = bars_of(shared_data / "intraday" / "binance_spot_1m_2025-01.csv.gz")

    report = scan_bars(frame, timeframe)
    streamed = {
        (found.anomaly.detector, found.anomaly.subject, found.at.strftime("%Y-%m-%dT%H:%M"))
        for found in report.findings
    }

    assert len(report.of("volume_spike")) == 498
    assert streamed == reference_findings(frame, pd.Timedelta(minutes=1))


def book_report(path: Path, thresholds: AnomalyThresholds | None = None) -> ScanReport:
    data = read_market_file(path)
    levels, _ = clean_book_levels(data.frame)
    return scan_book(levels, thresholds=thresholds, source=path.name)


def test_no_real_book_is_seventy_percent_imbalanced_on_its_best_five_levels(
    shared_data: Path,
) -> None:
    reports = [book_report(path) for path in discover_files([shared_data / "orderbook"])]

    assert [(report.rows, report.findings) for report in reports] == [(500, []), (3966, [])]


def test_hand_checked_book_imbalances(shared_data: Path) -> None:
    binance = shared_data / "orderbook" / "binance_futures_btcusdt_book25_2020-09-01.csv.gz"
    bybit = shared_data / "orderbook" / "bybit_linear_xrpusdt_ob500_2024-12-01.csv.gz"

    top = book_report(binance, AnomalyThresholds(book_levels=1))
    five = book_report(binance, AnomalyThresholds(max_book_imbalance=0.1))
    snapshot = book_report(bybit, AnomalyThresholds(max_book_imbalance=0.3))

    # Every Binance snapshot is above 70% at the top level: reported once, at the first.
    assert [round(found.anomaly.value, 6) for found in top.findings] == [
        round((10.896 - 1.714) / (10.896 + 1.714), 6)
    ]
    bids, asks = 10.896 + 0.2 + 0.2 + 0.98 + 0.111, 1.714 + 5.4 + 0.238 + 0.077 + 0.918
    assert five.findings[0].anomaly.value == pytest.approx((bids - asks) / (bids + asks))
    bids, asks = 6203 + 2409 + 680 + 10385 + 9243, 10480 + 13701 + 15996 + 10794 + 12738
    first = snapshot.findings[0]
    assert first.at.isoformat() == "2024-12-01T00:00:00.589000+00:00"
    assert first.anomaly.value == pytest.approx((bids - asks) / (bids + asks))
