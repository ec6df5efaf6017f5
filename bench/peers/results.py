"""What every peer returns, in one shape, and how two runs are compared trade by trade."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

TRADE_DTYPE = np.dtype(
    [
        ("symbol", np.int64),  # row of the symbol in the universe panel
        ("entry_bar", np.int64),  # column of the fill bar on the panel's time axis
        ("entry_price", np.float64),
        ("exit_bar", np.int64),  # a trade still open at the end: the symbol's last bar
        ("exit_price", np.float64),  # ... and its last close (valued, not sold)
        ("quantity", np.float64),
    ]
)
EQUITY_RTOL = 1e-9
"""Final equities agree when within this relative tolerance (fees are rounded differently)."""


@dataclass(frozen=True)
class PeerRun:
    """One engine's results on one universe.

    Attributes:
        engine: a label such as ``"vectorbt (rust)"``.
        trades: structured array of ``TRADE_DTYPE``, sorted by (symbol, entry_bar).
        final_equity: float64 (n_symbols,), cash plus the open position at its last close.
        seconds: time from loaded arrays to results (indicators, signals, simulation, results).
        symbols: the rows the run covered (all of them unless a slow peer ran a subset).
    """

    engine: str
    trades: np.ndarray
    final_equity: np.ndarray
    seconds: float
    symbols: tuple[int, ...]
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Agreement:
    """Whether a run has exactly the reference's trades and (to ``EQUITY_RTOL``) equities."""

    identical_trades: bool
    equities_match: bool
    trades_compared: int
    max_equity_rel_diff: float
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Trades identical and final equities equal within tolerance."""
        return self.identical_trades and self.equities_match

    def summary(self) -> str:
        """A one-line status such as ``identical (3,120 trades, equity rel diff 2e-16)``."""
        if self.ok:
            return (
                f"identical ({self.trades_compared:,} trades, "
                f"equity rel diff {self.max_equity_rel_diff:.1e})"
            )
        return f"MISMATCH ({len(self.mismatches)} problem(s)): {self.mismatches[0]}"


def trades_from_rows(rows: Sequence[tuple[int, int, float, int, float, float]]) -> np.ndarray:
    """A sorted ``TRADE_DTYPE`` array from (symbol, entry bar, entry price, exit bar, exit
    price, quantity) tuples."""
    trades = np.array(list(rows), dtype=TRADE_DTYPE) if rows else np.empty(0, TRADE_DTYPE)
    return sort_trades(trades)


def sort_trades(trades: np.ndarray) -> np.ndarray:
    """The trades ordered by (symbol, entry_bar)."""
    order = np.lexsort((trades["entry_bar"], trades["symbol"]))
    return trades[order]


def compare(
    reference: PeerRun,
    run: PeerRun,
    symbol_names: Sequence[str],
    *,
    limit: int = 5,
) -> Agreement:
    """Compare ``run`` with ``reference`` on the symbols ``run`` covered.

    Trades must be equal field by field (prices and quantities exactly); final equities
    within ``EQUITY_RTOL``. Each mismatch is described precisely (symbol, trade number, both
    trades); at most ``limit`` descriptions are kept, the first per symbol.
    """
    covered = np.asarray(run.symbols, dtype=np.int64)
    expected = reference.trades[np.isin(reference.trades["symbol"], covered)]
    actual = run.trades[np.isin(run.trades["symbol"], covered)]
    problems: list[str] = []
    for symbol in covered:
        want = expected[expected["symbol"] == symbol]
        got = actual[actual["symbol"] == symbol]
        problem = _first_difference(want, got)
        if problem:
            problems.append(f"{symbol_names[symbol]}: {problem}")
    identical = not problems
    want_eq = reference.final_equity[covered]
    got_eq = run.final_equity[covered]
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(got_eq - want_eq) / np.abs(want_eq)
    rel = np.where(np.isnan(want_eq) & np.isnan(got_eq), 0.0, rel)
    bad = ~(rel <= EQUITY_RTOL)
    for index in np.flatnonzero(bad)[: max(0, limit - len(problems))]:
        symbol = int(covered[index])
        problems.append(
            f"{symbol_names[symbol]}: final equity {got_eq[index]!r} vs reference "
            f"{want_eq[index]!r}"
        )
    max_rel = float(np.nanmax(rel)) if rel.size else 0.0
    return Agreement(
        identical_trades=identical,
        equities_match=not bool(bad.any()),
        trades_compared=int(expected.size),
        max_equity_rel_diff=max_rel,
        mismatches=tuple(problems[:limit]) if problems else (),
    )


def _first_difference(want: np.ndarray, got: np.ndarray) -> str:
    for number, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            return f"trade #{number} reference {_describe(a)} vs {_describe(b)}"
    if want.size != got.size:
        longer, label = (want, "reference only") if want.size > got.size else (got, "extra")
        first = longer[min(want.size, got.size)]
        return (
            f"{want.size} reference trades vs {got.size}; first {label}: trade "
            f"#{min(want.size, got.size)} {_describe(first)}"
        )
    return ""


def _describe(trade: np.void) -> str:
    return (
        f"(entry bar {trade['entry_bar']} @ {trade['entry_price']:.10g}, exit bar "
        f"{trade['exit_bar']} @ {trade['exit_price']:.10g}, qty {trade['quantity']:.10g})"
    )
