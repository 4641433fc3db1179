"""Reads orders of one merchant (core.views turns them into API messages)."""

from __future__ import annotations

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import models
from edge.page_tokens import Cursor


async def get_order(session: AsyncSession, merchant_id: str, order_id: str) -> models.Order | None:
    # Scoped by merchant: another merchant's order looks exactly like a missing one.
    return (await session.execute(
        select(models.Order).where(models.Order.id == order_id,
                                   models.Order.merchant_id == merchant_id)
    )).scalar_one_or_none()


async def list_orders(session: AsyncSession, merchant_id: str, status: str | None,
                      after: Cursor | None, limit: int) -> list[models.Order]:
    query = select(models.Order).where(models.Order.merchant_id == merchant_id)
    if status:
        query = query.where(models.Order.status == status)
    if after is not None:
        query = query.where(tuple_(models.Order.created_at, models.Order.id)
                            < tuple_(after.created_at, after.order_id))
    query = query.order_by(models.Order.created_at.desc(), models.Order.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
