"""Review and audit figures (issue 11), against real `codelists serve` processes.

    python -m bench.review schedule [--db sqlite|postgresql] [--runs 10]
        Two service processes on one database. Each run submits a change set through the first
        with ``publish_at`` two seconds ahead and polls the change feed of both every 10 ms.
        Prints the delay from ``publish_at`` to the change being in the feed (the slower of
        the two processes), per run and the median.

    python -m bench.review flood [--db sqlite|postgresql] [--seconds 70] [--clients 8]
        One service process; as many requests without a token as it answers, from one address
        (127.0.0.1), for the given time. Prints requests, 401s per second, audit entries
        written per second and the audit table's growth (rows and bytes).

Logs and databases go to a temporary directory; PostgreSQL databases are dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from app.store.database import create_engine
from bench import postgres
from bench.servers import ROOT, Server, run_codelists, start_service

ENV = {"CODELISTS_SECRET_KEY": "bench", "CODELISTS_LOG_LEVEL": "WARNING"}


def _database(kind: str, workdir: Path, suffix: str) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    problem = postgres.reachable(postgres.DEFAULT_URL)
    if problem:
        sys.exit(f"PostgreSQL is not reachable: {problem}")
    return postgres.create_database(postgres.DEFAULT_URL, suffix)


def _token(env: dict[str, str], log: Path, name: str, scope: str) -> str:
    run_codelists(["token", "create", "--scope", scope, "--name", name], env, log, 120)
    return log.read_text().strip().splitlines()[-1]


async def _last_seq(client: httpx.AsyncClient, url: str) -> int:
    after = 0
    while True:
        page = (
            await client.get(f"{url}/v1/changes", params={"after": after, "limit": 5000})
        ).json()
        after = page["next_after"]
        if not page["has_more"]:
            return int(after)


async def _schedule_runs(servers: list[Server], token: str, runs: int) -> list[float]:
    auth = {"Authorization": f"Bearer {token}"}
    delays = []
    async with httpx.AsyncClient(timeout=10) as client:
        for run in range(runs):
            after = await _last_seq(client, servers[0].base_url)
            publish_at = datetime.now(UTC) + timedelta(seconds=2)
            document = {
                "id": f"bench-schedule-{run}",
                "reason": "benchmark",
                "publish_at": publish_at.isoformat(),
                "changes": [
                    {
                        "op": "set",
                        "list": "fravaer",
                        "codes": ["10"],
                        "fields": {"name": f"Ferie {run}"},
                    }
                ],
            }
            created = await client.post(
                f"{servers[0].base_url}/v1/admin/changesets", json=document, headers=auth
            )
            assert created.json()["status"] == "scheduled", created.text
            seen: dict[str, float] = {}
            while len(seen) < len(servers):
                for server in servers:
                    if server.base_url in seen:
                        continue
                    page = await client.get(
                        f"{server.base_url}/v1/changes", params={"after": after}
                    )
                    if page.json()["changes"]:
                        seen[server.base_url] = (datetime.now(UTC) - publish_at).total_seconds()
                if (datetime.now(UTC) - publish_at).total_seconds() > 30:
                    raise RuntimeError(f"run {run}: not published 30 s after its time")
                await asyncio.sleep(0.01)
            delays.append(max(seen.values()))
            print(f"run {run}: visible in both feeds {delays[-1] * 1000:.0f} ms after publish_at")
    return delays


def schedule(kind: str, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        workdir = Path(tmp)
        url = _database(kind, workdir, "schedule")
        env = {**ENV, "DATABASE_URL": url}
        log = workdir / "cli.log"
        servers: list[Server] = []
        try:
            run_codelists(["seed", str(ROOT / "seed")], env, log, 300)
            token = _token(env, log, "bench", "admin")
            servers = [start_service(env, workdir / f"service-{i}.log") for i in range(2)]
            delays = asyncio.run(_schedule_runs(servers, token, runs))
        finally:
            for server in servers:
                server.stop()
            if kind == "postgresql":
                postgres.drop_database(url)
    print(
        f"{kind}: publish_at -> visible in the feed of both processes, {runs} runs: "
        f"median {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
    )


async def _audit_size(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = int(await connection.scalar(sa.text("SELECT count(*) FROM audit_log")) or 0)
            if engine.dialect.name == "postgresql":
                size = await connection.scalar(
                    sa.text("SELECT pg_total_relation_size('audit_log')")
                )
            else:  # the bytes of the rows themselves: SQLite pages are shared by every table
                size = await connection.scalar(
                    sa.text(
                        "SELECT coalesce(sum(length(actor) + length(action) + length(target) "
                        "+ length(detail) + 16), 0) FROM audit_log"
                    )
                )
            return rows, int(size or 0)
    finally:
        await engine.dispose()


async def _flood(server: Server, seconds: float, clients: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    deadline = time.monotonic() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            answer = await client.get("/v1/admin/changesets", headers={"Authorization": "Bearer x"})
            counts[str(answer.status_code)] = counts.get(str(answer.status_code), 0) + 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10, limits=limits) as client:
        await asyncio.gather(*(one(client) for _ in range(clients)))
    return counts


def flood(kind: str, seconds: float, clients: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        workdir = Path(tmp)
        url = _database(kind, workdir, "flood")
        env = {**ENV, "DATABASE_URL": url}
        server: Server | None = None
        try:
            run_codelists(["migrate"], env, workdir / "cli.log", 300)
            server = start_service(env, workdir / "service.log")
            before = asyncio.run(_audit_size(url))
            started = time.monotonic()
            counts = asyncio.run(_flood(server, seconds, clients))
            elapsed = time.monotonic() - started
            time.sleep(6)  # the coalesced counts of finished windows are written every 5 s
            after = asyncio.run(_audit_size(url))
        finally:
            if server is not None:
                server.stop()
            if kind == "postgresql":
                postgres.drop_database(url)
    refused = counts.get("401", 0)
    rows, size = after[0] - before[0], after[1] - before[1]
    print(
        f"{kind}: {sum(counts.values())} requests in {elapsed:.1f} s ({counts}), "
        f"{refused / elapsed:.0f} 401/s from one address"
    )
    print(
        f"{kind}: audit entries written: {rows} ({rows / elapsed:.3f}/s); table grew by "
        f"{size} bytes ({size / max(refused, 1):.2f} bytes per refused request)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("schedule")
    one.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    one.add_argument("--runs", type=int, default=10)
    two = sub.add_parser("flood")
    two.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    two.add_argument("--seconds", type=float, default=70)
    two.add_argument("--clients", type=int, default=8)
    args: Any = parser.parse_args(argv)
    if args.what == "schedule":
        schedule(args.db, args.runs)
    else:
        flood(args.db, args.seconds, args.clients)


if __name__ == "__main__":
    main()
