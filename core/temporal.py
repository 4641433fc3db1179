"""Connecting to Temporal, which may still be starting (payloops dev starts everything together)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.client import Client, Interceptor

from core.config import Settings


async def connect(
    settings: Settings, attempts: int = 100, interceptors: Sequence[Interceptor] = ()
) -> Client:
    for attempt in range(attempts):
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                interceptors=interceptors,
            )
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")
