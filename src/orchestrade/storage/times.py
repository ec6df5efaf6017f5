"""Datetimes read back from the database as aware UTC, whatever the backend returns.

Every time is written as an aware UTC datetime; SQLite hands it back naive (its text has
no offset), PostgreSQL as an aware datetime in the session's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrade.data.errors import QueryError
from orchestrade.domain import ValidationError
from orchestrade.domain.validation import require_utc


def as_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive values were written as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_bound(name: str, value: object) -> datetime:
    """A query bound as aware UTC (so SQLite's offset-less text compares correctly).

    Raises:
        QueryError: the bound is not an aware datetime.
    """
    try:
        return require_utc(name, value)
    except ValidationError as error:
        raise QueryError(str(error)) from None
