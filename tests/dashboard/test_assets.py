"""The dashboard's files: the vendored library is the pinned npm release, unchanged, with its
licence; the page's own scripts never build markup from strings."""

from __future__ import annotations

import hashlib
import re

from orchestrade.dashboard.mount import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"
UPLOT_VERSION = "1.6.32"


def test_vendored_files_match_the_checksums_the_vendor_readme_pins() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"`([\w.]+\.(?:js|css))` \| `([0-9a-f]{64})`", readme))

    assert set(pinned) == {"uPlot.esm.js", "uPlot.min.css"}
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / "uplot" / name).read_bytes()).hexdigest() == digest, name
    assert f"| `uplot` | {UPLOT_VERSION} |" in readme


def test_uplot_is_the_pinned_release_with_its_licence() -> None:
    source = (VENDOR / "uplot" / "uPlot.esm.js").read_text(encoding="utf-8")
    licence = (VENDOR / "uplot" / "LICENSE").read_text(encoding="utf-8")

    assert f"(v{UPLOT_VERSION})" in source.split("*/", 1)[0]
    assert source.rstrip().endswith("export { uPlot as default };")
    assert "MIT License" in licence


def test_our_scripts_never_write_markup_from_strings() -> None:
    """Everything shown is built as nodes with text (dom.js): no server or user text can
    become markup. This is also why the page's CSP needs no script-src (mount.py)."""
    offenders = [
        f"{path.relative_to(STATIC_DIR)}: {match.group(0)}"
        for path in (STATIC_DIR / "js").rglob("*.js")
        for match in re.finditer(
            r"\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(",
            path.read_text(encoding="utf-8"),
        )
    ]

    assert offenders == []
