"""orchestrade: multi-agent algorithmic trading from research to live.

The front door is deliberately small; everything else lives in the subpackages
(`orchestrade.data`, `orchestrade.indicators`, `orchestrade.backtest`, ...). The names are
imported on first use, so `import orchestrade.backtest.kernel` does not pay for the store
(SQLAlchemy) or the exchange calendars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrade.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from orchestrade.backtest.engine import Backtest
    from orchestrade.data.panel import BarPanel
    from orchestrade.domain import Bar, Instrument, Market, Signal
    from orchestrade.storage import load_bars
    from orchestrade.strategies import Strategy

__all__ = [
    "Backtest",
    "Bar",
    "BarPanel",
    "Instrument",
    "Market",
    "Signal",
    "Strategy",
    "load_bars",
]
__version__ = "0.1.0"

_HOMES = {
    "Backtest": "orchestrade.backtest.engine",
    "Bar": "orchestrade.domain",
    "BarPanel": "orchestrade.data.panel",
    "Instrument": "orchestrade.domain",
    "Market": "orchestrade.domain",
    "Signal": "orchestrade.domain",
    "Strategy": "orchestrade.strategies",
    "load_bars": "orchestrade.storage",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
