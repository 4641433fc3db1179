"""Processor registrations with TLS and capabilities, merchants' processor accounts (encrypted
credentials), and verified gateway webhook events.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "processors", sa.Column("tls", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("processors", sa.Column("tls_ca_pem", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "processors",
        sa.Column("capabilities", postgresql.JSONB, nullable=False, server_default="{}"),
    )
    op.create_table(
        "processor_accounts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id")),
        sa.Column("processor", sa.String(64), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("credentials", sa.LargeBinary, nullable=False),
        sa.Column("credential_fields", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("rotated_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    # One enabled account per merchant, processor and mode (and one platform account): the
    # account a payment uses is never ambiguous.
    op.create_index(
        "processor_accounts_one_enabled",
        "processor_accounts",
        ["merchant_id", "processor", "livemode"],
        unique=True,
        postgresql_where=sa.text("enabled and merchant_id is not null"),
    )
    op.create_index(
        "processor_accounts_one_platform",
        "processor_accounts",
        ["processor", "livemode"],
        unique=True,
        postgresql_where=sa.text("enabled and merchant_id is null"),
    )
    op.create_table(
        "processor_events",
        sa.Column("processor", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("account_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("event_type", sa.String(100), nullable=False, server_default=""),
        sa.Column("attempt_key", sa.String(255), nullable=False, server_default=""),
        sa.Column("order_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("received_at", _TS, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("processor_events")
    op.drop_index("processor_accounts_one_platform")
    op.drop_index("processor_accounts_one_enabled")
    op.drop_table("processor_accounts")
    op.drop_column("processors", "capabilities")
    op.drop_column("processors", "tls_ca_pem")
    op.drop_column("processors", "tls")
