"""API keys a merchant manages: a name, read-only access, when each was last used, when a
rolled key stops working, and the key's kind (secret today; publishable keys come later).

Today's data: every existing key is a secret key with full access, no name and no expiry, so
it keeps working exactly as before.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_keys", sa.Column("kind", sa.String(16), nullable=False, server_default="secret")
    )
    op.add_column("api_keys", sa.Column("name", sa.String(100), nullable=False, server_default=""))
    op.add_column(
        "api_keys", sa.Column("read_only", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True)))
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True)))
    # Listing a merchant's keys of one mode, newest first.
    op.create_index(
        "api_keys_merchant_page", "api_keys", ["merchant_id", "livemode", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("api_keys_merchant_page", table_name="api_keys")
    for column in ("expires_at", "last_used_at", "read_only", "name", "kind"):
        op.drop_column("api_keys", column)
