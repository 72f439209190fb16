"""Database outages seen by the background work of a service process, on real PostgreSQL:
one log line when an outage starts and one when it ends, and publish notifications that come
back as soon as the connection does."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.documents import convert_document
from app.server.settings import Settings
from app.server.wiring import Services
from app.store.publish import submit
from tests.conftest import POSTGRES_ADMIN, FixedClock
from tests.proxy import Proxy

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _rename(changeset_id: str, name: str) -> object:
    return convert_document(
        {
            "id": changeset_id,
            "reason": "test",
            "changes": [{"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": name}}],
        }
    )


async def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    seeded: AsyncEngine, database_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = Proxy()
    await proxy.restore()
    url = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    services = Services.create(
        Settings(database_url=url, poll_seconds=0.05, secret_key="k"), clock=clock
    )
    await services.start()
    try:
        caplog.set_level(logging.WARNING, logger="app")
        await asyncio.sleep(0.3)
        await proxy.cut()
        await asyncio.sleep(2.0)  # forty polls' worth of outage
        await proxy.restore()
        await asyncio.sleep(2.0)
    finally:
        await services.stop()
        await proxy.cut()
    ours = [r for r in caplog.records if r.name.startswith("app")]
    assert not [r for r in ours if r.exc_info], "no tracebacks during an outage"
    started = [r.getMessage() for r in ours if "unavailable" in r.getMessage()]
    ended = [r.getMessage() for r in ours if "available again after" in r.getMessage()]
    # Each background loop (publish checks, LISTEN, webhooks, the scheduler, ...) says it
    # once when the outage starts and once when it ends, however many times it retried.
    loops_started = [m.split(" unavailable")[0] for m in started]
    loops_ended = [m.split(" available again")[0] for m in ended]
    assert "database for publish checks" in loops_started
    assert len(loops_started) == len(set(loops_started))
    assert sorted(loops_started) == sorted(loops_ended)
    assert sum(len(r.getMessage()) for r in ours) < 4000


async def test_publish_notifications_resume_as_soon_as_the_connection_drops(
    seeded: AsyncEngine, database_url: str, clock: FixedClock
) -> None:
    # Polling every minute: only LISTEN/NOTIFY can make the catalog learn of the publish.
    services = Services.create(
        Settings(database_url=database_url, poll_seconds=60, secret_key="k"), clock=clock
    )
    await services.start()
    try:
        database = database_url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(POSTGRES_ADMIN)
        try:
            for _ in range(50):  # the listener connects in the background
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = $1 AND query LIKE 'LISTEN%'",
                    database,
                )
                if killed:
                    break
                await asyncio.sleep(0.1)
            assert killed == 1
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # the listener reconnects within its first back-off steps
        generation = services.catalog.generation
        learned = services.catalog.next_publish()
        await submit(seeded, _rename("after-drop", "Ny"), author="t", now=clock.now(), publish=True)
        async with asyncio.timeout(2.0):  # the keepalive would have taken 30 s
            await learned.wait()
        assert services.catalog.generation > generation
    finally:
        await services.stop()
