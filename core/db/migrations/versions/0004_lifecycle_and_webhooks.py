"""The payment lifecycle (refunds, reserved refund amounts, authorization expiry, cancellation)
and merchant webhooks (events, endpoints with sealed secrets, deliveries and their attempts).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("amount_refund_pending", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.add_column("orders", sa.Column("capture_before", _TS))
    op.add_column(
        "orders", sa.Column("cancellation_reason", sa.String(64), nullable=False, server_default="")
    )
    # Refunds, captures and voids go through the account that charged.
    op.add_column(
        "attempts", sa.Column("account_id", sa.String(32), nullable=False, server_default="")
    )
    # Refunds can never add up to more than was captured: the database holds the line.
    op.create_check_constraint(
        "orders_refunds_within_captured",
        "orders",
        "amount_refunded + amount_refund_pending <= amount_received",
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        # pending | succeeded | failed
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("failure_message", sa.Text, nullable=False, server_default=""),
        sa.Column("processor", sa.String(64), nullable=False),
        sa.Column("processor_reference", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("refunds_order", "refunds", ["order_id", "created_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        # The object as the API returns it (JSON, the transcoder's field names).
        sa.Column("object", postgresql.JSONB, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("events_merchant_page", "events", ["merchant_id", "created_at", "id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled_events", postgresql.JSONB, nullable=False),
        # enabled | disabled | deleted
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disabled_reason", sa.String(100), nullable=False, server_default=""),
        # core.secrets.SecretBox.seal({"current": …, "previous": …}): signing secrets are
        # encrypted at rest like every other secret.
        sa.Column("secrets", sa.LargeBinary, nullable=False),
        sa.Column("previous_secret_expires_at", _TS),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "webhook_endpoints_merchant", "webhook_endpoints", ["merchant_id", "livemode", "status"]
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(40), sa.ForeignKey("events.id"), nullable=False),
        sa.Column(
            "endpoint_id", sa.String(32), sa.ForeignKey("webhook_endpoints.id"), nullable=False
        ),
        # pending | succeeded | failed
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_attempt_at", _TS),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("event_deliveries_event", "event_deliveries", ["event_id"])
    op.create_table(
        "delivery_attempts",
        sa.Column(
            "delivery_id", sa.String(32), sa.ForeignKey("event_deliveries.id"), primary_key=True
        ),
        sa.Column("attempt_number", sa.Integer, primary_key=True),
        sa.Column("http_status", sa.Integer, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("event_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("events")
    op.drop_table("refunds")
    op.drop_constraint("orders_refunds_within_captured", "orders")
    op.drop_column("attempts", "account_id")
    op.drop_column("orders", "cancellation_reason")
    op.drop_column("orders", "capture_before")
    op.drop_column("orders", "amount_refund_pending")
