"""Two `codelists serve` processes on one PostgreSQL: a publish through one is served by the
other within a second, by NOTIFY (their polls are set to 30 s, so a timer cannot do it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from tests.conftest import FixedClock
from tests.servers import running_services

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    env = {
        "DATABASE_URL": database_url,
        "CODELISTS_POLL_SECONDS": "30",
        "CODELISTS_SECRET_KEY": "test",
    }
    logs = [tmp_path / "replica-1.log", tmp_path / "replica-2.log"]
    with running_services(env, logs) as services:
        yield [service.url for service in services]


async def test_a_publish_through_one_replica_is_served_by_the_other_within_a_second(
    seeded: AsyncEngine, clock: FixedClock, replicas: list[str]
) -> None:
    async with seeded.begin() as connection:
        token = await tokens.create(connection, name="ops", scopes=["admin"], now=clock.now())
    first, second = replicas
    async with httpx.AsyncClient(timeout=5) as http:
        before = await http.get(f"{second}/v1/codelists/fravaer/options")
        assert before.json()["version"] == 3
        assert (
            await http.get(f"{second}/v1/codelists/fravaer/options")
        ).status_code == 200  # cached
        document = {
            "id": "via-first",
            "reason": "replicas",
            "changes": [
                {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "Skole"}}
            ],
        }
        published = await http.post(
            f"{first}/v1/admin/changesets?publish=true",
            json=document,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert published.status_code == 201
        started = time.monotonic()
        while True:
            answer = await http.get(f"{second}/v1/codelists/fravaer/options")
            if answer.json()["version"] == 4:
                break
            assert time.monotonic() - started < 1.0, "the other replica still serves version 3"
            await asyncio.sleep(0.02)
    assert answer.json()["options"][0]["name"] == "Skole"
