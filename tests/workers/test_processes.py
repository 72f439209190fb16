"""Two `codelists serve` processes on one database (SQLite and PostgreSQL): a revoked token is
refused by both within a second, and a scheduled change set is published once, by one of them,
within 5 seconds of its time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from app.store.tables import audit_log, list_version
from tests.api.test_admin import rename
from tests.conftest import FixedClock
from tests.servers import codelists, running_services


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    env = {"DATABASE_URL": database_url, "CODELISTS_SECRET_KEY": "test"}
    logs = [tmp_path / "serve-1.log", tmp_path / "serve-2.log"]
    with running_services(env, logs) as services:
        yield [service.url for service in services]


async def test_a_revoked_token_is_refused_by_every_process_within_a_second(
    seeded: AsyncEngine, clock: FixedClock, servers: list[str], database_url: str, tmp_path: Path
) -> None:
    async with seeded.begin() as connection:
        value = await tokens.create(connection, name="eve", scopes=["admin"], now=clock.now())
        await tokens.create(connection, name="eve", scopes=["read"], now=clock.now())
    auth = {"Authorization": f"Bearer {value}"}
    async with httpx.AsyncClient(timeout=5) as http:
        for url in servers:  # each process has looked the token up and remembers it
            answer = await http.get(f"{url}/v1/admin/whoami", headers=auth)
            assert answer.json() == {"name": "eve", "scopes": ["admin"]}
        env = {"DATABASE_URL": database_url}
        revoked = await asyncio.to_thread(codelists, "token", "revoke", "eve", env=env)
        revoked_at = time.monotonic()
        assert revoked.strip() == "revoked 2 token(s) named eve"
        for url in servers:
            while (await http.get(f"{url}/v1/admin/whoami", headers=auth)).status_code != 401:
                assert time.monotonic() - revoked_at < 1.0, f"{url} still accepts the token"
                await asyncio.sleep(0.02)
        listed = await asyncio.to_thread(codelists, "token", "list", env=env)
    lines = listed.splitlines()
    assert lines[0].split() == ["NAME", "SCOPES", "CREATED", "LAST", "USED", "REVOKED"]
    eve = [line.split() for line in lines[1:] if line.startswith("eve ")]
    assert [row[1] for row in eve] == ["admin", "read"]
    assert all(row[-1].endswith("Z") for row in eve)  # revoked, with the time
    assert eve[0][3] != "-" and eve[1][3] == "-"  # the admin token was used, the other not
    assert value not in listed
    async with seeded.connect() as connection:
        rows = await connection.execute(
            sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target).where(
                audit_log.c.action == "token.revoked"
            )
        )
        [(actor, _, target)] = rows.all()
    assert actor.startswith("cli:") and target == "token:eve"


async def test_a_scheduled_change_set_is_published_once_within_5_seconds(
    seeded: AsyncEngine, clock: FixedClock, servers: list[str]
) -> None:
    async with seeded.begin() as connection:
        value = await tokens.create(connection, name="anna", scopes=["admin"], now=clock.now())
    auth = {"Authorization": f"Bearer {value}"}
    publish_at = datetime.now(UTC) + timedelta(seconds=2)
    document = {**rename("soon"), "publish_at": publish_at.isoformat()}
    async with httpx.AsyncClient(timeout=5) as http:
        created = await http.post(f"{servers[0]}/v1/admin/changesets", json=document, headers=auth)
        assert created.json()["status"] == "scheduled"
        after = (await http.get(f"{servers[1]}/v1/changes?after=0&limit=1")).json()
        last = (await http.get(f"{servers[1]}/v1/export")).json()["seq"]
        assert after["has_more"] is True
        seen: dict[str, float] = {}
        while len(seen) < 2:
            for url in servers:
                if url in seen:
                    continue
                feed = (await http.get(f"{url}/v1/changes?after={last}")).json()["changes"]
                if feed:
                    assert feed[0]["changeset"] == "soon"
                    seen[url] = (datetime.now(UTC) - publish_at).total_seconds()
            assert (datetime.now(UTC) - publish_at).total_seconds() < 5, seen
            await asyncio.sleep(0.02)
    async with seeded.connect() as connection:
        count = await connection.scalar(
            sa.select(sa.func.count()).where(list_version.c.changeset_id == "soon")
        )
    assert count == 1
