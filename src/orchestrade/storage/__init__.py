"""Persistent state on SQLAlchemy 2 + Alembic: SQLite (embedded default) or PostgreSQL."""

from orchestrade.portfolio.snapshots import PortfolioSnapshot
from orchestrade.storage.audit import AuditEntry, AuditLog, AuditPage, AuditRecord
from orchestrade.storage.bars import BarRepository
from orchestrade.storage.books import BookRepository
from orchestrade.storage.bots import BotRepository
from orchestrade.storage.errors import OrderIdConflictError, UnknownBotError
from orchestrade.storage.imports import ImportLogRepository
from orchestrade.storage.instruments import InstrumentRepository
from orchestrade.storage.orders import OrderEvent, SqlOrderJournal
from orchestrade.storage.portfolio import PortfolioRepository
from orchestrade.storage.signals import SignalDecision, SignalRepository
from orchestrade.storage.store import (
    LoadedBars,
    Store,
    StoreBars,
    StoreTransaction,
    load_bars,
    open_store,
)

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditPage",
    "AuditRecord",
    "BarRepository",
    "BookRepository",
    "BotRepository",
    "ImportLogRepository",
    "InstrumentRepository",
    "LoadedBars",
    "OrderEvent",
    "OrderIdConflictError",
    "PortfolioRepository",
    "PortfolioSnapshot",
    "SignalDecision",
    "SignalRepository",
    "SqlOrderJournal",
    "Store",
    "StoreBars",
    "StoreTransaction",
    "UnknownBotError",
    "load_bars",
    "open_store",
]
