"""Purging shared caches after publishes (api.md "Shared caches and CDNs").

Two background tasks run in every service process:

- ``GenerationReporter`` records, in ``service_process``, the publish generation this process
  answers from: after each catalog refresh (a publish here, a NOTIFY, the poll), once no answer
  asked for before it is still being built, and as a heartbeat every second.
- ``PurgeWorker`` sends each cache in ``CODELISTS_PURGE_URLS`` ``PURGE /`` with
  ``Surrogate-Key: list:<key> ... index`` for every publish in the outbox it has not taken,
  retried with exponential back-off while the cache is unreachable.

The race this closes: a cache purged right after a commit refetches from any process; a process
that has not yet learnt of the publish would hand it the previous answer, which the cache would
then keep for ``s-maxage``. So a purge is sent only once every live process has reported the
new generation (or, for a process that stopped reporting, once it counts as gone, after
``ALIVE_SECONDS``). Every process learns of a publish within milliseconds through NOTIFY (or
the poll), so this costs a few milliseconds, not the second the contract allows. Waiting is
cheaper than repeating purges and, unlike a repeat, never lets a cache hold the old answer
even for a moment after the purge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.surrogate_keys import KEYS_BUDGET
from app.http.fastpath import AnswerCache
from app.reads.catalog import Catalog
from app.store import purges
from app.store.purges import PendingPurges
from app.workers.outage import Outage
from app.workers.stopping import Stopping

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
ALIVE_SECONDS = 3.0  # a process silent this long no longer holds purges back
MAX_RETRY_SECONDS = 5.0
LEASE = timedelta(seconds=30)
HEADER_BUDGET = KEYS_BUDGET  # bytes of keys per request: well inside any cache's header limit
_ACK_POLL_SECONDS = 0.01
_DRAIN_LIMIT_SECONDS = 5.0
_IDLE_SECONDS = 1.0


def _utcnow() -> datetime:
    # Leases and heartbeats use the real time, never the service's (test-shifted) clock.
    return datetime.now(UTC)


def key_headers(keys: Sequence[str], budget: int = HEADER_BUDGET) -> list[str]:
    """``keys`` as space-separated header values of at most ``budget`` bytes each."""
    headers: list[str] = []
    current: list[str] = []
    size = 0
    for key in keys:
        if current and size + 1 + len(key) > budget:
            headers.append(" ".join(current))
            current, size = [], 0
        size += len(key) + (1 if current else 0)
        current.append(key)
    if current:
        headers.append(" ".join(current))
    return headers


def retry_delay(attempts: int, first: float) -> float:
    """Seconds before the next try after ``attempts`` failures: doubling up to 5 s, jittered."""
    step = min(MAX_RETRY_SECONDS, first * 2.0 ** max(0, attempts - 1))
    return step / 2 + random.uniform(0, step / 2)


class GenerationReporter:
    """Tells the other processes which publish this process's answers come from."""

    def __init__(self, engine: AsyncEngine, catalog: Catalog, answers: AnswerCache) -> None:
        self.engine = engine
        self.catalog = catalog
        self.answers = answers
        self.process = str(uuid.uuid4())
        self.outage = Outage("database for reporting this process's publish generation")

    async def run(self, stopping: Stopping) -> None:
        """Report after every publish, and every second, until ``stopping`` is requested;
        then say this process is gone, so purges no longer wait for it."""
        try:
            while not stopping.requested:
                published = self.catalog.next_publish()
                try:
                    await self.report()
                except Exception as exc:  # noqa: BLE001 - logged once per outage, retried
                    self.outage.started(exc)
                else:
                    self.outage.ended()
                await stopping.pause(HEARTBEAT_SECONDS, published)
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2), self.engine.begin() as connection:
                    await purges.forget_process(connection, self.process)

    async def report(self) -> None:
        generation = self.catalog.generation
        # An answer asked for before the publish and still being built would leave this
        # process after the purge: wait for those (bounded, in case a build hangs).
        waited = 0.0
        while self.answers.building_before(generation) and waited < _DRAIN_LIMIT_SECONDS:
            await asyncio.sleep(_ACK_POLL_SECONDS)
            waited += _ACK_POLL_SECONDS
        async with self.engine.begin() as connection:
            await purges.report_generation(connection, self.process, generation, _utcnow())


class PurgeWorker:
    """Sends every cache the purges of the outbox, one process per cache at a time."""

    def __init__(
        self,
        engine: AsyncEngine,
        catalog: Catalog,
        *,
        urls: Sequence[str],
        retry_seconds: float,
    ) -> None:
        """``urls``: the caches (CODELISTS_PURGE_URLS); ``retry_seconds``: the first retry
        delay of a purge a cache did not take (CODELISTS_PURGE_RETRY_SECONDS), doubling."""
        self.engine = engine
        self.catalog = catalog
        self.retry_seconds = retry_seconds
        self.urls = list(dict.fromkeys(url.rstrip("/") for url in urls))
        self.outage = Outage("database for purging shared caches")
        self.unreachable = {url: Outage(f"shared cache {url}") for url in self.urls}

    async def run(self, stopping: Stopping) -> None:
        """Send purges as publishes need them until ``stopping`` is requested; what is not
        sent by then stays in the outbox for the other processes, or the next start."""
        if not self.urls:
            return
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
            pruned_at = 0.0
            cursors_made = False
            while not stopping.requested:
                published = self.catalog.next_publish()
                pause = _IDLE_SECONDS
                try:
                    if not cursors_made:
                        now = _utcnow()
                        async with self.engine.begin() as connection:
                            for url in self.urls:
                                await purges.ensure_cursor(connection, url, now)
                        cursors_made = True
                    await asyncio.gather(*(self.purge_cache(client, url) for url in self.urls))
                    pause = await self._seconds_until_due()
                    loop_time = asyncio.get_running_loop().time()
                    if loop_time - pruned_at > 3600:
                        pruned_at = loop_time
                        async with self.engine.begin() as connection:
                            await purges.prune(connection, _utcnow())
                    self.outage.ended()
                except Exception as exc:  # noqa: BLE001 - logged once per outage, retried
                    self.outage.started(exc)
                await stopping.pause(pause, published)

    async def _seconds_until_due(self) -> float:
        async with self.engine.connect() as connection:
            due = await purges.next_due(connection, self.urls)
        if due is None:
            return _IDLE_SECONDS
        return min(_IDLE_SECONDS, max(0.01, (due - _utcnow()).total_seconds()))

    async def purge_cache(self, client: httpx.AsyncClient, url: str) -> bool:
        """Send ``url`` what it has not taken yet; False when nothing was due."""
        async with self.engine.begin() as connection:
            pending = await purges.claim(connection, url, _utcnow(), LEASE)
        if pending is None:
            return False
        await self._wait_for_processes(pending.generation)
        error = await self._send(client, url, pending)
        if error is not None:
            self.unreachable[url].started(RuntimeError(error))
        else:
            self.unreachable[url].ended()
        now = _utcnow()
        retry_at = now + timedelta(seconds=retry_delay(pending.attempts + 1, self.retry_seconds))
        async with self.engine.begin() as connection:
            await purges.finish(connection, url, pending, error=error, retry_at=retry_at)
        return True

    async def _wait_for_processes(self, generation: int) -> None:
        """Until every live service process answers from ``generation`` or later."""
        deadline = asyncio.get_running_loop().time() + ALIVE_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            async with self.engine.connect() as connection:
                alive_since = _utcnow() - timedelta(seconds=ALIVE_SECONDS)
                behind = await purges.processes_behind(connection, generation, alive_since)
            if not behind:
                return
            await asyncio.sleep(_ACK_POLL_SECONDS)
        log.warning("purging although a service process has not reported publish %d", generation)

    async def _send(
        self, client: httpx.AsyncClient, url: str, pending: PendingPurges
    ) -> str | None:
        """Send the purges; the error to record, or None when the cache took them all."""
        for header in key_headers(pending.keys):
            try:
                response = await client.request(
                    "PURGE", url + "/", headers={"Surrogate-Key": header}
                )
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
            if not response.is_success:
                return f"HTTP {response.status_code}"
        return None
