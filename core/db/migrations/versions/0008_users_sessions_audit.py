"""People and what they did: dashboard users with a role, their sign-in sessions and refresh
tokens (stored hashed), failed sign-ins (for throttling), and the audit log.

Today's data: nothing changes for API keys; no merchant has users until one is created.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        # Stored lower-cased: one person, one e-mail, whatever case they type it in.
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # Removed users stay (the audit log names them) but can neither sign in nor act.
        sa.Column("removed_at", sa.DateTime(timezone=True)),
    )
    # An e-mail signs in to one merchant: unique among the users not removed.
    op.create_index(
        "users_email_active",
        "users",
        ["email"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_index("users_merchant_page", "users", ["merchant_id", "created_at", "id"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        # No refresh past this, however active the session.
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        # logout, refresh_token_reused, user_removed.
        sa.Column("revoked_reason", sa.String(32)),
    )
    op.create_index("user_sessions_user", "user_sessions", ["user_id"])
    op.create_table(
        "refresh_tokens",
        # SHA-256 of the token: tokens carry 256 random bits, so the hash cannot be inverted.
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("user_sessions.id"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        # Set when it was exchanged for the next one: presenting it again is reuse.
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("refresh_tokens_session", "refresh_tokens", ["session_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # "email:<sha-256 of the e-mail>" or "address:<client address>".
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column(
            "failed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("sign_in_failures_subject", "sign_in_failures", ["subject", "failed_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(32), primary_key=True),
        # Empty for the platform operator's own changes (processor registration).
        sa.Column("merchant_id", sa.String(32)),
        # Absent for what belongs to both modes (users, sign-ins): shown in either mode's log.
        sa.Column("livemode", sa.Boolean),
        # user, api_key, admin, or anonymous (a failed sign-in).
        sa.Column("actor_type", sa.String(16), nullable=False),
        # The user's id or the key's id; empty for admin and anonymous.
        sa.Column("actor_id", sa.String(32), nullable=False, server_default=""),
        # How a person recognises the actor: the user's e-mail, the key's prefix.
        sa.Column("actor_label", sa.String(254), nullable=False, server_default=""),
        # Such as api_key.created, user.role_changed, session.sign_in_failed.
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("target_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("client_address", sa.String(64), nullable=False, server_default=""),
        sa.Column("correlation_id", sa.String(128), nullable=False, server_default=""),
        # What changed, never a secret (a role, a name, a routing version).
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("audit_log_merchant_page", "audit_log", ["merchant_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("sign_in_failures")
    op.drop_table("refresh_tokens")
    op.drop_table("user_sessions")
    op.drop_table("users")
