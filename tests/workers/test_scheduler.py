"""Scheduled publication with two processes' worth of services on one database and an injected
clock: exactly one publishes each due change set, in time; a set whose lists moved on fails and
writes nothing. On both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.database import create_engine
from app.store.review import publish_due
from app.store.tables import audit_log, list_version
from tests.api.conftest import bearer, token
from tests.api.test_admin import counts, rename
from tests.conftest import AppClient, FixedClock, app_client


@pytest.fixture
async def pair(
    seeded: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[AppClient, AppClient]]:
    """Two instances of the app, each with its own engine and background work, one database."""
    other = create_engine(seeded.url.render_as_string(hide_password=False))
    async with (
        app_client(seeded, clock, scheduler_seconds=0.2) as first,
        app_client(other, clock, scheduler_seconds=0.2) as second,
    ):
        yield first, second


async def _wait_for(client: AppClient, changeset_id: str, status: str, seconds: float) -> Any:
    started = time.monotonic()
    while True:
        body = (await client.get(f"/v1/admin/changesets/{changeset_id}")).json()
        if body["status"] == status:
            return body
        assert time.monotonic() - started < seconds, body
        await asyncio.sleep(0.05)


async def _versions(engine: AsyncEngine, changeset_id: str) -> int:
    async with engine.connect() as connection:
        query = sa.select(sa.func.count()).where(list_version.c.changeset_id == changeset_id)
        return int(await connection.scalar(query) or 0)


async def _actions(engine: AsyncEngine, target: str) -> list[tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(audit_log.c.actor, audit_log.c.action)
            .where(audit_log.c.target == target)
            .order_by(audit_log.c.seq)
        )
        return [(row.actor, row.action) for row in rows]


async def test_exactly_one_process_publishes_a_due_change_set_within_5_seconds(
    pair: tuple[AppClient, AppClient], seeded: AsyncEngine, clock: FixedClock
) -> None:
    first, second = pair
    admin = bearer(await token(seeded, clock, "anna", "admin"))
    first.headers.update(admin)
    second.headers.update(admin)
    document = {**rename("due"), "publish_at": (clock.now() + timedelta(hours=2)).isoformat()}
    created = await first.post("/v1/admin/changesets", json=document)
    assert created.json()["status"] == "scheduled"
    await asyncio.sleep(0.5)  # both schedulers look, and leave it alone: it is not due
    assert (await second.get("/v1/codelists/fravaer")).json()["version"] == 3

    clock.moment += timedelta(hours=2)
    body = await _wait_for(second, "due", "published", 5.0)
    assert body["versions"] == {"fravaer": 4}
    assert await _versions(seeded, "due") == 1
    assert await _actions(seeded, "changeset:due") == [
        ("anna", "changeset.submitted"),
        ("anna", "changeset.scheduled"),
        ("scheduler", "changeset.published"),
    ]
    for client in (first, second):  # both serve it (the other learns by NOTIFY or its poll)
        started = time.monotonic()
        while (await client.get("/v1/codelists/fravaer")).json()["version"] != 4:
            assert time.monotonic() - started < 2
            await asyncio.sleep(0.05)


async def test_many_processes_racing_for_the_same_change_sets_publish_each_once(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    async with app_client(seeded, clock) as client:
        client.headers.update(bearer(await token(seeded, clock, "anna", "admin")))
        at = (clock.now() + timedelta(minutes=1)).isoformat()
        for changeset_id, code in (("one", "9"), ("two", "10"), ("three", "11")):
            document = {**rename(changeset_id, code, changeset_id), "publish_at": at}
            assert (await client.post("/v1/admin/changesets", json=document)).status_code == 201
        await client.services.stop_background_work()  # only the racers below publish
        url = seeded.url.render_as_string(hide_password=False)
        engines = [create_engine(url) for _ in range(4)]
        try:
            later = clock.now() + timedelta(minutes=2)
            results = await asyncio.gather(*(publish_due(engine, later) for engine in engines))
        finally:
            for engine in engines:
                await engine.dispose()
    published = sorted(record.id for handled in results for record in handled)
    # "one" went first (fravaer 3 -> 4); the others were planned on version 3 and now fail.
    assert published == ["one", "three", "two"]
    statuses = {record.id: record.status for handled in results for record in handled}
    assert statuses == {"one": "published", "two": "failed", "three": "failed"}
    for changeset_id in ("one", "two", "three"):
        actions = [action for actor, action in await _actions(seeded, f"changeset:{changeset_id}")]
        assert actions.count("changeset.published") + actions.count("changeset.failed") == 1


async def test_a_change_set_whose_list_moved_on_fails_and_writes_nothing(
    pair: tuple[AppClient, AppClient], seeded: AsyncEngine, clock: FixedClock
) -> None:
    first, _ = pair  # the second instance races its scheduler
    first.headers.update(bearer(await token(seeded, clock, "anna", "admin")))
    document = {**rename("late"), "publish_at": (clock.now() + timedelta(days=1)).isoformat()}
    assert (await first.post("/v1/admin/changesets", json=document)).json()["status"] == (
        "scheduled"
    )
    await first.publish(
        "meanwhile", {"op": "set", "list": "fravaer", "codes": ["11"], "fields": {"name": "Sygdom"}}
    )
    before = await counts(seeded)
    clock.moment += timedelta(days=1, seconds=1)
    body = await _wait_for(first, "late", "failed", 5.0)
    assert "fravaer" in body["failure"]
    assert body["published_at"] is None
    after = await counts(seeded)
    assert {**after, "audit_log": 0} == {**before, "audit_log": 0}  # only its status and entry
    assert await _versions(seeded, "late") == 0
    assert ("scheduler", "changeset.failed") in await _actions(seeded, "changeset:late")
    # A failed change set is not published by hand either; submitting it again plans it again,
    # and as its publish_at has passed, the scheduler publishes the new plan at once.
    assert (await first.post("/v1/admin/changesets/late/publish")).status_code == 409
    again = await first.post("/v1/admin/changesets", json=document)
    assert (again.json()["status"], again.json()["failure"]) == ("scheduled", None)
    body = await _wait_for(first, "late", "published", 5.0)
    assert body["versions"] == {"fravaer": 5}


async def test_a_publish_at_already_past_is_published_at_once_on_submit(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    """api.md: once it may be published it is ``scheduled``, and a service process publishes it
    within 5 seconds of its time; a time already past means at once (default polling)."""
    async with app_client(seeded, clock) as client:
        client.headers.update(bearer(await token(seeded, clock, "anna", "admin")))
        document = {**rename("past"), "publish_at": (clock.now() - timedelta(hours=1)).isoformat()}
        created = await client.post("/v1/admin/changesets", json=document)
        assert (created.status_code, created.json()["status"]) == (201, "scheduled")
        body = await _wait_for(client, "past", "published", 5.0)
    assert body["versions"] == {"fravaer": 4}
    assert await _actions(seeded, "changeset:past") == [
        ("anna", "changeset.submitted"),
        ("anna", "changeset.scheduled"),
        ("scheduler", "changeset.published"),
    ]


async def test_a_publish_at_passed_before_approval_is_published_at_once_on_approval(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    async with app_client(seeded, clock, require_approval=True) as client:
        anna = bearer(await token(seeded, clock, "anna", "admin"))
        bo = bearer(await token(seeded, clock, "bo", "approve"))
        document = {**rename("slow"), "publish_at": (clock.now() + timedelta(hours=1)).isoformat()}
        created = await client.post("/v1/admin/changesets", json=document, headers=anna)
        assert created.json()["status"] == "planned"
        clock.moment += timedelta(days=1)  # the approver comes back after publish_at
        approved = await client.post("/v1/admin/changesets/slow/approve", headers=bo)
        assert approved.json()["status"] == "scheduled"
        client.headers.update(anna)
        body = await _wait_for(client, "slow", "published", 5.0)
    assert body["versions"] == {"fravaer": 4}
    assert await _actions(seeded, "changeset:slow") == [
        ("anna", "changeset.submitted"),
        ("bo", "changeset.approved"),
        ("bo", "changeset.scheduled"),
        ("scheduler", "changeset.published"),
    ]
