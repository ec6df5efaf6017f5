"""Trading: bots, signals, orders, order events, fills, positions, portfolio snapshots, audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from orchestrade.storage.columns import SERIAL, ExactDecimal

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _serial() -> sa.Column[int]:
    return sa.Column("id", SERIAL, primary_key=True, autoincrement=True)


def _at(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("bot_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("strategy", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("allocation", ExactDecimal(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.CheckConstraint("state IN ('running', 'paused', 'stopped')", name="ck_bots_state"),
    )
    op.create_table(
        "signals",
        _serial(),
        _at("time"),
        sa.Column("bot_id", sa.String(100), nullable=True),
        sa.Column("strategy_id", sa.String(100), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("reference_price", ExactDecimal(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_signals_time", "signals", ["time"])
    op.create_index("ix_signals_bot_id_time", "signals", ["bot_id", "time"])
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("bot_id", sa.String(100), nullable=True),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("limit_price", ExactDecimal(), nullable=True),
        sa.Column("stop_price", ExactDecimal(), nullable=True),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("filled_quantity", ExactDecimal(), nullable=False),
        sa.Column("average_fill_price", ExactDecimal(), nullable=True),
        sa.Column("broker_order_id", sa.String(100), nullable=True),
        _at("created_at"),
        _at("updated_at"),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "order_events",
        _serial(),
        sa.Column("order_id", sa.String(100), sa.ForeignKey("orders.order_id"), nullable=False),
        _at("at"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filled_quantity", ExactDecimal(), nullable=False),
        sa.Column("average_fill_price", ExactDecimal(), nullable=True),
    )
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])
    op.create_table(
        "fills",
        _serial(),
        sa.Column("fill_id", sa.String(100), nullable=False, unique=True),
        sa.Column(
            "order_id",
            sa.String(100),
            sa.ForeignKey("orders.order_id", deferrable=True, initially="DEFERRED"),
            nullable=False,
        ),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.Column("fee", ExactDecimal(), nullable=False),
        sa.Column("tax", ExactDecimal(), nullable=False),
        _at("filled_at"),
        _at("recorded_at"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_table(
        "positions",
        sa.Column("bot_key", sa.String(100), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("cost_basis", ExactDecimal(), nullable=False),
        sa.Column("realized_pnl", ExactDecimal(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("bot_key", "symbol"),
    )
    op.create_table(
        "portfolio_snapshots",
        _serial(),
        sa.Column("bot_key", sa.String(100), nullable=False),
        _at("time"),
        sa.Column("cash", ExactDecimal(), nullable=False),
        sa.Column("market_value", ExactDecimal(), nullable=False),
        sa.Column("equity", ExactDecimal(), nullable=False),
        sa.UniqueConstraint("bot_key", "time", name="uq_portfolio_snapshots_bot_key_time"),
    )
    op.create_table(
        "audit_events",
        _serial(),
        _at("at"),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("bot_id", sa.String(100), nullable=True),
        sa.Column("symbol", sa.String(40), nullable=True),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("quantity", ExactDecimal(), nullable=True),
        sa.Column("price", ExactDecimal(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_bot_id", "audit_events", ["bot_id"])
    op.create_index("ix_audit_events_kind", "audit_events", ["kind"])


def downgrade() -> None:
    for table, indexes in (
        ("audit_events", ["ix_audit_events_kind", "ix_audit_events_bot_id", "ix_audit_events_at"]),
        ("portfolio_snapshots", []),
        ("positions", []),
        ("fills", ["ix_fills_order_id"]),
        ("order_events", ["ix_order_events_order_id"]),
        ("orders", ["ix_orders_status"]),
        ("signals", ["ix_signals_bot_id_time", "ix_signals_time"]),
        ("bots", []),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
