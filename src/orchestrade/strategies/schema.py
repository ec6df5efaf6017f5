"""The published JSON Schema of strategy specs, and validation that names the bad field.

The schema (draft 2020-12) ships as package data, ``orchestrade/strategies/schema.json``.
Validation reports one error, the most relevant one as chosen by jsonschema's
`best_match`, as a `SpecError` whose message starts with the JSON path of the bad field
(``$.entry.all[1].gt[0]``) and says what was expected.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from orchestrade.strategies.errors import SpecError

_EXPLAINED = frozenset(
    {
        "type",
        "oneOf",
        "anyOf",
        "additionalProperties",
        "pattern",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
    }
)
"""Validators whose jsonschema message does not say what was expected: the failing
schema's description is appended to them."""


def strategy_spec_schema() -> dict[str, Any]:
    """The strategy spec JSON Schema (draft 2020-12), as a fresh dict."""
    return copy.deepcopy(_schema())


def validate_document(document: object) -> None:
    """Check `document` against the strategy spec schema.

    Raises:
        SpecError: the document does not match; the message names the JSON path of the
            most relevant bad field and what was expected there.
    """
    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise SpecError(json_path(error.absolute_path), _explain(error))


def json_path(parts: Iterable[str | int]) -> str:
    """A JSON path such as ``$.entry.all[1].gt[0]`` from keys and list positions."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("orchestrade.strategies").joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    # The shipped schema is checked against the draft's metaschema by the tests, not here:
    # that check costs ~0.1 s on the first spec a process loads.
    return Draft202012Validator(_schema())


def _explain(error: ValidationError) -> str:
    message = error.message
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        keys = ", ".join(sorted(error.instance)) or "none"
        message = f"got keys {keys}"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed]
        hints = [_closest(key, allowed) for key in extra]
        message = f"unexpected key(s) {', '.join(repr(key) for key in extra)}" + "".join(
            hint for hint in hints if hint
        )
        if "description" not in schema:
            message += f" (allowed: {', '.join(allowed)})"
    if error.validator in _EXPLAINED and "description" in schema:
        message += f"; expected {schema['description']}"
    return message


def _closest(word: str, candidates: list[str]) -> str:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f"; did you mean {matches[0]!r}?" if matches else ""
