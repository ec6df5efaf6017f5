"""Built-in strategies, each a JSON strategy spec shipped beside this module.

``builtin_spec("sma_cross")`` loads one; ``builtin_names()`` lists them;
``resolve_spec(text)`` accepts a built-in name, a spec file path or JSON text (what the
CLI's ``--strategy`` takes).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from orchestrade.strategies.errors import SpecError
from orchestrade.strategies.spec import StrategySpec, closest, load_spec


def builtin_names() -> tuple[str, ...]:
    """The names of the built-in strategies, sorted."""
    return tuple(sorted(_texts()))


def builtin_spec(name: str) -> StrategySpec:
    """The built-in strategy `name`.

    Raises:
        SpecError: no such built-in (the message names the closest one).
    """
    if name not in _texts():
        raise SpecError(
            "$",
            f"no built-in strategy {name!r}{closest(name, list(_texts()))} "
            f"(built-ins: {', '.join(builtin_names())})",
        )
    return _loaded(name)


def resolve_spec(source: str | Path) -> StrategySpec:
    """A built-in by name, else a spec from a JSON file path or JSON text.

    Raises:
        SpecError: neither a built-in nor a readable valid spec.
    """
    if isinstance(source, str) and source in _texts():
        return builtin_spec(source)
    if (
        isinstance(source, str)
        and not source.lstrip().startswith("{")
        and not Path(source).exists()
    ):
        raise SpecError(
            "$",
            f"{source!r} is neither a built-in strategy{closest(source, list(_texts()))} "
            f"(built-ins: {', '.join(builtin_names())}) nor an existing spec file",
        )
    return load_spec(source)


@cache
def _loaded(name: str) -> StrategySpec:
    """Specs are immutable, so each built-in is validated once per process."""
    return load_spec(_texts()[name])


@cache
def _texts() -> dict[str, str]:
    folder = resources.files(__name__)
    return {
        entry.name.removesuffix(".json"): entry.read_text("utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }
