"""Persistent state on SQLAlchemy 2 + Alembic: SQLite (embedded default) or PostgreSQL."""

from orchestrade.storage.bars import BarRepository
from orchestrade.storage.books import BookRepository
from orchestrade.storage.imports import ImportLogRepository
from orchestrade.storage.instruments import InstrumentRepository
from orchestrade.storage.store import (
    LoadedBars,
    Store,
    StoreBars,
    StoreTransaction,
    load_bars,
    open_store,
)

__all__ = [
    "BarRepository",
    "BookRepository",
    "ImportLogRepository",
    "InstrumentRepository",
    "LoadedBars",
    "Store",
    "StoreBars",
    "StoreTransaction",
    "load_bars",
    "open_store",
]
