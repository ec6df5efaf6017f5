"""BarPanel: long frame <-> aligned arrays, NaN where a symbol has no bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrade.data.errors import FrameError
from orchestrade.data.files import BAR_COLUMNS
from orchestrade.data.panel import BarPanel


def bars(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "symbol": pd.Series([r[0] for r in rows], dtype="object"),
            "timestamp": pd.to_datetime([r[1] for r in rows], utc=True),
        }
    )
    for offset, name in enumerate(["open", "high", "low", "close", "volume"]):
        frame[name] = [r[2] + offset for r in rows]
    return frame


def test_symbols_are_aligned_on_the_union_of_timestamps_with_nan_gaps() -> None:
    frame = bars(
        [
            ("B", "2024-01-03", 30.0),
            ("A", "2024-01-02", 10.0),
            ("A", "2024-01-03", 20.0),
            ("B", "2024-01-04", 40.0),
        ]
    )

    panel = BarPanel.from_frame(frame)

    assert panel.symbols == ("A", "B")
    np.testing.assert_array_equal(
        panel.timestamps,
        np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[ns]"),
    )
    np.testing.assert_array_equal(panel.open, [[10, 20, np.nan], [np.nan, 30, 40]])
    np.testing.assert_array_equal(panel.close, [[13, 23, np.nan], [np.nan, 33, 43]])
    assert panel.shape == (2, 3)


def test_to_frame_gives_back_the_sorted_long_frame() -> None:
    frame = bars([("B", "2024-01-03", 30.0), ("A", "2024-01-02", 10.0)])

    back = BarPanel.from_frame(frame).to_frame()

    expected = frame.sort_values(["symbol", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected[list(BAR_COLUMNS)])


def test_a_repeated_symbol_and_timestamp_is_refused() -> None:
    frame = bars([("A", "2024-01-02", 1.0), ("A", "2024-01-02", 2.0)])

    with pytest.raises(FrameError, match="more than once"):
        BarPanel.from_frame(frame)


def test_labels_without_rows_become_all_nan_rows() -> None:
    panel = BarPanel.from_arrays(
        np.array([1, 1]),
        ["Z", "A"],
        np.array([0, 60_000_000_000]),
        *(np.array([1.0, 2.0]) for _ in range(5)),
    )

    assert panel.symbols == ("A", "Z")
    assert np.isnan(panel.close[1]).all()
    np.testing.assert_array_equal(panel.close[0], [1.0, 2.0])


def test_arrays_of_the_wrong_shape_are_refused() -> None:
    stamps = np.array([0], dtype="datetime64[ns]")
    good = np.ones((1, 1))

    with pytest.raises(FrameError, match="close must be float64 shaped"):
        BarPanel(("A",), stamps, good, good, good, np.ones((1, 2)), good)


def test_the_empty_panel_gives_an_empty_contract_frame() -> None:
    frame = BarPanel.empty().to_frame()

    assert list(frame.columns) == list(BAR_COLUMNS)
    assert frame.empty


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["A", "B", "005930"]), st.integers(0, 50)),
        st.floats(0.01, 1e6, allow_nan=False),
        min_size=1,
        max_size=40,
    )
)
def test_frame_to_panel_to_frame_round_trips_exactly(cells: dict[tuple[str, int], float]) -> None:
    keys = sorted(cells)
    frame = pd.DataFrame(
        {
            "symbol": pd.Series([k[0] for k in keys], dtype="object"),
            "timestamp": pd.to_datetime([k[1] * 60 for k in keys], unit="s", utc=True),
            **{name: [cells[k] for k in keys] for name in ["open", "high", "low", "close"]},
            "volume": [float(k[1]) for k in keys],
        }
    ).astype({"timestamp": "datetime64[ns, UTC]"})

    back = BarPanel.from_frame(frame.sample(frac=1, random_state=1)).to_frame()

    pd.testing.assert_frame_equal(back, frame)


def test_select_keeps_chosen_symbols_in_order_and_time_window() -> None:
    times = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")
    close = np.array([[1.0, 2.0, 3.0], [10.0, np.nan, 30.0]])
    panel = BarPanel(("A", "B"), times, close, close, close, close, close)

    chosen = panel.select(["B", "A"], start=times[1], end=times[2])

    assert chosen.symbols == ("B", "A")
    np.testing.assert_array_equal(chosen.timestamps, times[1:])
    np.testing.assert_array_equal(chosen.close, [[np.nan, 30.0], [2.0, 3.0]])


def test_select_unknown_symbol_names_it() -> None:
    times = np.array(["2024-01-01"], dtype="datetime64[ns]")
    one = np.array([[1.0]])
    panel = BarPanel(("A",), times, one, one, one, one, one)

    with pytest.raises(FrameError, match="ZZZ"):
        panel.select(["ZZZ"])
