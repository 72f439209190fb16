"""The composition root: the service's parts, made once per process from the settings.

Only the entry points (``app.server.app``, the command line, tests) import this module. The
parts reach the controllers as litestar dependencies under the names in ``dependencies()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.auth import Authenticator
from app.domain.clock import Clock
from app.domain.review import ReviewPolicy
from app.http.conditional import CachePolicy
from app.http.fastpath import AnswerCache
from app.identity.access_tokens import AccessTokens
from app.identity.identity import Identity
from app.identity.metadata import ProtectedResourceMetadata, protected_resource
from app.reads.answers import Reads
from app.reads.catalog import Catalog
from app.server.settings import Settings
from app.store.database import create_engine
from app.store.secrets import SecretBox
from app.workers.denials import DeniedAccessLog
from app.workers.listener import listen_for_publishes
from app.workers.outage import Outage
from app.workers.purge import GenerationReporter, PurgeWorker
from app.workers.scheduler import Scheduler
from app.workers.stopping import Stopping
from app.workers.webhooks import MAX_POLL_BACK_OFF, DeliveryPolicy, DeliveryWorker

log = logging.getLogger(__name__)
# A background loop busy this long after the request to stop (a webhook receiver that does
# not answer, a cache that does not take its purge) is cancelled; its work is retried later.
STOP_GRACE_SECONDS = 5.0


@dataclass
class Services:
    """Every long-lived part of one service process, and its background work."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    catalog: Catalog
    reads: Reads
    answers: AnswerCache
    auth: Authenticator
    identity: Identity
    secrets: SecretBox
    denials: DeniedAccessLog
    review: ReviewPolicy
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: Stopping = field(default_factory=Stopping)

    @classmethod
    def create(
        cls, settings: Settings, *, clock: Clock | None = None, engine: AsyncEngine | None = None
    ) -> Services:
        clock = clock or Clock(settings.zone(), timedelta(seconds=settings.clock_offset_seconds))
        engine = engine or create_engine(settings.database_url)
        budget = settings.cache_mb * 1024 * 1024
        # Most of the budget for encoded answers, the rest for decoded list versions.
        catalog = Catalog(engine, max_bytes=budget // 4)
        answers = AnswerCache(
            max_bytes=budget - budget // 4,
            generation=lambda: catalog.generation,
            clock=clock,
            policy=CachePolicy(
                max_age=settings.max_age,
                shared_max_age=settings.shared_max_age,
                public=settings.public_read,
            ),
        )
        denials = DeniedAccessLog(engine, clock)
        identity = Identity(engine, clock, _access_tokens(settings))
        return cls(
            settings=settings,
            clock=clock,
            engine=engine,
            catalog=catalog,
            reads=Reads(catalog, clock),
            answers=answers,
            auth=Authenticator(identity, denials, public_read=settings.public_read),
            identity=identity,
            secrets=SecretBox(settings.secret_key, settings.secret_key_file),
            denials=denials,
            review=ReviewPolicy(require_approval=settings.require_approval),
        )

    def dependencies(self) -> dict[str, Any]:
        """The parts controllers may ask for, by parameter name (litestar ``Provide``)."""
        parts: dict[str, object] = {
            "settings": self.settings,
            "clock": self.clock,
            "engine": self.engine,
            "catalog": self.catalog,
            "reads": self.reads,
            "answers": self.answers,
            "secrets": self.secrets,
            "review": self.review,
            "webhook_networks": self.settings.allowed_networks(),
            "resource_metadata": self.resource_metadata(),
            "issuers": self.settings.issuers(),
        }
        return {
            name: Provide(_constant(part), use_cache=True, sync_to_thread=False)
            for name, part in parts.items()
        }

    def resource_metadata(self) -> ProtectedResourceMetadata | None:
        """The RFC 9728 document, or None without issuers; ``resource`` is
        CODELISTS_OAUTH_AUDIENCE, else the first issuer's audience."""
        issuers = self.settings.issuers()
        if not issuers:
            return None
        audience = self.settings.oauth_audience or issuers[0].audience
        return protected_resource(audience or "", issuers)

    async def start(self) -> None:
        await self.catalog.refresh()
        stopping = self._stopping
        self._tasks.append(asyncio.create_task(self._poll_for_publishes()))
        policy = DeliveryPolicy(
            retry_seconds=self.settings.webhook_retry_seconds,
            timeout_seconds=self.settings.webhook_timeout_seconds,
            poll_seconds=self.settings.poll_seconds,
            allowed_networks=self.settings.allowed_networks(),
        )
        worker = DeliveryWorker(self.engine, self.catalog, self.secrets, policy)
        self._tasks.append(asyncio.create_task(worker.run(stopping)))
        self._tasks.append(asyncio.create_task(self.denials.run(stopping)))
        every = self.settings.oauth_jwks_cache_seconds
        self._tasks.append(asyncio.create_task(self.identity.run(stopping, every)))
        scheduler = Scheduler(
            self.engine,
            self.clock,
            self.catalog.refresh,
            poll_seconds=self.settings.scheduler_seconds,
        )
        self._tasks.append(asyncio.create_task(scheduler.run(stopping)))
        if self.settings.purge_urls:
            # Every process reports its generation, so purges wait for all of them.
            reporter = GenerationReporter(self.engine, self.catalog, self.answers)
            self._tasks.append(asyncio.create_task(reporter.run(stopping)))
            purger = PurgeWorker(
                self.engine,
                self.catalog,
                urls=self.settings.purge_urls,
                retry_seconds=self.settings.purge_retry_seconds,
            )
            self._tasks.append(asyncio.create_task(purger.run(stopping)))
        if self.engine.dialect.name == "postgresql":
            self._tasks.append(
                asyncio.create_task(
                    listen_for_publishes(self.engine.url, self.catalog.refresh, stopping)
                )
            )

    async def stop(self) -> None:
        await self.stop_background_work()
        if self.identity.access_tokens is not None:
            await self.identity.access_tokens.client.aclose()
        await self.engine.dispose()

    async def stop_background_work(self) -> None:
        """Stop polling, listening and delivering (the app still answers requests).

        Every loop is asked to stop and ends at its next wait (``app.workers.stopping``);
        one still busy after ``STOP_GRACE_SECONDS`` is cancelled. Background writes that
        requests started (a token's last use) are awaited too.
        """
        self._stopping.request()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            if late:
                _, stuck = await asyncio.wait(late, timeout=10)
                for task in stuck:
                    log.error("background task did not stop: %r", task)
        self._tasks.clear()
        await self.identity.settle()

    async def _poll_for_publishes(self) -> None:
        """Notice publishes by other processes (the CLI, other replicas)."""
        outage = Outage("database for publish checks")
        pause = self.settings.poll_seconds
        while True:
            await self._stopping.pause(pause)
            if self._stopping.requested:
                return
            try:
                await self.catalog.refresh()
            except Exception as exc:  # noqa: BLE001 - logged once per outage, retried
                outage.started(exc)
                pause = min(MAX_POLL_BACK_OFF, pause * 2)
            else:
                outage.ended()
                pause = self.settings.poll_seconds


def _access_tokens(settings: Settings) -> AccessTokens | None:
    """The verifier of JWT access tokens, when issuers are configured."""
    issuers = settings.issuers()
    if not issuers:
        return None
    client = httpx.AsyncClient(
        timeout=settings.oauth_timeout_seconds, follow_redirects=False, trust_env=False
    )
    return AccessTokens(
        issuers,
        client,
        cache_seconds=settings.oauth_jwks_cache_seconds,
        cooldown_seconds=settings.oauth_jwks_cooldown_seconds,
    )


def _constant(part: object) -> Callable[[], object]:
    def provide() -> object:
        return part

    return provide
