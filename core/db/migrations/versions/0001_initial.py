"""Merchants, API keys, processors, orders, attempts, idempotency keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "merchants",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("default_processor", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False, index=True
        ),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", _TS),
    )
    op.create_table(
        "processors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("deadline_ms", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("capture_method", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("metadata", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("return_url", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("amount_capturable", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("amount_received", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("amount_refunded", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("failure_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("failure_message", sa.Text, nullable=False, server_default=""),
        sa.Column("next_action_url", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount > 0", name="orders_amount_positive"),
        sa.CheckConstraint("amount_refunded <= amount_received", name="orders_refund_bounded"),
    )
    op.create_index("orders_merchant_page", "orders", ["merchant_id", "created_at", "id"])
    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "order_id", sa.String(32), sa.ForeignKey("orders.id"), nullable=False, index=True
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("processor", sa.String(64), nullable=False),
        sa.Column("attempt_key", sa.String(200), nullable=False, unique=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("decline_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("decline_message", sa.Text, nullable=False, server_default=""),
        sa.Column("processor_reference", sa.String(255), nullable=False, server_default=""),
        sa.Column("latency_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("order_id", "seq"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("response_code", sa.Integer, nullable=False, server_default="0"),
        sa.Column("response", sa.LargeBinary, nullable=False, server_default=""),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("locked_at", _TS, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "attempts", "orders", "processors", "api_keys", "merchants"):
        op.drop_table(table)
