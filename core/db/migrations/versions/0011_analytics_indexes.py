"""Indexes for payment analytics (edge/analytics.py): each covers what its side of the
statement reads, so a window of orders and their attempts are read from the indexes alone
(index-only scans) instead of from the tables' rows.

Today's data: only new indexes; nothing is rewritten.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "orders_merchant_figures",
        "orders",
        ["merchant_id", "livemode", "created_at"],
        postgresql_include=["id", "amount", "currency", "status", "failure_code"],
    )
    op.create_index(
        "attempts_order_figures",
        "attempts",
        ["order_id", "seq"],
        postgresql_include=["processor", "outcome", "latency_ms", "failover_reason"],
    )


def downgrade() -> None:
    op.drop_index("attempts_order_figures", "attempts")
    op.drop_index("orders_merchant_figures", "orders")
