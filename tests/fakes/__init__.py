"""In-memory twins of the ports and small builders, shared by the test suites."""

from .broker import ScriptedBroker
from .journal import InMemoryOrderJournal, JournalCrashError, JournalEvent
from .market import DAY0, daily_bar
from .orders import T0, FakeClock, buy, order, sell

__all__ = [
    "DAY0",
    "T0",
    "FakeClock",
    "InMemoryOrderJournal",
    "JournalCrashError",
    "JournalEvent",
    "ScriptedBroker",
    "buy",
    "daily_bar",
    "order",
    "sell",
]
