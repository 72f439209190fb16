"""Stopping a service process's background work between steps (app.workers.stopping): a step
under way when the stop is asked runs to its end on the database, a step that does not end is
cancelled after the grace period, and a request's background write is not lost. On both
databases."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from app.server import wiring
from app.store.tables import api_token
from app.workers.stopping import Stopping
from tests.conftest import FixedClock, app_client


async def test_a_pause_ends_at_the_first_of_its_time_a_wake_event_or_the_stop() -> None:
    loop = asyncio.get_running_loop()
    stopping, wake = Stopping(), asyncio.Event()
    before = asyncio.all_tasks()
    await stopping.pause(0.01)  # its time: no TimeoutError
    loop.call_later(0.05, wake.set)
    await asyncio.wait_for(stopping.pause(60, wake), timeout=10)
    assert not stopping.requested
    loop.call_later(0.05, stopping.request)
    await asyncio.wait_for(stopping.pause(60, asyncio.Event()), timeout=10)
    assert stopping.requested
    await asyncio.wait_for(stopping.pause(60), timeout=10)  # once asked, at once
    await asyncio.sleep(0)  # let the cancelled waiters finish
    assert asyncio.all_tasks() == before, "a pause left a waiter behind"


async def test_a_step_under_way_when_the_stop_is_asked_runs_to_its_end(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    steps: list[str] = []
    under_way = asyncio.Event()

    async with app_client(seeded, clock, poll_seconds=0.01) as client:
        services = client.services
        refresh = services.catalog.refresh

        async def slow_refresh() -> bool:
            # A poll that holds a database connection across a stop request.
            steps.append("started")
            under_way.set()
            try:
                async with services.engine.connect() as connection:
                    await asyncio.sleep(0.3)
                    await connection.execute(sa.text("SELECT 1"))
                changed = await refresh()
            except asyncio.CancelledError:
                steps.append("cancelled")
                raise
            steps.append("ended")
            return changed

        services.catalog.refresh = slow_refresh  # type: ignore[method-assign]
        await asyncio.wait_for(under_way.wait(), timeout=10)
        await services.stop_background_work()

    assert steps == ["started", "ended"]


async def test_a_step_that_does_not_end_is_cancelled_after_the_grace_period(
    seeded: AsyncEngine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wiring, "STOP_GRACE_SECONDS", 0.2)
    steps: list[str] = []
    under_way = asyncio.Event()

    async with app_client(seeded, clock, poll_seconds=0.01) as client:
        services = client.services

        async def hanging_refresh() -> bool:
            steps.append("started")
            under_way.set()
            try:
                await asyncio.Event().wait()  # a step that never ends by itself
            except asyncio.CancelledError:
                steps.append("cancelled")
                raise
            return False

        services.catalog.refresh = hanging_refresh  # type: ignore[method-assign]
        await asyncio.wait_for(under_way.wait(), timeout=10)
        await asyncio.wait_for(services.stop_background_work(), timeout=15)

    assert steps == ["started", "cancelled"]


async def test_the_stop_waits_for_the_last_use_of_a_token_to_be_written(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    async with seeded.begin() as connection:
        token = await tokens.create(connection, name="ops", scopes=["admin"], now=clock.now())
    ops = api_token.c.name == "ops"
    async with app_client(seeded, clock) as client:
        services = client.services
        # Another transaction holds the token's row (a write lock on SQLite), so the
        # background write of its last use waits until this one ends.
        async with services.engine.connect() as holder:
            await holder.begin()
            await holder.execute(sa.update(api_token).where(ops).values(name="ops"))
            answer = await client.get(
                "/v1/admin/changesets", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200
            stopping = asyncio.create_task(services.stop())
            await asyncio.sleep(0.3)
            assert not stopping.done(), "the stop did not wait for the write under way"
            await holder.commit()
        await asyncio.wait_for(stopping, timeout=15)
        async with seeded.connect() as connection:
            used = await connection.scalar(sa.select(api_token.c.last_used_at).where(ops))
    assert isinstance(used, datetime)
