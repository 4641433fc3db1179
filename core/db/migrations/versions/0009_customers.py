"""Customers and the vaulted payment methods saved for them; an order may name its customer.

Today's data: no merchant has customers; every existing order keeps no customer.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("email", sa.String(254), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # Deleted customers stay (their orders name them) but are NOT_FOUND to every call.
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "customers_merchant_page", "customers", ["merchant_id", "livemode", "created_at", "id"]
    )
    op.create_table(
        "customer_payment_methods",
        # A vault token is saved for one customer at most.
        sa.Column("payment_method", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        # What a receipt shows, as the vault told it: no card number ever reaches this table.
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer, nullable=False),
        sa.Column("exp_year", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        # The card network's id of the first customer-present payment with this method, sent
        # with the merchant-initiated payments that follow; empty until a gateway gives one.
        sa.Column("network_transaction_id", sa.String(255), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # One card once per customer: two concurrent attaches of the same card cannot both win.
        sa.UniqueConstraint("customer_id", "fingerprint", name="customer_payment_methods_card"),
    )
    op.add_column("orders", sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id")))


def downgrade() -> None:
    op.drop_column("orders", "customer_id")
    op.drop_table("customer_payment_methods")
    op.drop_table("customers")
