"""Reads orders of one merchant in one mode (core.contracts.views turns them into API messages)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    exists,
    literal_column,
    select,
    tuple_,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.db import models
from edge.auth import Caller
from edge.page_tokens import Cursor

# Built once: most requests run it (see orchestrator/activities/orders.py).
_ORDER_OF_CALLER = select(models.Order).where(
    models.Order.id == bindparam("order_id"),
    models.Order.merchant_id == bindparam("merchant_id"),
    models.Order.livemode == bindparam("livemode"),
)


async def get_order(session: AsyncSession, caller: Caller, order_id: str) -> models.Order | None:
    # Scoped by merchant and mode: another merchant's order, or one of the other mode, looks
    # exactly like a missing one.
    return (
        await session.execute(
            _ORDER_OF_CALLER,
            {"order_id": order_id, "merchant_id": caller.merchant_id, "livemode": caller.livemode},
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class OrderFilter:
    """ListOrders' filters; every one given must hold."""

    status: str | None = None
    processor: str = ""
    currency: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    metadata_key: str = ""
    metadata_value: str = ""
    # Minor units of `currency`; 0: no bound.
    amount_min: int = 0
    amount_max: int = 0
    failure_code: str = ""
    # An order id, an attempt's processor reference or a request's correlation id, exactly.
    query: str = ""

    def scope(self, caller: Caller) -> str:
        """What a page token is bound to: the next page must come from the same merchant and
        mode, with the same filters. JSON, not joined text: values are the caller's, and no
        two different filters may give the same scope."""
        return json.dumps(
            [
                caller.merchant_id,
                caller.livemode,
                self.status or "",
                self.processor,
                self.currency,
                self.created_after.isoformat() if self.created_after else "",
                self.created_before.isoformat() if self.created_before else "",
                self.metadata_key,
                self.metadata_value,
                self.amount_min,
                self.amount_max,
                self.failure_code,
                self.query,
            ],
            separators=(",", ":"),
        )


def _searched(query: str) -> Select[tuple[str]]:
    """The ids of the orders a search names, each branch by its own index (an OR across the
    tables would read every order of the merchant)."""
    order, attempt = models.Order, models.Attempt
    return union(
        select(order.id).where(order.id == query),
        *(
            select(order.id).where(*_partial_index_match(column, query))
            for column in (order.created_correlation_id, order.paid_correlation_id)
        ),
        select(attempt.order_id).where(*_partial_index_match(attempt.processor_reference, query)),
    )  # type: ignore[return-value]


# In the SQL text, not bound: the planner must see the constant to match the index predicate.
_EMPTY: ColumnElement[str] = literal_column("''")


def _partial_index_match(
    column: InstrumentedAttribute[str], value: str
) -> tuple[ColumnElement[bool], ...]:
    """`column = value`, with the predicate of the column's partial index (`<> ''`) said out
    loud: a prepared statement's generic plan cannot prove it from a bound value, and would
    read the whole table instead."""
    return (column == value, column != _EMPTY)


async def list_orders(
    session: AsyncSession, caller: Caller, wanted: OrderFilter, after: Cursor | None, limit: int
) -> list[models.Order]:
    """Newest first, by (created_at, id): a keyset, so orders created while a client pages
    land before its first page and never shift the pages it has not read yet."""
    return list((await session.execute(orders_query(caller, wanted, after, limit))).scalars())


def orders_query(
    caller: Caller, wanted: OrderFilter, after: Cursor | None, limit: int
) -> Select[models.Order]:
    order = models.Order
    query = select(order).where(
        order.merchant_id == caller.merchant_id, order.livemode == caller.livemode
    )
    if wanted.status:
        query = query.where(order.status == wanted.status)
    if wanted.currency:
        query = query.where(order.currency == wanted.currency.upper())
    if wanted.created_after is not None:
        query = query.where(order.created_at >= wanted.created_after)
    if wanted.created_before is not None:
        query = query.where(order.created_at < wanted.created_before)
    if wanted.processor:
        query = query.where(
            exists().where(
                models.Attempt.order_id == order.id, models.Attempt.processor == wanted.processor
            )
        )
    if wanted.metadata_key:
        query = query.where(
            order.metadata_.has_key(wanted.metadata_key)
            if not wanted.metadata_value
            else order.metadata_[wanted.metadata_key].astext == wanted.metadata_value
        )
    if wanted.amount_min:
        query = query.where(order.amount >= wanted.amount_min)
    if wanted.amount_max:
        query = query.where(order.amount <= wanted.amount_max)
    if wanted.failure_code:
        query = query.where(*_partial_index_match(order.failure_code, wanted.failure_code))
    if wanted.query:
        query = query.where(order.id.in_(_searched(wanted.query)))
    if after is not None:
        query = query.where(
            tuple_(order.created_at, order.id) < tuple_(after.created_at, after.order_id)
        )
    return query.order_by(order.created_at.desc(), order.id.desc()).limit(limit)
