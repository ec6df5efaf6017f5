"""ImportLogRepository: the audit trail of imported files."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from orchestrade.data.ports import ImportRecord
from orchestrade.storage.tables import ImportRow

IMPORTS: Table = ImportRow.__table__  # type: ignore[assignment]


class ImportLogRepository:
    """Append-only log of imports; implements ImportLog."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, entry: ImportRecord) -> None:
        """Append one entry, stamped now (UTC) unless it carries its own time."""
        self._connection.execute(
            insert(IMPORTS).values(
                path=entry.path,
                sha256=entry.sha256,
                kind=entry.kind,
                rows=entry.rows,
                inserted=entry.inserted,
                updated=entry.updated,
                rejected=dict(entry.rejected),
                imported_at=entry.imported_at or datetime.now(UTC),
            )
        )

    def entries(self, *, sha256: str | None = None) -> list[ImportRecord]:
        """Entries oldest first, optionally only those of one file content."""
        query = select(IMPORTS).order_by(IMPORTS.c.id)
        if sha256 is not None:
            query = query.where(IMPORTS.c.sha256 == sha256)
        return [
            ImportRecord(
                path=row.path,
                sha256=row.sha256,
                kind=row.kind,
                rows=row.rows,
                inserted=row.inserted,
                updated=row.updated,
                rejected=dict(row.rejected),
                imported_at=_utc(row.imported_at),
            )
            for row in self._connection.execute(query)
        ]


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
