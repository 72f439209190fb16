"""The service's parts, made once per process from the settings and shared by every request."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.auth import Authenticator
from app.catalog import Catalog
from app.clock import Clock
from app.config import Settings
from app.http.fastpath import AnswerCache
from app.reads import Reads
from app.store.database import create_engine
from app.sync.listener import listen_for_publishes
from app.sync.secrets import SecretBox
from app.sync.webhooks import DeliveryWorker
from app.workers.denials import DeniedAccessLog
from app.workers.scheduler import Scheduler

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    catalog: Catalog
    reads: Reads
    answers: AnswerCache
    auth: Authenticator
    secrets: SecretBox
    denials: DeniedAccessLog
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def create(
        cls, settings: Settings, *, clock: Clock | None = None, engine: AsyncEngine | None = None
    ) -> Services:
        clock = clock or Clock(settings.zone())
        engine = engine or create_engine(settings.database_url)
        budget = settings.cache_mb * 1024 * 1024
        # Most of the budget for encoded answers, the rest for decoded list versions.
        catalog = Catalog(engine, max_bytes=budget // 4)
        answers = AnswerCache(
            max_bytes=budget - budget // 4,
            generation=lambda: catalog.generation,
            clock=clock,
            max_age=settings.max_age,
        )
        denials = DeniedAccessLog(engine, clock)
        return cls(
            settings=settings,
            clock=clock,
            engine=engine,
            catalog=catalog,
            reads=Reads(catalog, clock),
            answers=answers,
            auth=Authenticator(engine, clock, denials),
            secrets=SecretBox(settings),
            denials=denials,
        )

    async def start(self) -> None:
        await self.catalog.refresh()
        self._tasks.append(asyncio.create_task(self._poll_for_publishes()))
        worker = DeliveryWorker(self.engine, self.catalog, self.secrets, self.settings)
        self._tasks.append(asyncio.create_task(worker.run()))
        self._tasks.append(asyncio.create_task(self.denials.run()))
        scheduler = Scheduler(
            self.engine,
            self.clock,
            self.catalog.refresh,
            poll_seconds=self.settings.scheduler_seconds,
        )
        self._tasks.append(asyncio.create_task(scheduler.run()))
        if self.engine.dialect.name == "postgresql":
            self._tasks.append(
                asyncio.create_task(listen_for_publishes(self.engine.url, self.catalog.refresh))
            )

    async def stop(self) -> None:
        await self.stop_background_work()
        await self.engine.dispose()

    async def stop_background_work(self) -> None:
        """Stop polling, listening and delivering (the app still answers requests)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:
                log.error("background task did not stop: %r", task)
        self._tasks.clear()

    async def _poll_for_publishes(self) -> None:
        """Notice publishes by other processes (the CLI, other replicas)."""
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            try:
                await self.catalog.refresh()
            except Exception:
                log.exception("could not check for new publishes; will retry")
