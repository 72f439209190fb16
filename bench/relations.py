"""Relations at scale (issue 18): ``python -m bench.relations``.

1. PostgreSQL (``BENCH_PG_URL``): two lists of N values and a relation of N x N rows (a
   million at N = 1,000) published in one change set through ``app.store.publish.submit``
   (plan and publish, as the command line does, without the document size limit); wall time
   of the relation's change set.
2. The service on that store: ``check`` warm (wrk on one check URL, answered by the fast path
   after the first), its p50/p99 latency; the service's RSS after a matrix-free read.
3. ``/options?related=LIST:CODE`` warm against plain ``/options`` on the same service, wrk in
   alternating slices; the ratio related/plain (goal >= 0.9).

Nothing asserts a number; loopback only; every loop is bounded. ``BENCH_RELATION_N`` sets N
(default 1000; 100 for a smoke run).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from app.domain.documents import convert_document
from app.store.database import create_engine, migrate
from app.store.publish import submit
from bench import wrk
from bench.postgres import create_database, drop_database, reachable
from bench.servers import start_service

BASE = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
N = int(os.environ.get("BENCH_RELATION_N", "1000"))


def _lists(n: int) -> dict[str, Any]:
    def values(prefix: str) -> list[dict[str, Any]]:
        return [
            {"code": str(i), "name": f"{prefix} {i}", "valid_from": "2014-01-01"}
            for i in range(1, n + 1)
        ]

    return {
        "id": "bench-lists",
        "reason": "bench",
        "changes": [
            {"op": "create_list", "list": "kilde", "name": "Kilde"},
            {"op": "upsert", "list": "kilde", "values": values("Kilde")},
            {"op": "create_list", "list": "maal", "name": "Mål"},
            {"op": "upsert", "list": "maal", "values": values("Mål")},
            {"op": "create_list", "list": "kval", "name": "Kvalifikator"},
            {"op": "upsert", "list": "kval", "values": values("Kvalifikator")[:20]},
        ],
    }


def _relation(n: int) -> dict[str, Any]:
    rows = [
        {
            "source": str(s),
            "target": str(t),
            "qualifiers": ["none", str(1 + (s + t) % 20)],
            "valid_from": "2022-01-01",
        }
        for s in range(1, n + 1)
        for t in range(1, n + 1)
    ]
    return {
        "id": "bench-relation",
        "reason": "bench",
        "changes": [
            {
                "op": "create_relation",
                "relation": "stor",
                "name": "Stor relation",
                "source_list": "kilde",
                "target_list": "maal",
                "qualifier_list": "kval",
            },
            {"op": "upsert_rows", "relation": "stor", "rows": rows},
        ],
    }


async def _publish(url: str, n: int) -> tuple[float, float]:
    engine = create_engine(url)
    try:
        await migrate(engine)
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        await submit(engine, convert_document(_lists(n)), author="bench", now=now, publish=True)
        document = convert_document(_relation(n))
        started = time.perf_counter()
        planned_only = await _plan_time(engine, document)
        await submit(engine, document, author="bench", now=now, publish=True)
        return time.perf_counter() - started, planned_only
    finally:
        await engine.dispose()


async def _plan_time(engine: Any, document: Any) -> float:
    from app.store.publish import plan_only

    started = time.perf_counter()
    await plan_only(engine, document)
    return time.perf_counter() - started


def _alternate(a: str, b: str, slices: int = 4, seconds: float = 2) -> tuple[float, float]:
    """Summed requests of ``a`` and ``b`` over alternating slices (a, b, b, a, ...)."""
    totals = {a: 0, b: 0}
    order = [a, b, b, a] * (slices // 2)
    for url in order:
        result = wrk.run(url, seconds=seconds, threads=1, connections=16)
        totals[url] += result.requests
    return totals[a], totals[b]


def main() -> None:
    problem = reachable(BASE)
    if problem:
        print(f"relations: NOT MEASURED (PostgreSQL: {problem})")
        return
    url = create_database(BASE, "relations")
    log = Path(tempfile.mkdtemp()) / "relations-serve.log"
    try:
        rows = N * N
        publish_s, plan_s = asyncio.run(_publish(url, N))
        took = publish_s - plan_s
        print(f"publish {N} x {N} relation ({rows:,} rows) on PostgreSQL: {took:.1f} s "
              f"(plan and publish; a plan alone took {plan_s:.1f} s) [goal < 60 s]")  # fmt: skip
        server = start_service({"DATABASE_URL": url, "CODELISTS_CACHE_MB": "512"}, log)
        try:
            import httpx

            base = server.base_url
            check = f"{base}/v1/relations/stor/check?source=7&target=9&qualifier=none"
            started = time.perf_counter()
            first = httpx.get(check, timeout=300)
            cold = time.perf_counter() - started
            print(f"check, first (loads {rows:,} rows): {cold:.1f} s, {first.json()['allowed']}")
            result = wrk.run(check, seconds=5, threads=1, connections=1)
            p50, p99 = result.p50_ms, result.p99_ms
            print(f"check warm, 1 connection: p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
                  f"{result.requests_per_second:.0f}/s [goal < 1 ms]")  # fmt: skip
            print(f"service RSS with the relation loaded: {server.rss_bytes() / 2**20:.0f} MiB")
            plain = f"{base}/v1/codelists/kilde/options"
            related = f"{base}/v1/codelists/kilde/options?related=maal:9"
            httpx.get(plain, timeout=60)
            httpx.get(related, timeout=60)
            related_n, plain_n = _alternate(related, plain)
            print(f"/options?related vs /options, warm: {related_n / plain_n:.2f}x "
                  f"({related_n} vs {plain_n} requests) [goal >= 0.9]")  # fmt: skip
        finally:
            server.stop()
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
