"""Scheduled publication: every service process looks for due change sets and publishes them.

Each process asks the database for the earliest ``publish_at`` of a scheduled change set, sleeps
until then (at most ``poll_seconds``, so a change set scheduled elsewhere, or a clock moved by a
test, is noticed soon), and publishes what is due. ``app.store.review.publish_due`` makes the
claim: under the publish lock and only while the change set is still ``scheduled``, so however
many processes wake at the same moment exactly one publishes each (api.md "Review, approval and
scheduling": within 5 seconds of its time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.clock import Clock
from app.store import changesets
from app.store.review import publish_due
from app.workers.outage import Outage
from app.workers.stopping import Stopping

_MIN_SLEEP = 0.05


class Scheduler:
    """Publishes due change sets in this process; ``on_published`` is told after each batch."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        on_published: Callable[[], Awaitable[Any]],
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.on_published = on_published
        self.poll_seconds = poll_seconds

    async def run(self, stopping: Stopping) -> None:
        """Run until ``stopping`` is requested; a database outage is logged once when it
        starts and once when it ends (``Outage``), and retried with back-off up to 30 s."""
        outage = Outage("database for scheduled publication")
        failures = 0
        while not stopping.requested:
            try:
                await self.run_once()
                delay = await self._until_next()
                outage.ended()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged once per outage, retried
                outage.started(exc)
                failures += 1
                delay = min(30.0, self.poll_seconds * 2.0**failures)
            await stopping.pause(delay)

    async def run_once(self) -> int:
        """Publish (or fail) what is due now; the number of change sets handled."""
        handled = await publish_due(self.engine, self.clock.now())
        if any(record.status == "published" for record in handled):
            await self.on_published()
        return len(handled)

    async def _until_next(self) -> float:
        async with self.engine.connect() as connection:
            moment = await changesets.next_due(connection)
        if moment is None:
            return self.poll_seconds
        wait = (moment - self.clock.now()).total_seconds()
        return min(max(wait, _MIN_SLEEP), self.poll_seconds)
