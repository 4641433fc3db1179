"""Payment analytics (edge/analytics.py) reads a window of a merchant's orders from one index
alone. What it needs of an order's attempts is kept on the order itself, refreshed by the
worker each time it writes one of them (orchestrator/activities/orders.py): the processor that
decided it, the time its attempts spent at processors, and whether it failed over. Folding the
attempts at query time instead costs a lookup per order: over a 30-day window of a busy
merchant, seconds (docs/benchmarks.md).

Today's data: every order's summary is computed from its attempts once, here.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("decided_processor", sa.String(64), nullable=False, server_default=""),
    )
    op.add_column("orders", sa.Column("payment_latency_ms", sa.Integer, nullable=True))
    op.add_column(
        "orders",
        sa.Column("failed_over", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.execute(
        """
        update orders o
        set decided_processor = s.decided_processor,
            payment_latency_ms = s.payment_latency_ms,
            failed_over = s.failed_over
        from (
            select order_id,
                   (array_agg(processor order by seq desc))[1] as decided_processor,
                   sum(latency_ms) filter (where outcome <> 'pending') as payment_latency_ms,
                   bool_or(failover_reason <> '') as failed_over
            from attempts
            group by order_id
        ) s
        where s.order_id = o.id
        """
    )
    op.create_index(
        "orders_merchant_figures",
        "orders",
        ["merchant_id", "livemode", "created_at"],
        postgresql_include=[
            "amount",
            "currency",
            "status",
            "failure_code",
            "decided_processor",
            "payment_latency_ms",
            "failed_over",
        ],
    )


def downgrade() -> None:
    op.drop_index("orders_merchant_figures", "orders")
    op.drop_column("orders", "failed_over")
    op.drop_column("orders", "payment_latency_ms")
    op.drop_column("orders", "decided_processor")
