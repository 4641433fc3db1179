"""What the dashboard's Payments and Webhooks pages search and filter by: the correlation ids
of the requests that created and paid each order, and the indexes of ListOrders' filters and
search and of ListWebhookEndpointDeliveries' pages.

Today's data: existing orders keep no correlation id (they are found by id or processor
reference); the indexes cover them all.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("created_correlation_id", "paid_correlation_id"):
        op.add_column(
            "orders", sa.Column(column, sa.String(128), nullable=False, server_default="")
        )
        # Partial: most orders are paid by one request, and old ones have none.
        op.create_index(
            f"orders_{column}",
            "orders",
            [column],
            postgresql_where=sa.text(f"{column} <> ''"),
        )
    op.create_index(
        "attempts_processor_reference",
        "attempts",
        ["processor_reference"],
        postgresql_where=sa.text("processor_reference <> ''"),
    )
    # The filters that select few of a merchant's orders, each in the page's order.
    op.create_index(
        "orders_merchant_currency_page",
        "orders",
        ["merchant_id", "livemode", "currency", "created_at", "id"],
    )
    op.create_index(
        "orders_merchant_failure_page",
        "orders",
        ["merchant_id", "livemode", "failure_code", "created_at", "id"],
        postgresql_where=sa.text("failure_code <> ''"),
    )
    op.create_index(
        "event_deliveries_endpoint_page",
        "event_deliveries",
        ["endpoint_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("event_deliveries_endpoint_page", "event_deliveries")
    op.drop_index("orders_merchant_failure_page", "orders")
    op.drop_index("orders_merchant_currency_page", "orders")
    op.drop_index("attempts_processor_reference", "attempts")
    for column in ("paid_correlation_id", "created_correlation_id"):
        op.drop_index(f"orders_{column}", "orders")
        op.drop_column("orders", column)
