"""PostgreSQL figures: the cold read after a publish, and publishing a large change set.

Publishes go through the app's own Python API (``app.store.publish.submit``), the same call
``codelists changeset apply`` makes, so the timings hold the publish alone and no process
start-up. Each run works in databases of its own, named ``bench_*``, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec

from app.domain.clock import Clock
from app.domain.documents import parse_document
from app.store.database import create_engine
from app.store.publish import submit
from bench.generate import code_of, touch_one, touch_values
from bench.servers import Server

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
_CLOCK = Clock(ZoneInfo("Europe/Copenhagen"))


def _admin_dsn(base_url: str) -> str:
    return base_url.replace("postgresql+asyncpg://", "postgresql://", 1) + "/postgres"


async def _admin(base_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(base_url), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def reachable(base_url: str) -> str | None:
    """None when PostgreSQL answers at ``base_url``, else why not."""
    try:
        asyncio.run(_admin(base_url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def create_database(base_url: str, suffix: str) -> str:
    """A fresh database ``bench_<pid>_<suffix>``; its SQLAlchemy URL."""
    name = f"bench_{os.getpid()}_{suffix}"
    asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"'))
    return f"{base_url}/{name}"


def drop_database(url: str) -> None:
    base_url, name = url.rsplit("/", 1)
    if name.startswith("bench_"):
        asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _publish(engine: Any, doc: dict[str, Any]) -> tuple[float, dict[str, int]]:
    document = parse_document(msgspec.json.encode(doc), yaml=False)
    started = time.perf_counter()
    outcome = await submit(engine, document, author="bench", now=_CLOCK.now(), publish=True)
    return time.perf_counter() - started, dict(outcome.record.versions or {})


@dataclass(frozen=True)
class ColdRun:
    key: str
    values: int
    cold_ms: list[float]  # first GET /v1/codelists/{key}?version=N after the publish
    options_ms: list[float]  # then /options of the same version: decoded already, encoded anew
    warm_ms: list[float]  # the first GET again: from the answer cache (client overhead)
    notice_ms: list[float]  # from the publish's commit until /v1/codelists shows version N
    problems: list[str]

    def report(self) -> list[str]:
        def spread(samples: list[float]) -> str:
            if not samples:
                return "no samples"
            ordered = sorted(samples)
            p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
            return f"median {statistics.median(ordered):.1f} ms, p90 {p90:.1f} ms"

        lines = [
            f"cold read (PostgreSQL, {self.values:,}-value list, {len(self.cold_ms)} publishes): "
            f"first GET /v1/codelists/{self.key}?version=N {spread(self.cold_ms)}",
            f"  then /options of that version (list already decoded) {spread(self.options_ms)}; "
            f"a cached repeat {spread(self.warm_ms)} (the client's own overhead)",
            f"  publish noticed by the server after {spread(self.notice_ms)}",
        ]
        lines += [f"  cold read problem: {problem}" for problem in self.problems]
        return lines


async def _wait_for_version(client: httpx.AsyncClient, key: str, version: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = await client.get("/v1/codelists")
        if response.status_code == 200:
            heads = {item["key"]: item["version"] for item in response.json()["codelists"]}
            if heads.get(key, 0) >= version:
                return True
        await asyncio.sleep(0.01)
    return False


async def _timed_get(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = await client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


async def _cold_reads(
    server: Server, url: str, key: str, values: int, repeats: int, progress: Callable[[str], None]
) -> ColdRun:
    run = ColdRun(key, values, [], [], [], [], [])
    engine = create_engine(url)
    base = server.base_url
    try:
        async with (
            httpx.AsyncClient(base_url=base, timeout=30) as reader,
            httpx.AsyncClient(base_url=base, timeout=30) as watcher,
        ):
            (await reader.get(f"/v1/codelists/{key}")).raise_for_status()  # connection open
            for attempt in range(repeats):
                doc = touch_one(f"bench-cold-{attempt:04d}", key, code_of(attempt + 1), "kold")
                _, versions = await _publish(engine, doc)
                committed = time.perf_counter()
                version = versions[key]
                if not await _wait_for_version(watcher, key, version):
                    run.problems.append(f"version {version} not visible after 15 s")
                    continue
                run.notice_ms.append((time.perf_counter() - committed) * 1000)
                params = {"version": version}
                run.cold_ms.append(await _timed_get(reader, f"/v1/codelists/{key}", params))
                path = f"/v1/codelists/{key}/options"
                run.options_ms.append(await _timed_get(reader, path, params))
                run.warm_ms.append(await _timed_get(reader, f"/v1/codelists/{key}", params))
            progress(f"cold read: {len(run.cold_ms)} samples")
    finally:
        await engine.dispose()
    return run


def cold_reads(
    server: Server, url: str, key: str, values: int, repeats: int, progress: Callable[[str], None]
) -> ColdRun:
    return asyncio.run(_cold_reads(server, url, key, values, repeats, progress))


async def _publish_touches(url: str, keys: list[str], values: int, repeats: int) -> list[float]:
    engine = create_engine(url)
    seconds = []
    try:
        for attempt in range(repeats):
            doc = touch_values(f"bench-touch-{attempt:04d}", keys, values, f"runde {attempt}")
            elapsed, versions = await _publish(engine, doc)
            if len(versions) != len(keys):
                raise RuntimeError(f"the publish changed {len(versions)} lists, not {len(keys)}")
            seconds.append(elapsed)
    finally:
        await engine.dispose()
    return seconds


def publish_touches(url: str, keys: list[str], values: int, repeats: int) -> list[float]:
    """Seconds for each publish of a change set touching every value of ``keys``."""
    return asyncio.run(_publish_touches(url, keys, values, repeats))
