"""Test and live are walls: refunds carry their order's mode, idempotency keys and routing
configurations are kept per (merchant, mode), and the list indexes lead with the mode.

Today's data:
- a refund takes its order's mode;
- an idempotency key stays usable in the mode it was used in, which the stored response tells
  (the order or webhook endpoint it returned, the order of the refund it returned). A key whose
  stored answer names no object (a stored error, a claim still in progress) goes to test mode:
  until now a live key could only be made by hand in the database, so test is where nearly
  every key was used;
- every version of a merchant's routing configuration is kept for test mode and copied, with
  the same version numbers, to live mode: live payments so far were routed by that one
  configuration, and keep being routed exactly as before until the merchant changes it (the
  orders already paid keep pointing at the version that routed them, in either mode).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from google.protobuf.message import DecodeError

from payloops.v1 import orders_pb2, refunds_pb2, webhooks_pb2

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()

    op.add_column("refunds", sa.Column("livemode", sa.Boolean))
    op.execute(
        "update refunds set livemode = orders.livemode from orders "
        "where orders.id = refunds.order_id"
    )
    op.alter_column("refunds", "livemode", nullable=False)

    op.add_column(
        "routing_configs",
        sa.Column("livemode", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.alter_column("routing_configs", "livemode", server_default=None)
    op.drop_constraint("routing_configs_pkey", "routing_configs", type_="primary")
    op.create_primary_key(
        "routing_configs_pkey", "routing_configs", ["merchant_id", "livemode", "version"]
    )
    op.execute(
        "insert into routing_configs (merchant_id, livemode, version, config, created_at) "
        "select merchant_id, true, version, config, created_at from routing_configs"
    )

    op.add_column(
        "idempotency_keys",
        sa.Column("livemode", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.alter_column("idempotency_keys", "livemode", server_default=None)
    _mark_live_idempotency_keys(connection)
    op.drop_constraint("idempotency_keys_pkey", "idempotency_keys", type_="primary")
    op.create_primary_key(
        "idempotency_keys_pkey", "idempotency_keys", ["merchant_id", "livemode", "key"]
    )

    for table in ("orders", "events"):
        op.drop_index(f"{table}_merchant_page", table_name=table)
        op.create_index(
            f"{table}_merchant_page", table, ["merchant_id", "livemode", "created_at", "id"]
        )


def downgrade() -> None:
    # One namespace again: the live copies go (their test twins stay).
    for table in ("orders", "events"):
        op.drop_index(f"{table}_merchant_page", table_name=table)
        op.create_index(f"{table}_merchant_page", table, ["merchant_id", "created_at", "id"])
    op.execute("delete from idempotency_keys where livemode")
    op.drop_constraint("idempotency_keys_pkey", "idempotency_keys", type_="primary")
    op.create_primary_key("idempotency_keys_pkey", "idempotency_keys", ["merchant_id", "key"])
    op.drop_column("idempotency_keys", "livemode")
    op.execute("delete from routing_configs where livemode")
    op.drop_constraint("routing_configs_pkey", "routing_configs", type_="primary")
    op.create_primary_key("routing_configs_pkey", "routing_configs", ["merchant_id", "version"])
    op.drop_column("routing_configs", "livemode")
    op.drop_column("refunds", "livemode")


def _order_mode(body: bytes, connection: sa.Connection) -> bool | None:
    return orders_pb2.Order.FromString(body).livemode


def _refund_mode(body: bytes, connection: sa.Connection) -> bool | None:
    refund_id = refunds_pb2.Refund.FromString(body).id
    found = connection.scalar(
        sa.text("select livemode from refunds where id = :id"), {"id": refund_id}
    )
    return None if found is None else bool(found)


def _endpoint_mode(body: bytes, connection: sa.Connection) -> bool | None:
    return webhooks_pb2.WebhookEndpoint.FromString(body).livemode


# What each idempotent call stored as its answer, and how to read that answer's mode.
_MODE_OF_ANSWER: dict[str, Callable[[bytes, sa.Connection], bool | None]] = {
    "CreateOrder": _order_mode,
    "PayOrder": _order_mode,
    "CaptureOrder": _order_mode,
    "CancelOrder": _order_mode,
    "CreateRefund": _refund_mode,
    "CreateWebhookEndpoint": _endpoint_mode,
}


def _mark_live_idempotency_keys(connection: sa.Connection) -> None:
    answered = connection.execute(
        sa.text(
            "select merchant_id, key, method, response from idempotency_keys "
            "where state = 'done' and response_code = 0"
        )
    ).all()
    live = []
    for merchant_id, key, method, response in answered:
        read_mode = _MODE_OF_ANSWER.get(method)
        if read_mode is None:
            continue
        try:
            mode = read_mode(bytes(response), connection)
        except DecodeError:
            continue
        if mode:
            live.append({"merchant_id": merchant_id, "key": key})
    if live:
        connection.execute(
            sa.text(
                "update idempotency_keys set livemode = true "
                "where merchant_id = :merchant_id and key = :key"
            ),
            live,
        )
