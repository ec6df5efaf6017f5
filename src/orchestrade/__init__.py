"""orchestrade: multi-agent algorithmic trading from research to live.

The front door is deliberately small; everything else lives in the subpackages
(`orchestrade.data`, `orchestrade.indicators`, `orchestrade.storage`, ...).
"""

from orchestrade.data.panel import BarPanel
from orchestrade.domain import Bar, Instrument, Market, Signal
from orchestrade.storage import load_bars

__all__ = ["Bar", "BarPanel", "Instrument", "Market", "Signal", "load_bars"]
__version__ = "0.1.0"
