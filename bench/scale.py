"""National scale: memory under random reads of every list, and paging through the change feed."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import wrk
from bench.servers import Server

MB = 1024 * 1024
LUA_SCRIPT = Path(__file__).with_name("random_reads.lua")


@dataclass(frozen=True)
class MemoryRun:
    cache_mb: int
    seconds: float
    baseline_rss: int
    peak_rss: int
    samples: list[tuple[float, int]]  # (seconds since start, RSS bytes)
    load: wrk.WrkResult

    @property
    def growth_mb(self) -> float:
        return (self.peak_rss - self.baseline_rss) / MB

    def rss_at(self, fraction: float) -> int:
        """The RSS sampled nearest to ``fraction`` of the run."""
        wanted = fraction * self.seconds
        return min(self.samples, key=lambda sample: abs(sample[0] - wanted))[1]

    def report(self) -> list[str]:
        over = self.growth_mb - self.cache_mb
        trend = ", ".join(
            f"{int(f * 100)}% {self.rss_at(f) / MB:.0f}" for f in (0.25, 0.5, 0.75, 1.0)
        )
        load = self.load
        return [
            f"memory: {self.seconds:.0f} s of random reads over every list "
            f"(random list, endpoint and `at`; {load.requests:,} requests, "
            f"{load.requests_per_second:,.0f} req/s, p99 {load.p99_ms:.0f} ms, "
            f"{load.non_2xx_3xx} non-2xx/3xx, {load.socket_errors} socket errors)",
            f"  bound CODELISTS_CACHE_MB = {self.cache_mb} MB; RSS (granian main + worker) "
            f"baseline {self.baseline_rss / MB:.0f} MB, peak {self.peak_rss / MB:.0f} MB: "
            f"growth {self.growth_mb:.0f} MB, {abs(over):.0f} MB "
            f"{'above' if over >= 0 else 'below'} the bound",
            f"  RSS (MB) through the run: {trend}; "
            f"second half grew {(self.rss_at(1.0) - self.rss_at(0.5)) / MB:+.0f} MB",
        ]


def memory_run(
    server: Server,
    *,
    cache_mb: int,
    seconds: float,
    lists: int,
    values: int,
    threads: int,
    connections: int,
    log: Path,
) -> MemoryRun:
    """Sample the server's RSS while wrk reads random lists on random dates."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        client.get("/v1/codelists").raise_for_status()  # the catalog of every list, loaded
    time.sleep(1)
    baseline = server.rss_bytes()
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic() - started, server.rss_bytes()))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        load = wrk.run(
            server.base_url + "/",
            seconds=seconds,
            threads=threads,
            connections=connections,
            script=LUA_SCRIPT,
            env={"BENCH_LISTS": str(lists), "BENCH_VALUES": str(values)},
            log=log,
        )
    finally:
        stop.set()
        sampler.join(timeout=5)
    samples.append((time.monotonic() - started, server.rss_bytes()))
    return MemoryRun(
        cache_mb=cache_mb,
        seconds=seconds,
        baseline_rss=baseline,
        peak_rss=max(rss for _, rss in samples),
        samples=samples,
        load=load,
    )


@dataclass(frozen=True)
class FeedRun:
    changes: int
    pages: int
    seconds: float
    page_ms: list[float]
    problems: list[str]

    def report(self) -> list[str]:
        rate = self.changes / self.seconds if self.seconds else 0.0
        lines = [
            f"feed: {self.changes:,} changes in {self.pages} pages of GET /v1/changes"
            f"?after=N&limit=5000: {self.seconds:.2f} s ({rate:,.0f} changes/s); "
            f"page median {statistics.median(self.page_ms):.0f} ms, "
            f"max {max(self.page_ms):.0f} ms"
        ]
        lines += [f"  feed problem: {problem}" for problem in self.problems]
        return lines


class FeedUnavailable(Exception):
    pass


def page_feed(server: Server, *, wanted: int, limit: int = 5000) -> FeedRun:
    """Page through ``wanted`` changes by ``next_after``, checking order as it goes."""
    problems: list[str] = []
    page_ms: list[float] = []
    after, changes, last_seq = 0, 0, 0
    max_pages = wanted // limit + 10  # bounded, whatever the server answers
    started = time.perf_counter()
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        for _ in range(max_pages):
            if changes >= wanted:
                break
            page_started = time.perf_counter()
            response = client.get("/v1/changes", params={"after": after, "limit": limit})
            page_ms.append((time.perf_counter() - page_started) * 1000)
            if response.status_code == 404 and not changes:
                raise FeedUnavailable("feed: endpoint not available (404)")
            if response.status_code in {401, 403} and not changes:
                raise FeedUnavailable(
                    f"feed: not measured: {response.status_code} (the feed wants a token here)"
                )
            if response.status_code != 200:
                problems.append(f"after={after}: status {response.status_code}")
                break
            body = response.json()
            seqs = [change["seq"] for change in body["changes"]]
            if seqs and (seqs[0] <= last_seq or seqs != sorted(set(seqs))):
                problems.append(f"after={after}: seq not strictly increasing")
            if len(seqs) > limit:
                problems.append(f"after={after}: {len(seqs)} changes, over limit={limit}")
            changes += len(seqs)
            last_seq = seqs[-1] if seqs else last_seq
            if not body["has_more"] or body["next_after"] == after:
                break
            after = body["next_after"]
    seconds = time.perf_counter() - started
    if changes < wanted:
        problems.append(f"only {changes:,} changes before the feed ended; wanted {wanted:,}")
    return FeedRun(changes, len(page_ms), seconds, page_ms, problems)
