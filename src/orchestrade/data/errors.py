"""Errors of the market data service: what went wrong with a file, a frame or a store."""

from __future__ import annotations

from pathlib import Path

from orchestrade.domain.errors import OrchestradeError


class DataError(OrchestradeError):
    """Base of every error the data service raises on purpose."""


class DataFileError(DataError):
    """A market data file cannot be understood: a human must fix the file or name its columns.

    The message always names the file and the missing or ambiguous column.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class FrameError(DataError):
    """A frame handed to the data service breaks the normalized frame contract."""


class StoreError(DataError):
    """A store could not complete a read or write; the current transaction was rolled back.

    Storage adapters translate their driver's exceptions into this one so the data service
    can report a failed file and go on with the next without knowing the database library.
    """


class QueryError(DataError):
    """A request for stored data is malformed (bad time bound, unknown timeframe, ...)."""


class UnknownSymbolError(QueryError):
    """A symbol asked for is not in the store (or not in the market asked for)."""


class AmbiguousSymbolError(QueryError):
    """A symbol exists in several markets and the request did not say which one."""
