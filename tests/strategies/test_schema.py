"""The published schema, and invalid specs failing with the JSON path of the bad field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import orchestrade.strategies
from orchestrade.strategies import SpecError, builtin_names, load_spec, strategy_spec_schema
from orchestrade.strategies.schema import json_path

VALID: dict[str, Any] = {
    "name": "demo",
    "parameters": {
        "fast": {"default": 5, "min": 2, "max": 20},
        "level": {"default": 30, "type": "float"},
    },
    "indicators": {
        "fast_ma": {"fn": "sma", "params": {"timeperiod": "$fast"}},
        "rsi": {"fn": "rsi", "params": {"timeperiod": 14}},
        "bb": {"fn": "bbands", "params": {"timeperiod": 20}},
    },
    "entry": {
        "all": [
            {"cross_above": ["close", "fast_ma"], "reason": "breakout"},
            {"lt": ["rsi", "$level"]},
        ]
    },
    "exit": {"any": [{"gt": ["close", "bb.upperband"]}]},
}


def with_change(path: list[str | int], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def test_the_valid_example_loads() -> None:
    spec = load_spec(VALID)

    assert spec.name == "demo"


def test_schema_is_draft_2020_12_and_shipped_in_the_package() -> None:
    schema = strategy_spec_schema()
    shipped = Path(orchestrade.strategies.__file__).with_name("schema.json")

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(shipped.read_text("utf-8")) == schema


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_file_validates_against_the_schema(name: str) -> None:
    folder = Path(orchestrade.strategies.__file__).with_name("builtin")
    document = json.loads((folder / f"{name}.json").read_text("utf-8"))

    jsonschema.Draft202012Validator(strategy_spec_schema()).validate(document)
    assert document["name"] == name


@pytest.mark.parametrize(
    ("path", "value", "expected_path", "expected_text"),
    [
        (["entry", "all", 1, "lt", 0], True, "$.entry.all[1].lt[0]", "expected an operand"),
        (["entry", "all", 1], {"reason": "x"}, "$.entry.all[1]", "exactly one operator key"),
        (["entry", "all", 0], {"gt": [1, 2], "lt": [1, 2]}, "$.entry.all[0]", "got keys gt, lt"),
        (["entry", "all", 0], {"gtt": ["close", 1]}, "$.entry.all[0]", "did you mean 'gt'?"),
        (
            ["entry", "all", 1, "lt", 1],
            {"pow": [1, 2]},
            "$.entry.all[1].lt[1]",
            "add, sub, mul, div",
        ),
        (["entry", "all", 1, "lt"], ["rsi"], "$.entry.all[1].lt", "two operands"),
        (["entry", "all", 1, "lt", 0], "rsi value", "$.entry.all[1].lt[0]", "letters, digits"),
        (["entry", "all", 0, "reason"], "Break Out", "$.entry.all[0].reason", "lower snake case"),
        (["entry", "all"], [], "$.entry.all", "should be non-empty"),
        (
            ["parameters", "fast", "default"],
            "five",
            "$.parameters.fast.default",
            "not of type 'number'",
        ),
        (
            ["indicators", "rsi", "params", "timeperiod"],
            [14],
            "$.indicators.rsi.params.timeperiod",
            "expected a number",
        ),
        (["sizing"], {"method": "fixed_qty"}, "$.sizing", "'quantity' is a required property"),
        (["sizing"], {"method": "kelly"}, "$.sizing.method", "is not one of"),
        (["stops"], {"stop_loss": 1.5}, "$.stops.stop_loss", "1.5 is greater than or equal to"),
        (["order"], {"type": "limit", "offset": 2}, "$.order.offset", "greater than or equal"),
        (["universe"], {"market": "nyse"}, "$.universe.market", "'nyse' is not one of"),
        (
            ["confidence"],
            {"entry": {"base": 2}},
            "$.confidence.entry.base",
            "greater than the maximum",
        ),
    ],
)
def test_invalid_spec_names_the_json_path_and_what_was_expected(
    path: list[str | int], value: Any, expected_path: str, expected_text: str
) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(with_change(path, value))

    assert caught.value.path == expected_path
    assert str(caught.value).startswith(f"{expected_path}: ")
    assert expected_text in str(caught.value)


def test_missing_name_is_reported_at_the_root() -> None:
    document = copy.deepcopy(VALID)
    del document["name"]

    with pytest.raises(SpecError, match=r"^\$: 'name' is a required property"):
        load_spec(document)


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    assert json_path(["indicators", "my-ma", "params", 0]) == '$.indicators["my-ma"].params[0]'
