"""Shared caches, measured (issue 12): warm drop-downs through Varnish, publish-to-fresh
latency through it, and the PostgreSQL seed at national scale.

    python -m bench.varnish [--seconds 8] [--rounds 4] [--publishes 20] [--seed-lists 1000]

- warm: wrk on ``/v1/codelists/<key>/options`` through Varnish with the shipped VCL (two
  `codelists serve` processes behind it, the answer cached), against a second Varnish serving
  the same bytes with the same headers as a synthetic object (the best Varnish can do with
  that answer), and against one service process directly. Slices alternate (A, B, B, A, ...)
  so the machine's drift hits both sides alike; the ratio is of the summed requests.
- publish-to-fresh: ``--publishes`` times, a one-value change set published through the API
  of one process (alternating), then the time from its answer until the value shows through
  Varnish (polled every 5 ms); median and p99.
- seed: ``codelists seed`` of ``--seed-lists`` generated lists x 1,000 values into a new
  PostgreSQL database, wall time (``0`` skips it).

Needs varnishd (Debian ``varnish`` and ``varnish-modules``), wrk, PostgreSQL at
``BENCH_PG_URL``. Only 127.0.0.1 is loaded; every run is bounded. Nothing asserts a number.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench import generate, postgres, servers, wrk
from tests.conftest import _admin, _asyncpg_url, _migrate_and_seed, _run_apart
from tests.varnish.harness import Varnish
from tests.varnish.stack import Stack, deployment

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
KEY = "fravaer"
PATH = f"/v1/codelists/{KEY}/options"
_HOP_HEADERS = {"date", "age", "x-varnish", "via", "connection", "content-length", "x-cache"}


def synthetic_vcl(body: Path, headers: dict[str, str]) -> str:
    """A Varnish answering every request with ``body`` and ``headers`` from its cache."""
    lines = ["vcl 4.1;", "import std;", "backend default none;"]
    lines += ["sub vcl_recv { return (hash); }", "sub vcl_backend_error {"]
    lines += ["    set beresp.status = 200;"]
    # Long strings ({"..."}): header values such as ETags hold quotes.
    lines += [f'    set beresp.http.{name} = {{"{value}"}};' for name, value in headers.items()]
    lines += [f'    synthetic(std.fileread("{body}"));', "    set beresp.ttl = 1h;"]
    lines += ["    return (deliver);", "}"]
    lines += ['sub vcl_deliver { set resp.http.X-Cache = "HIT"; }', ""]
    return "\n".join(lines)


def alternate(
    first: str, second: str, seconds: float, rounds: int, headers: dict[str, str] | None = None
) -> tuple[float, list[float]]:
    """Requests per second of ``first`` over ``second`` (summed), and the per-round ratios;
    wrk -t1 -c32, both asked with ``headers``."""
    totals = {first: 0, second: 0}
    ratios = []
    for number in range(rounds):
        order = (first, second) if number % 2 == 0 else (second, first)
        rates = {}
        for url in order:
            result = wrk.run(url, seconds=seconds / rounds * 2, threads=1, headers=headers)
            if not result.clean:
                raise wrk.WrkError(f"errors under load at {url}: {result.raw}")
            totals[url] += result.requests
            rates[url] = result.requests_per_second
        ratios.append(rates[first] / rates[second])
    return totals[first] / totals[second], ratios


# The clients compared: one that sends no Accept-Encoding (identity, as wrk does) and one that
# takes gzip; each gets the representation the service sends it, as a synthetic object too.
CLIENTS = {"identity": None, "gzip": "gzip"}


def warm(stack: Stack, seconds: float, rounds: int) -> list[str]:
    url = stack.varnish.url + PATH
    lines = [
        f"warm {PATH} through Varnish, wrk -t1 -c32, {rounds} alternating slices of "
        f"{seconds / rounds * 2:.0f} s, per client coding:"
    ]
    for coding, accept_encoding in CLIENTS.items():
        headers = {"Accept-Encoding": accept_encoding} if accept_encoding else None
        lines += _warm_for(stack, url, coding, headers, seconds, rounds)
    return lines


def _warm_for(
    stack: Stack,
    url: str,
    coding: str,
    headers: dict[str, str] | None,
    seconds: float,
    rounds: int,
) -> list[str]:
    with httpx.Client() as client:
        del client.headers["accept-encoding"]  # httpx's default; wrk sends none
        while client.get(url, headers=headers).headers.get("x-cache") != "HIT":
            time.sleep(0.05)
        with client.stream("GET", url, headers=headers) as answer:
            raw = b"".join(answer.iter_raw())  # the bytes as sent: gzip stays gzip
    workdir = Path(tempfile.mkdtemp(prefix="bench-synthetic-"))
    workdir.chmod(0o755)
    body = workdir / "body"
    body.write_bytes(raw)
    body.chmod(0o644)
    kept = {
        name: value for name, value in answer.headers.items() if name.lower() not in _HOP_HEADERS
    }
    synthetic = Varnish(synthetic_vcl(body, kept))
    synthetic.start()
    try:
        with httpx.Client() as client:
            del client.headers["accept-encoding"]
            with client.stream("GET", synthetic.url + PATH, headers=headers) as copy:
                same = b"".join(copy.iter_raw()) == raw
                same = same and copy.headers.get("content-encoding") == kept.get("content-encoding")
        assert same, f"the synthetic object differs ({coding})"
        ratio, slices = alternate(url, synthetic.url + PATH, seconds, rounds, headers)
        direct, direct_slices = alternate(
            url, stack.services[0].url + PATH, seconds, rounds, headers
        )
        single = wrk.run(url, seconds=seconds / rounds, threads=1, headers=headers)
    finally:
        synthetic.close()
    return [
        f"  {coding} ({len(raw):,} bytes):",
        f"    through Varnish (shipped VCL) / Varnish synthetic object, same bytes and headers: "
        f"{ratio:.2f}x (goal >= 0.9x; slices {', '.join(f'{r:.2f}' for r in slices)})",
        f"    through Varnish / one service process direct: {direct:.2f}x "
        f"(slices {', '.join(f'{r:.2f}' for r in direct_slices)})",
        f"    through Varnish alone: {single.requests_per_second:,.0f} req/s, "
        f"p50 {single.p50_ms:.2f} ms, p99 {single.p99_ms:.2f} ms",
    ]


def publish_to_fresh(stack: Stack, publishes: int) -> list[str]:
    seconds = []
    for number in range(publishes):
        code = f"BENCH{number}-{uuid.uuid4().hex[:6]}"
        stack.codes(KEY)  # cached before the publish
        stack.publish(stack.write_changeset(KEY, code), service=number % 2)
        started = time.monotonic()
        while code not in stack.codes(KEY):
            if time.monotonic() - started > 10:
                raise AssertionError(f"{code} never showed through Varnish")
            time.sleep(0.005)
        seconds.append(time.monotonic() - started)
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return [
        f"publish-to-fresh through Varnish ({publishes} API publishes, alternating processes; "
        f"from the publish's answer to the value in /options through the cache): "
        f"median {statistics.median(seconds) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    ]


def seed(lists: int, workdir: Path) -> list[str]:
    docs = workdir / f"scale-{lists}"
    generate.write_scale(docs, lists, 1000)
    url = postgres.create_database(PG_URL, "seed")
    try:
        log = workdir / "seed.log"
        seconds = servers.run_codelists(["seed", str(docs)], {"DATABASE_URL": url}, log, 1800)
    finally:
        postgres.drop_database(url)
    return [
        f"seed PostgreSQL, {lists:,} lists x 1,000 values: {seconds:.1f} s "
        "(codelists seed, wall time incl. start-up and migrations; goal < 60 s)"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--seed-lists", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-varnish-"))
    report: list[str] = []
    template = f"bench_template_{uuid.uuid4().hex[:8]}"
    _run_apart(_admin(f'CREATE DATABASE "{template}"'))
    try:
        # The seed: the deployment serves its lists (fravaer is the one loaded).
        _run_apart(
            _migrate_and_seed(
                "postgresql+asyncpg" + _asyncpg_url(template).removeprefix("postgresql")
            )
        )
        with deployment(template, workdir) as stack:
            report += warm(stack, args.seconds, args.rounds)
            print(*report, sep="\n", flush=True)
            report += publish_to_fresh(stack, args.publishes)
            print(report[-1], flush=True)
    finally:
        _run_apart(_admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    if args.seed_lists:
        report += seed(args.seed_lists, workdir)
        print(report[-1], flush=True)
    (workdir / "report.txt").write_text("\n".join(report) + "\n")
    print(f"(report and logs in {workdir})")


if __name__ == "__main__":
    main()
