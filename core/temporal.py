"""Connecting to Temporal, which may still be starting (payloops dev starts everything together).

Every client of the platform is made here, so every one (and every worker, which uses its
client's converter) encrypts and decrypts payloads and headers with the configured keys
(core.payload_codec)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.runtime import Runtime

from core.config import Settings
from core.payload_codec import PayloadEncryption


async def connect(
    settings: Settings,
    attempts: int = 100,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
) -> Client:
    encryption = PayloadEncryption(settings.temporal_codec_keys)
    for attempt in range(attempts):
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                interceptors=interceptors,
                plugins=[encryption],
                runtime=runtime,
            )
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")
