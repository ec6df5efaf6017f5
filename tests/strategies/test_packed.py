"""compile_signals (bars packed end to end, evaluated in blocks of symbols) gives exactly the
dense reference's arrays: on every built-in over real data, and on generated specs and
panels with late starts, gaps and empty symbols."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from orchestrade.data import BarPanel
from orchestrade.strategies import (
    SignalArrays,
    SignalArraysError,
    builtin_names,
    builtin_spec,
    compile_signals,
    compiler,
    load_spec,
)
from orchestrade.strategies.arrays import SCAN_CELLS
from orchestrade.strategies.compiler import PackedBars
from orchestrade.strategies.confidence_check import confidence_faults
from orchestrade.strategies.reference import reference_signals

from .conftest import make_panel


def assert_identical(fast: SignalArrays, reference: SignalArrays) -> None:
    assert fast == reference
    for name in ("entries", "exits", "entry_confidence", "exit_confidence", "reasons"):
        mine, theirs = getattr(fast, name), getattr(reference, name)
        assert mine.dtype == theirs.dtype
        assert mine.tobytes() == theirs.tobytes(), name  # bit for bit, NaN payloads too


def with_gaps(panel: BarPanel, seed: int) -> BarPanel:
    """`panel` with about 1% of its bars removed (every field NaN), and one symbol emptied."""
    rng = np.random.default_rng(seed)
    drop = rng.random(panel.close.shape) < 0.01
    drop[0] = True
    arrays = []
    for name in ("open", "high", "low", "close", "volume"):
        values = getattr(panel, name).copy()
        values[drop] = np.nan
        arrays.append(values)
    return BarPanel(panel.symbols, panel.timestamps, *arrays)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_equals_the_dense_reference_on_real_data(
    name: str, krx_panel: BarPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = builtin_spec(name)
    reference = reference_signals(spec, krx_panel)

    assert_identical(compile_signals(spec, krx_panel), reference)
    for cells in (1, 5 * krx_panel.close.shape[1] - 1):  # one symbol per block, then four
        monkeypatch.setattr(compiler, "BLOCK_CELLS", cells)
        assert_identical(compile_signals(spec, krx_panel), reference)
    assert reference.entries.sum() > 100


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["nasdaq_growth", "bollinger_bounce"])
def test_builtins_equal_the_reference_on_a_panel_with_gaps(name: str, krx_panel: BarPanel) -> None:
    panel = with_gaps(krx_panel, seed=3)
    spec = builtin_spec(name)

    assert_identical(compile_signals(spec, panel), reference_signals(spec, panel))


def test_limit_and_stop_prices_equal_the_reference() -> None:
    rng = np.random.default_rng(2)
    close = 100 + rng.normal(0, 1, (3, 80)).cumsum(axis=1)
    close[1, :10] = np.nan
    close[2, 30:33] = np.nan
    panel = make_panel(close)
    for order in ({"type": "limit", "offset": -0.01}, {"type": "stop", "offset": 0.02}):
        spec = builtin_spec("sma_cross").with_params(fast=3, slow=7)
        document = {**spec.to_dict(), "order": order}
        spec = load_spec(document)

        fast, reference = compile_signals(spec, panel), reference_signals(spec, panel)

        assert_identical(fast, reference)
        assert fast.entries.any()


@pytest.mark.parametrize("block", [1, 1 << 17])
def test_a_symbols_first_bar_never_crosses_from_the_packed_bar_before_it(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    close = np.array([[99.0, 99.0, np.nan], [np.nan, 101.0, 101.0], [101.0, 99.0, 101.0]])
    spec = load_spec({"name": "t", "entry": {"cross_above": ["close", 100]}})
    monkeypatch.setattr(compiler, "BLOCK_CELLS", block)

    signals = compile_signals(spec, make_panel(close))

    assert signals.entries.tolist() == [[False] * 3, [False] * 3, [False, False, True]]


def test_packed_bars_of_contiguous_gapped_and_empty_symbols() -> None:
    present = np.array(
        [
            [False, True, True, True, False],
            [False, False, False, False, False],
            [True, False, True, True, False],
            [True, True, True, True, True],
        ]
    )

    bars = PackedBars(present)

    assert bars.size == 11
    assert bars.offsets.tolist() == [0, 3, 3, 6, 11]
    assert bars.columns[0] == slice(1, 4)
    assert bars.columns[1] is None
    assert np.asarray(bars.columns[2]).tolist() == [0, 2, 3]
    assert bars.columns[3] == slice(0, 5)
    assert bars.firsts.tolist() == [0, 3, 6]
    everything = np.arange(bars.size)
    assert bars.cells(everything).tolist() == np.flatnonzero(present).tolist()
    values = np.arange(20, dtype=np.float64).reshape(4, 5)
    assert bars.pack(values).tolist() == values[present].tolist()


def test_packed_bars_map_packed_indices_back_to_cells_without_gaps() -> None:
    present = np.zeros((3, 6), dtype=np.bool_)
    present[0, 2:] = True
    present[2, :4] = True

    bars = PackedBars(present)

    assert bars.cells(np.array([0, 3, 4, 7])).tolist() == [2, 5, 12, 15]
    assert bars.cells(np.zeros(0, dtype=np.intp)).tolist() == []


def test_confidence_faults_flags_out_of_range_values_and_nan_signals() -> None:
    signals = np.array([False, True, False, True])

    def faults(values: list[float]) -> tuple[bool, bool]:
        return confidence_faults(np.array(values), signals)

    assert faults([np.nan, 0.0, np.nan, 1.0]) == (False, False)
    assert faults([-0.0, 0.5, 1.0, 0.25]) == (False, False)
    assert faults([1.5, 0.5, np.nan, 1.0]) == (True, False)
    assert faults([np.nan, 0.5, -1e-300, 1.0]) == (True, False)
    assert faults([np.nan, 0.5, np.nan, np.nan]) == (False, True)
    assert faults([np.inf, np.nan, np.nan, 1.0]) == (True, True)


@pytest.mark.parametrize(
    ("entry", "confidence", "message"),
    [
        (5, 1.5, "entry_confidence must be within \\[0, 1\\] or NaN"),
        (SCAN_CELLS - 1, -0.5, "entry_confidence must be within \\[0, 1\\] or NaN"),
        (7, np.nan, "entry_confidence must be within \\[0, 1\\] on every signal bar"),
    ],
)
def test_large_signal_arrays_are_checked_in_one_compiled_pass(
    entry: int, confidence: float, message: str
) -> None:
    shape = (2, SCAN_CELLS // 2)
    entries = np.zeros(shape, dtype=np.bool_)
    entries.ravel()[[5, 7, SCAN_CELLS - 1]] = True
    entry_confidence = np.where(entries, 0.5, np.nan)
    good = SignalArrays.from_masks(
        ("A", "B"), np.arange(shape[1]).astype("M8[ns]"), entries, np.zeros(shape, np.bool_)
    )
    bad = entry_confidence.copy()
    bad.ravel()[entry] = confidence

    with pytest.raises(SignalArraysError, match=message):
        replace(good, entry_confidence=bad)
    assert replace(good, entry_confidence=entry_confidence).entries.sum() == 3


INDICATORS = {
    "fast": {"fn": "sma", "input": "close", "params": {"timeperiod": 2}},
    "slow": {"fn": "ema", "input": "close", "params": {"timeperiod": 4}},
    "rsi": {"fn": "rsi", "input": "close", "params": {"timeperiod": 3}},
    "rsi_low": {"fn": "min", "input": "rsi", "params": {"timeperiod": 3}},
    "bb": {"fn": "bbands", "input": "close", "params": {"timeperiod": 3}},
    "atr": {"fn": "atr", "params": {"timeperiod": 3}},
    "vol_ma": {"fn": "sma", "input": "volume", "params": {"timeperiod": 3}},
}
SERIES = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "fast",
    "slow",
    "rsi",
    "rsi_low",
    "bb.upperband",
    "bb.lowerband",
    "atr",
    "vol_ma",
]

PRICES = SERIES[:5]

numbers = st.sampled_from([0, 1, 1.5, 30, 50, 70, 99, 100, 101, 1000, -1])
leaves = st.one_of(st.sampled_from(PRICES), st.sampled_from(SERIES), numbers, st.just("$level"))
operands = st.one_of(
    leaves,
    st.builds(
        lambda op, left, right: {op: [left, right]},
        st.sampled_from(["add", "sub", "mul", "div"]),
        leaves,
        leaves,
    ),
)
series_operands = st.one_of(  # a cross needs a series on one side
    st.sampled_from(PRICES),
    st.sampled_from(SERIES),
    st.builds(
        lambda op, left, right: {op: [left, right]},
        st.sampled_from(["add", "sub", "mul", "div"]),
        st.sampled_from(SERIES),
        leaves,
    ),
)
reasons = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"]))


def _with_reason(condition: dict[str, Any], reason: str | None) -> dict[str, Any]:
    return condition if reason is None else {**condition, "reason": reason}


simple_conditions = st.builds(
    _with_reason,
    st.one_of(
        st.builds(
            lambda op, a, b: {op: [a, b]},
            st.sampled_from(["gt", "lt", "ge", "le"]),
            operands,
            operands,
        ),
        st.builds(
            lambda op, a, b, swap: {op: [b, a] if swap else [a, b]},
            st.sampled_from(["cross_above", "cross_below"]),
            series_operands,
            operands,
            st.booleans(),
        ),
        st.builds(lambda x, lo, hi: {"between": [x, lo, hi]}, operands, operands, operands),
    ),
    reasons,
)
conditions = st.recursive(
    simple_conditions,
    lambda inner: st.builds(
        _with_reason,
        st.one_of(
            st.builds(
                lambda kind, items: {kind: items},
                st.sampled_from(["all", "any"]),
                st.lists(inner, min_size=1, max_size=3),
            ),
            st.builds(lambda item: {"not": item}, inner),
        ),
        reasons,
    ),
    max_leaves=5,
)
terms = st.lists(
    st.builds(
        lambda when, add, reason: {
            "when": when,
            "add": add,
            **({"reason": reason} if reason else {}),
        },
        conditions,
        st.sampled_from([-0.3, 0.2, 0.5]),
        reasons,
    ),
    max_size=2,
)
rules = st.one_of(
    st.none(),
    st.builds(
        lambda base, items: {**({"base": base} if base is not None else {}), "terms": items},
        st.one_of(st.none(), st.sampled_from([0.0, 0.5, 0.9])),
        terms,
    ),
)
orders = st.sampled_from(
    [{"type": "market"}, {"type": "limit", "offset": -0.01}, {"type": "stop", "offset": 0.03}]
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "generated",
        "parameters": {"level": {"default": draw(numbers), "type": "float"}},
        "indicators": INDICATORS,
        "entry": draw(conditions),
        "order": draw(orders),
    }
    if draw(st.booleans()):
        document["exit"] = draw(conditions)
    confidence = {side: rule for side in ("entry", "exit") if (rule := draw(rules)) is not None}
    if "exit" not in document:
        confidence.pop("exit", None)
    if confidence:
        document["confidence"] = confidence
    return document


@st.composite
def panels(draw: st.DrawFn) -> BarPanel:
    """Prices around 100 (often tied after rounding), bars missing at random, symbols that
    start late or have no bar at all; every field NaN where a symbol has no bar."""
    n_symbols = draw(st.integers(1, 4))
    n_times = draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    decimals = draw(st.sampled_from([0, 2]))

    def walk() -> np.ndarray:
        steps = rng.normal(0, 0.02, (n_symbols, n_times)).cumsum(axis=1)
        prices: np.ndarray = np.round(100 * np.exp(steps), decimals)
        return prices

    close, open_ = walk(), walk()
    high = np.maximum(open_, close) + np.round(rng.random(close.shape), decimals)
    low = np.minimum(open_, close) - np.round(rng.random(close.shape), decimals)
    volume = rng.integers(0, 1000, close.shape).astype(np.float64)
    present = rng.random(close.shape) >= draw(st.sampled_from([0.0, 0.1, 0.4]))
    for row in range(n_symbols):
        present[row, : draw(st.integers(0, n_times))] = False
    fields = [np.where(present, values, np.nan) for values in (open_, high, low, close, volume)]
    symbols = tuple(f"S{i}" for i in range(n_symbols))
    stamps = np.arange(n_times).astype("datetime64[D]").astype("datetime64[ns]")
    return BarPanel(symbols, stamps, *fields)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=documents(), panel=panels(), block=st.sampled_from([1, 40, 1 << 18]))
def test_generated_specs_and_panels_equal_the_dense_reference(
    document: dict[str, Any], panel: BarPanel, block: int
) -> None:
    spec = load_spec(document)
    reference = reference_signals(spec, panel)
    saved = compiler.BLOCK_CELLS
    compiler.BLOCK_CELLS = block  # hypothesis and function-scoped fixtures do not mix
    try:
        fast = compile_signals(spec, panel)
    finally:
        compiler.BLOCK_CELLS = saved

    assert_identical(fast, reference)
