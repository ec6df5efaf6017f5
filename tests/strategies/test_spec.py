"""Loading specs: meaning checks beyond the schema, parameters, typed values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrade.strategies import ParameterError, SpecError, builtin_spec, load_spec
from orchestrade.strategies.conditions import Comparison, Cross, Group, Reference

from .test_schema import VALID, with_change


def test_spec_is_read_into_typed_values() -> None:
    spec = load_spec(VALID)

    assert spec.values == {"fast": 5, "level": 30}
    assert spec.parameters["fast"].kind == "int"
    assert spec.parameters["fast"].minimum == 2
    assert list(spec.indicators) == ["fast_ma", "rsi", "bb"]
    assert spec.indicators["bb"].fn == "BBANDS"
    assert spec.indicators["bb"].outputs == ("upperband", "middleband", "lowerband")
    assert isinstance(spec.entry, Group)
    assert spec.entry.kind == "all"
    first = spec.entry.items[0]
    assert isinstance(first, Cross)
    assert first.left == Reference("close", None, "$.entry.all[0].cross_above[0]")
    assert isinstance(spec.entry.items[1], Comparison)
    assert spec.reason_names == ("breakout",)
    assert spec.sizing.method == "all_cash"
    assert spec.order.type == "market"
    assert spec.stops.stop_loss is None


def test_spec_loads_from_json_text_and_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(VALID), encoding="utf-8")

    from_text = load_spec(json.dumps(VALID))
    from_path = load_spec(path)
    from_str_path = load_spec(str(path))

    assert from_text.to_dict() == from_path.to_dict() == from_str_path.to_dict()


def test_unreadable_or_malformed_sources_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^\$: cannot read spec file"):
        load_spec(tmp_path / "missing.json")
    with pytest.raises(SpecError, match=r"not valid JSON: Expecting .* at line 1 column"):
        load_spec('{"name": ')


@pytest.mark.parametrize(
    ("path", "value", "expected_path", "expected_text"),
    [
        (["entry", "all", 1, "lt", 0], "rsii", "$.entry.all[1].lt[0]", "did you mean 'rsi'?"),
        (["entry", "all", 1, "lt", 1], "$levl", "$.entry.all[1].lt[1]", "did you mean '$level'?"),
        (["indicators", "rsi", "fn"], "rsx", "$.indicators.rsi.fn", "did you mean 'rsi'?"),
        (
            ["indicators", "rsi", "params"],
            {"period": 3},
            "$.indicators.rsi.params.period",
            "did you mean 'timeperiod'?",
        ),
        (
            ["indicators", "rsi", "params"],
            {"timeperiod": 1},
            "$.indicators.rsi.params.timeperiod",
            "Bad Parameter",
        ),
        (
            ["indicators", "rsi", "params"],
            {"timeperiod": "$nope"},
            "$.indicators.rsi.params.timeperiod",
            "unknown parameter '$nope'",
        ),
        (
            ["indicators", "rsi", "output"],
            "value",
            "$.indicators.rsi.output",
            "expected one of real",
        ),
        (["indicators", "rsi", "input"], "rsi", "$.indicators.rsi.input", "cycle"),
        (
            ["indicators", "rsi", "input"],
            "closes",
            "$.indicators.rsi.input",
            "did you mean 'close'?",
        ),
        (
            ["indicators", "atr"],
            {"fn": "atr", "input": "close"},
            "$.indicators.atr.input",
            "reads high, low, close",
        ),
        (["indicators", "close"], {"fn": "sma"}, "$.indicators.close", "other than a price field"),
        (
            ["exit", "any", 0, "gt", 1],
            "bb",
            "$.exit.any[0].gt[1]",
            "'bb.upperband' or 'bb.middleband'",
        ),
        (
            ["exit", "any", 0, "gt", 1],
            "bb.upper",
            "$.exit.any[0].gt[1]",
            "did you mean 'upperband'?",
        ),
        (
            ["exit", "any", 0, "gt", 1],
            "close.x",
            "$.exit.any[0].gt[1]",
            "price field has no outputs",
        ),
        (["exit"], {"cross_below": [1, "$level"]}, "$.exit", "needs a series"),
        (["parameters", "fast", "default"], 50, "$.parameters.fast.default", "default <= max 20"),
        (["parameters", "fast", "min"], 30, "$.parameters.fast.min", "min <= max"),
        (["parameters", "fast", "type"], "int", "$.parameters.fast", None),
        (
            ["parameters", "level"],
            {"default": 2.5, "type": "int"},
            "$.parameters.level.default",
            "expected an integer",
        ),
    ],
)
def test_meaning_errors_name_the_json_path(
    path: list[str | int], value: Any, expected_path: str, expected_text: str | None
) -> None:
    document = with_change(path, value)

    if expected_text is None:
        assert load_spec(document).parameters["fast"].kind == "int"
        return
    with pytest.raises(SpecError) as caught:
        load_spec(document)

    assert caught.value.path == expected_path
    assert expected_text in str(caught.value)


def test_with_params_replaces_values_and_checks_them() -> None:
    spec = load_spec(VALID)

    faster = spec.with_params(fast=7, level=25.5)

    assert faster.values == {"fast": 7, "level": 25.5}
    assert spec.values == {"fast": 5, "level": 30}
    assert faster.indicator_params("fast_ma") == {"timeperiod": 7}
    assert faster.to_dict()["parameters"]["fast"]["default"] == 7


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fats": 3}, "has no parameter 'fats'; did you mean 'fast'\\? \\(valid: fast, level\\)"),
        ({"fast": 1}, "'fast' = 1 is below its minimum 2"),
        ({"fast": 21}, "'fast' = 21 is above its maximum 20"),
        ({"fast": 2.5}, "'fast' must be an integer"),
        ({"fast": "7"}, "'fast' must be a number"),
        ({"level": float("nan")}, "'level' must be finite"),
    ],
)
def test_bad_parameter_overrides_fail_fast(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        load_spec(VALID).with_params(**overrides)


def test_override_an_indicator_rejects_is_reported_at_the_indicator() -> None:
    document = copy.deepcopy(VALID)
    document["parameters"]["fast"]["min"] = 0

    with pytest.raises(SpecError, match=r"^\$\.indicators\.fast_ma\.params\.timeperiod: "):
        load_spec(document).with_params(fast=0)


def test_optional_sections_are_typed() -> None:
    document = copy.deepcopy(VALID)
    document |= {
        "universe": {"symbols": ["005930"], "market": "krx", "timeframe": "1d"},
        "sizing": {"method": "volatility_target", "annual_vol": 0.15, "lookback": 30},
        "stops": {"stop_loss": 0.05, "take_profit": 0.1, "trailing_stop": 0.08},
        "order": {"type": "limit", "offset": -0.01},
    }

    spec = load_spec(document)

    assert spec.universe.symbols == ("005930",)
    assert spec.universe.market == "krx"
    assert spec.sizing.method == "volatility_target"
    assert spec.sizing.annual_vol == 0.15
    assert spec.sizing.lookback == 30
    assert (spec.stops.stop_loss, spec.stops.take_profit, spec.stops.trailing_stop) == (
        0.05,
        0.1,
        0.08,
    )
    assert (spec.order.type, spec.order.offset) == ("limit", -0.01)


def test_spec_and_its_document_are_immutable() -> None:
    spec = builtin_spec("sma_cross")

    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.values["fast"] = 3  # type: ignore[index]
