"""SignalArrays: the contract between strategies and the backtest kernel."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from orchestrade.domain import SignalSide
from orchestrade.strategies import SignalArrays, SignalArraysError, SignalRow

STAMPS = np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[ns]")


def arrays() -> SignalArrays:
    entries = np.array([[True, False, False], [False, False, True]])
    exits = np.array([[False, True, False], [False, False, False]])
    return SignalArrays(
        symbols=("A", "B"),
        timestamps=STAMPS,
        entries=entries,
        exits=exits,
        entry_confidence=np.where(entries, 0.75, np.nan),
        exit_confidence=np.where(exits, 1.0, np.nan),
        reasons=np.array([[0b01, 0b10, 0], [0, 0, 0b11]], dtype=np.int64),
        reason_names=("golden_cross", "dead_cross"),
    )


def test_rows_read_back_side_confidence_and_reasons() -> None:
    rows = list(arrays().rows())

    assert rows == [
        SignalRow("A", 0, SignalSide.BUY, 0.75, ("golden_cross",)),
        SignalRow("A", 1, SignalSide.SELL, 1.0, ("dead_cross",)),
        SignalRow("B", 2, SignalSide.BUY, 0.75, ("golden_cross", "dead_cross")),
    ]


def test_equality_compares_arrays_with_nan_equal() -> None:
    first, second = arrays(), arrays()
    changed = replace(second, entry_confidence=np.where(second.entries, 0.5, np.nan))

    assert first == second
    assert first != changed
    assert first.shape == (2, 3)


def test_from_masks_lets_the_exit_win() -> None:
    both = np.array([[True, True, False]])
    exits = np.array([[False, True, False]])

    signals = SignalArrays.from_masks(("A",), STAMPS, both, exits, confidence=0.9)

    assert signals.entries.tolist() == [[True, False, False]]
    assert np.isnan(signals.entry_confidence[0, 1])
    assert signals.exit_confidence[0, 1] == 0.9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entries": np.zeros((2, 3), dtype=np.int64)}, "entries must be a bool array of shape"),
        (
            {"exits": np.zeros((3, 2), dtype=np.bool_)},
            r"exits must be a bool array of shape \(2, 3\)",
        ),
        ({"timestamps": STAMPS.astype("datetime64[s]")}, "timestamps must be a 1-D datetime64"),
        ({"reasons": np.zeros((2, 3), dtype=np.int32)}, "reasons must be a int64 array"),
        ({"entry_confidence": np.full((2, 3), 1.5)}, "entry_confidence must be within"),
        ({"symbols": ("A", "A")}, "symbols must be distinct"),
        ({"symbols": ["A", "B"]}, "symbols must be a tuple"),
        ({"reason_names": ("golden_cross",)}, "bits beyond the 1 reason_names"),
        ({"reason_names": ("x", "x")}, "repeat a name"),
        ({"entry_limit": np.zeros((2, 2))}, "entry_limit must be a float64 array"),
    ],
)
def test_malformed_arrays_are_rejected_with_the_field_named(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(SignalArraysError, match=message):
        replace(arrays(), **change)  # type: ignore[arg-type]


def test_entry_without_confidence_is_rejected() -> None:
    good = arrays()

    with pytest.raises(SignalArraysError, match="entry_confidence must be within"):
        replace(good, entry_confidence=np.full((2, 3), np.nan))
