"""The processor_breaker_state gauge (core.metrics): each registered processor's circuit
breaker as the database keeps it, read by the worker every few seconds. The metrics reader
asks on its own thread and must not wait on the database, so it reads the last answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Observation
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import metrics
from core.contracts.vocabulary import BreakerState
from core.db import models

log = logging.getLogger("payloops.worker.breakers")

STATE_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
REFRESH_SECONDS = 5.0

# A processor without a breaker row has never failed: closed.
_STATES = select(models.Processor.name, models.ProcessorHealth.state).outerjoin(
    models.ProcessorHealth, models.ProcessorHealth.processor == models.Processor.name
)


class BreakerStates:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._states: dict[str, int] = {}
        metrics.breaker_gauge(self._observe)

    async def refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as error:  # the gauge keeps its last reading
                log.warning("breaker states not read: %s", type(error).__name__)
            await asyncio.sleep(REFRESH_SECONDS)

    async def refresh(self) -> None:
        async with self._sessions() as session:
            rows = (await session.execute(_STATES)).all()
        self._states = {
            name: STATE_VALUES[BreakerState(state or BreakerState.CLOSED)] for name, state in rows
        }

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, {"processor": name}) for name, value in self._states.items()]
