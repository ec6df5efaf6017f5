"""Rebalances: proposals of new bot weights per portfolio, their reasoning and outcome.

Revision ID: 0004
Revises: 0003
Create Date: 2025-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from orchestrade.storage.columns import SERIAL

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "rebalances",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("portfolio", sa.String(100), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("objective", sa.String(16), nullable=False),
        sa.Column("covariance", sa.String(16), nullable=False),
        sa.Column("lower_bound", sa.Double(), nullable=False),
        sa.Column("upper_bound", sa.Double(), nullable=False),
        sa.Column("risk_free", sa.Double(), nullable=False),
        sa.Column("max_volatility", sa.Double(), nullable=True),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("current", sa.JSON(), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=False),
        sa.Column("expected_return_before", sa.Double(), nullable=True),
        sa.Column("volatility_before", sa.Double(), nullable=True),
        sa.Column("sharpe_before", sa.Double(), nullable=True),
        sa.Column("expected_return_after", sa.Double(), nullable=True),
        sa.Column("volatility_after", sa.Double(), nullable=True),
        sa.Column("sharpe_after", sa.Double(), nullable=True),
        sa.Column("sharpe_improvement", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'skipped', 'applied')", name="ck_rebalances_status"
        ),
    )
    op.create_index("ix_rebalances_proposed_at", "rebalances", ["proposed_at"])
    op.create_index(
        "ix_rebalances_portfolio_proposed_at", "rebalances", ["portfolio", "proposed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_rebalances_portfolio_proposed_at", table_name="rebalances")
    op.drop_index("ix_rebalances_proposed_at", table_name="rebalances")
    op.drop_table("rebalances")
