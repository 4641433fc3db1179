"""Routing configurations, processor health (circuit breakers), routing facts on orders and
attempts, and compensation obligations.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "routing_configs",
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), primary_key=True),
        sa.Column("version", sa.BigInteger, primary_key=True),
        sa.Column("config", postgresql.JSONB, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "processor_health",
        sa.Column("processor", sa.String(64), primary_key=True),
        # closed | open | half_open
        sa.Column("state", sa.String(16), nullable=False, server_default="closed"),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_started_at", _TS),
        sa.Column("opened_at", _TS),
        sa.Column("probe_started_at", _TS),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.add_column(
        "orders", sa.Column("routing", postgresql.JSONB, nullable=False, server_default="{}")
    )
    op.add_column(
        "attempts", sa.Column("failover_reason", sa.String(64), nullable=False, server_default="")
    )
    op.add_column(
        "attempts", sa.Column("compensation", sa.String(32), nullable=False, server_default="")
    )
    op.create_index("attempts_processor_recent", "attempts", ["processor", "created_at"])


def downgrade() -> None:
    op.drop_index("attempts_processor_recent")
    op.drop_column("attempts", "compensation")
    op.drop_column("attempts", "failover_reason")
    op.drop_column("orders", "routing")
    op.drop_table("processor_health")
    op.drop_table("routing_configs")
