"""Sweep grids from range strings and from the spec's own ranges."""

from __future__ import annotations

import pytest

from orchestrade.strategies import (
    ParameterError,
    builtin_spec,
    load_spec,
    parameter_grid,
    parse_grid,
)

SPEC = load_spec(
    {
        "name": "grid",
        "parameters": {
            "fast": {"default": 10, "min": 2, "max": 50, "step": 2},
            "slow": {"default": 30, "min": 20, "max": 40, "step": 10},
            "width": {"default": 2.0, "min": 1.5, "max": 2.5, "step": 0.5, "type": "float"},
            "fixed": {"default": 7},
        },
        "indicators": {"ma": {"fn": "sma", "params": {"timeperiod": "$fast"}}},
        "entry": {"gt": ["close", "ma"]},
    }
)


def test_range_strings_include_both_ends_and_vary_the_last_name_fastest() -> None:
    grid = parameter_grid(SPEC, "fast=5:15:5,slow=20:30:10")

    assert [(point["fast"], point["slow"]) for point in grid] == [
        (5, 20),
        (5, 30),
        (10, 20),
        (10, 30),
        (15, 20),
        (15, 30),
    ]
    assert all(point["width"] == 2.0 and point["fixed"] == 7 for point in grid)


def test_issue_example_grid_has_every_combination() -> None:
    spec = builtin_spec("sma_cross")

    grid = parameter_grid(spec, "fast=5:30:5,slow=20:100:10")

    assert len(grid) == 6 * 9
    assert grid[0] == {"fast": 5, "slow": 20}
    assert grid[-1] == {"fast": 30, "slow": 100}


def test_stop_off_the_grid_is_not_reached() -> None:
    assert [p["fast"] for p in parameter_grid(SPEC, "fast=4:11:3")] == [4, 7, 10]


def test_float_ranges_do_not_accumulate_rounding() -> None:
    grid = parameter_grid(SPEC, {"width": "1.5:2.5:0.1"})

    assert [p["width"] for p in grid] == [1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5]


def test_missing_step_comes_from_the_spec_and_lists_and_numbers_are_accepted() -> None:
    assert [p["fast"] for p in parameter_grid(SPEC, "fast=10:16")] == [10, 12, 14, 16]
    assert [p["fast"] for p in parameter_grid(SPEC, "fast=3|9|27")] == [3, 9, 27]
    assert [p["fast"] for p in parameter_grid(SPEC, {"fast": [4, 6]})] == [4, 6]
    assert [p["fast"] for p in parameter_grid(SPEC, {"fast": 8})] == [8]
    assert [p["fixed"] for p in parameter_grid(SPEC, "fixed=1:3")] == [1, 2, 3]


def test_no_grid_sweeps_the_spec_ranges() -> None:
    grid = parameter_grid(SPEC)

    assert len(grid) == 25 * 3 * 3
    assert {p["fixed"] for p in grid} == {7}
    assert sorted({p["width"] for p in grid}) == [1.5, 2.0, 2.5]


def test_parse_grid_splits_items() -> None:
    assert parse_grid(" fast=5:30:5 , slow=20 ") == {"fast": "5:30:5", "slow": "20"}


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("fats=5:10", "no parameter 'fats'; did you mean 'fast'"),
        ("fast=5:10:0", "step for 'fast' must be positive"),
        ("fast=10:5", "runs backwards"),
        ("fast=5:x", "'x' is not a number"),
        ("fast=5:10:2.5", "'2.5' is not an integer"),
        ("fast=1:10", "'fast' = 1 is below its minimum 2"),
        ("fast=5:10:1:1", "must be start:stop\\[:step\\]"),
        ("fast", "must look like name=start:stop:step"),
        ("fast=5,fast=6", "names parameter 'fast' twice"),
        ("", "empty parameter grid"),
        ("width=1.5:2", None),
    ],
)
def test_bad_grids_fail_with_a_clear_message(grid: str, message: str | None) -> None:
    if message is None:
        assert [p["width"] for p in parameter_grid(SPEC, grid)] == [1.5, 2.0]
        return
    with pytest.raises(ParameterError, match=message):
        parameter_grid(SPEC, grid)


def test_float_range_without_any_step_is_refused() -> None:
    spec = load_spec(
        {
            "name": "g",
            "parameters": {"w": {"default": 1.0, "min": 0.5, "max": 2.0, "type": "float"}},
            "entry": {"gt": ["close", "$w"]},
        }
    )

    with pytest.raises(ParameterError, match="needs a step"):
        parameter_grid(spec, "w=0.5:1")
    with pytest.raises(ParameterError, match="no step to sweep with"):
        parameter_grid(spec)
