"""The domain package's front door and its purity."""

import ast
import sys
from pathlib import Path

import orchestrade.domain as domain

DOMAIN_DIR = Path(domain.__file__).parent
ALLOWED_THIRD_PARTY: set[str] = set()


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_complete() -> None:
    assert domain.__all__ == sorted(domain.__all__, key=_isort_key)
    assert len(set(domain.__all__)) == len(domain.__all__)
    assert all(hasattr(domain, name) for name in domain.__all__)
    assert "Market" in domain.__all__


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    imported: set[str] = set()
    for module in DOMAIN_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])

    outside = {name for name in imported - {"orchestrade"} if name not in sys.stdlib_module_names}
    assert outside == ALLOWED_THIRD_PARTY


def test_every_domain_error_is_an_orchestrade_error() -> None:
    errors = [domain.ValidationError, domain.InvalidTransitionError, domain.MissingPriceError]

    assert all(issubclass(error, domain.OrchestradeError) for error in errors)
    assert issubclass(domain.ValidationError, ValueError)
