"""Anomalies: every finding of the detectors and every circuit-breaker trip.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from orchestrade.storage.columns import SERIAL, ExactDecimal

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "anomalies",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("bot_key", sa.String(100), nullable=False),
        sa.Column("value", ExactDecimal(), nullable=False),
        sa.Column("threshold", ExactDecimal(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "kind", "detector", "subject", "bot_key", "detected_at", name="uq_anomalies_finding"
        ),
        sa.CheckConstraint("kind IN ('anomaly', 'circuit_breaker')", name="ck_anomalies_kind"),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')", name="ck_anomalies_severity"
        ),
    )
    op.create_index("ix_anomalies_detected_at", "anomalies", ["detected_at"])
    op.create_index("ix_anomalies_bot_key_detected_at", "anomalies", ["bot_key", "detected_at"])


def downgrade() -> None:
    op.drop_index("ix_anomalies_bot_key_detected_at", table_name="anomalies")
    op.drop_index("ix_anomalies_detected_at", table_name="anomalies")
    op.drop_table("anomalies")
