"""Payment analytics from an hourly rollup (edge/analytics_rollup.py): reading a 30-day window
of a busy merchant's orders one by one took seconds (docs/benchmarks.md); its hours, summed
once, take milliseconds.

- `order_figures_hourly`: per merchant, mode, UTC hour, grouping (`dimension`: '' for none,
  or processor, status, failure_code), the grouping's value and currency: the counts and
  amounts, exact.
- `order_latency_hourly`: the same per grouping without the currency, a sparse histogram of
  the orders' payment latency (log-spaced buckets), for the percentiles.
- `order_figures_dirty`: which hours a change of an order made stale. A trigger on orders
  appends to it, in the writer's transaction; it has no unique key, so two payments of one
  merchant in one hour never wait for each other.

Today's data: the rollup is computed from every existing order, here.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_KEY = ("merchant_id", "livemode", "dimension", "hour", "value")

# The orders' columns whose change moves an order to another hour or group, or changes what
# it adds to one.
_FIGURE_COLUMNS = (
    "merchant_id",
    "livemode",
    "created_at",
    "status",
    "amount",
    "currency",
    "decided_processor",
    "failure_code",
    "payment_latency_ms",
    "failed_over",
)

_TOUCHED = """
create function order_figures_touched() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        insert into order_figures_dirty (merchant_id, livemode, hour)
        values (old.merchant_id, old.livemode, date_trunc('hour', old.created_at, 'UTC'));
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and (
        old.merchant_id, old.livemode, date_trunc('hour', old.created_at, 'UTC')
    ) is distinct from (
        new.merchant_id, new.livemode, date_trunc('hour', new.created_at, 'UTC')
    )) then
        insert into order_figures_dirty (merchant_id, livemode, hour)
        values (new.merchant_id, new.livemode, date_trunc('hour', new.created_at, 'UTC'));
    end if;
    return null;
end
$$
"""

# The grouping an aggregate row belongs to, from GROUPING SETS' grouping().
_DIMENSION = """
case when grouping(o.decided_processor) = 0 then 'processor'
     when grouping(upper(o.status)) = 0 then 'status'
     when grouping(o.failure_code) = 0 then 'failure_code'
     when grouping(o.currency) = 0 and {histogram} then 'currency'
     else '' end
"""
_VALUE = """
case when grouping(o.decided_processor) = 0 then o.decided_processor
     when grouping(upper(o.status)) = 0 then upper(o.status)
     when grouping(o.failure_code) = 0 then o.failure_code
     when grouping(o.currency) = 0 and {histogram} then o.currency
     else '' end
"""
_AUTHORIZED = "o.status in ('succeeded', 'requires_capture')"
_BACKFILL_FIGURES = f"""
insert into order_figures_hourly (merchant_id, livemode, dimension, hour, value, currency,
                                  total, authorized, failed, failovers, amount,
                                  authorized_amount, failover_amount)
select o.merchant_id, o.livemode, {_DIMENSION.format(histogram="false")},
       date_trunc('hour', o.created_at, 'UTC'), {_VALUE.format(histogram="false")}, o.currency,
       count(*), count(*) filter (where {_AUTHORIZED}),
       count(*) filter (where o.status = 'failed'),
       count(*) filter (where {_AUTHORIZED} and o.failed_over),
       sum(o.amount), coalesce(sum(o.amount) filter (where {_AUTHORIZED}), 0),
       coalesce(sum(o.amount) filter (where {_AUTHORIZED} and o.failed_over), 0)
from orders o
group by o.merchant_id, o.livemode, date_trunc('hour', o.created_at, 'UTC'), o.currency,
         grouping sets ((), (o.decided_processor), (upper(o.status)), (o.failure_code))
"""
_BACKFILL_LATENCY = f"""
insert into order_latency_hourly (merchant_id, livemode, dimension, hour, value, buckets,
                                  counts)
select merchant_id, livemode, dimension, hour, value,
       array_agg(bucket order by bucket), array_agg(n order by bucket)
from (
    select o.merchant_id, o.livemode, date_trunc('hour', o.created_at, 'UTC') as hour,
           {_DIMENSION.format(histogram="true")} as dimension,
           {_VALUE.format(histogram="true")} as value,
           floor(ln(o.payment_latency_ms + 1) / ln(1.05))::int as bucket, count(*) as n
    from orders o
    where o.payment_latency_ms is not null
    group by o.merchant_id, o.livemode, date_trunc('hour', o.created_at, 'UTC'),
             floor(ln(o.payment_latency_ms + 1) / ln(1.05))::int,
             grouping sets ((), (o.decided_processor), (o.currency), (upper(o.status)),
                            (o.failure_code))
) per_bucket
group by merchant_id, livemode, dimension, hour, value
"""


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("merchant_id", sa.String(32), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "order_figures_hourly",
        *_key_columns(),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("authorized", sa.BigInteger, nullable=False),
        sa.Column("failed", sa.BigInteger, nullable=False),
        sa.Column("failovers", sa.BigInteger, nullable=False),
        # Sums of bigint amounts: numeric, so no hour of any merchant can overflow them.
        sa.Column("amount", sa.Numeric, nullable=False),
        sa.Column("authorized_amount", sa.Numeric, nullable=False),
        sa.Column("failover_amount", sa.Numeric, nullable=False),
        sa.PrimaryKeyConstraint(*_KEY, "currency", name="order_figures_hourly_pkey"),
    )
    op.create_table(
        "order_latency_hourly",
        *_key_columns(),
        # Parallel arrays, ascending buckets: one row per hour and group, however many buckets.
        sa.Column("buckets", sa.ARRAY(sa.Integer), nullable=False),
        sa.Column("counts", sa.ARRAY(sa.BigInteger), nullable=False),
        sa.PrimaryKeyConstraint(*_KEY, name="order_latency_hourly_pkey"),
    )
    op.create_table(
        "order_figures_dirty",
        sa.Column("merchant_id", sa.String(32), nullable=False),
        sa.Column("livemode", sa.Boolean, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "order_figures_dirty_merchant", "order_figures_dirty", ["merchant_id", "livemode"]
    )
    op.execute(_TOUCHED)
    changed = " or ".join(
        f"old.{column} is distinct from new.{column}" for column in _FIGURE_COLUMNS
    )
    op.execute(
        "create trigger orders_figures_inserted after insert on orders "
        "for each row execute function order_figures_touched()"
    )
    op.execute(
        "create trigger orders_figures_updated after update on orders "
        f"for each row when ({changed}) execute function order_figures_touched()"
    )
    op.execute(
        "create trigger orders_figures_deleted after delete on orders "
        "for each row execute function order_figures_touched()"
    )
    op.execute(_BACKFILL_FIGURES)
    op.execute(_BACKFILL_LATENCY)


def downgrade() -> None:
    for trigger in ("orders_figures_deleted", "orders_figures_updated", "orders_figures_inserted"):
        op.execute(f"drop trigger {trigger} on orders")
    op.execute("drop function order_figures_touched()")
    op.drop_table("order_figures_dirty")
    op.drop_table("order_latency_hourly")
    op.drop_table("order_figures_hourly")
