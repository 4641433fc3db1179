"""Each event names the order it is about, so ListEvents finds one order's events however old
(the payment's page lists them all) with an index instead of reading the merchant's events.

Today's data: order events carry the order as their object (its `id`), refund events the refund
(its `order`); both are backfilled from there. Other events (webhook endpoints') are about no
order and keep "".

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("order_id", sa.String(32), nullable=False, server_default=""))
    op.execute(
        """
        UPDATE events SET order_id = CASE
            WHEN type LIKE 'order.%' THEN coalesce(object->>'id', '')
            WHEN type LIKE 'refund.%' THEN coalesce(object->>'order', '')
            ELSE '' END
        WHERE type LIKE 'order.%' OR type LIKE 'refund.%'
        """
    )
    # Whole, not partial on order_id <> '': the edge's prepared statement is planned without
    # its values, and a generic plan could not use a partial index.
    op.create_index(
        "events_order_page", "events", ["merchant_id", "livemode", "order_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("events_order_page", "events")
    op.drop_column("events", "order_id")
