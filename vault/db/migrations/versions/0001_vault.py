"""The vault's cards (envelope-encrypted) and its audit of detokenizations.

Revision ID: v0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "vault"


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("merchant_id", sa.String(32), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("brand", sa.String(16), nullable=False),
        sa.Column("bin", sa.String(6), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer, nullable=False),
        sa.Column("exp_year", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("kek_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("card", sa.LargeBinary, nullable=False),
        sa.Column("cvc", sa.LargeBinary),
        sa.Column("cvc_expires_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_index("cards_kek", "cards", ["kek_id"], schema=SCHEMA)
    op.create_index(
        "cards_fingerprint", "cards", ["merchant_id", "livemode", "fingerprint"], schema=SCHEMA
    )
    op.create_index(
        "cards_cvc_expiry",
        "cards",
        ["cvc_expires_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("cvc IS NOT NULL"),
    )
    op.create_table(
        "detokenizations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("payment_method", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(32), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("processor", sa.String(64), nullable=False),
        sa.Column("attempt_key", sa.String(200), nullable=False),
        sa.Column("first_authorization", sa.Boolean, nullable=False),
        sa.Column("cvc_released", sa.Boolean, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "detokenizations_payment_method", "detokenizations", ["payment_method"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("detokenizations", schema=SCHEMA)
    op.drop_table("cards", schema=SCHEMA)
