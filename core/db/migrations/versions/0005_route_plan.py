"""The route a payment was given, kept with its order: routing decides once per payment, and a
routing step run again (its worker died before Temporal kept the answer) gives back this one.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("route_plan", postgresql.JSONB))


def downgrade() -> None:
    op.drop_column("orders", "route_plan")
