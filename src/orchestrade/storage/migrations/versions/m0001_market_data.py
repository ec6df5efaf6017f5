"""Market data: instruments, bars (+ packed bar blocks), order-book levels, import log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("market", sa.String(16), nullable=False),
        sa.Column("exchange", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("lot_size", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("symbol", "market", name="uq_instruments_symbol_market"),
        sa.CheckConstraint("market IN ('krx', 'us', 'crypto')", name="ck_instruments_market"),
    )
    op.create_table(
        "bars",
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("open", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("close", sa.Double(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("instrument_id", "timeframe", "ts_ns"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "bar_blocks",
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_ns", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("instrument_id", "timeframe", "start_ns"),
    )
    op.create_table(
        "book_levels",
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("exchange", sa.String(40), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("msg_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("side", sa.String(3), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("local_ts_ns", sa.BigInteger(), nullable=True),
        sa.Column("update_type", sa.String(8), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("size", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("instrument_id", "exchange", "ts_ns", "msg_id", "side", "price"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_imports_sha256", "imports", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_imports_sha256", table_name="imports")
    op.drop_table("imports")
    op.drop_table("book_levels")
    op.drop_table("bar_blocks")
    op.drop_table("bars")
    op.drop_table("instruments")
