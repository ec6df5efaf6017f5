"""Lazy package exports: a package's public names are imported on first use, so that
importing the package (or one light name of it) does not load its heavy modules.

A package lists where each public name lives and installs the two module hooks:

    __getattr__, __dir__ = lazy_exports(__name__, {"sma": "orchestrade.indicators.functions"},
                                        globals())

Type checkers see the names through the package's ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of `package`: a name of `homes` is
    imported from its module on first use and kept in `namespace` (the package's globals),
    so later uses are plain lookups."""

    def lookup(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return sorted([*namespace, *namespace.get("__all__", ())])

    return lookup, listing
