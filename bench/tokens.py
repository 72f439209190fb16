"""Token-protected warm reads against public warm reads, in the same run (issue 12, item 5).

Two service processes on the same seeded store: one with public reads, one with
``CODELISTS_PUBLIC_READ=false`` asked with a valid ``read`` token. Both answer repeated reads
on the fast path in front of the framework; the protected one also checks the token (a lookup
cached for at most a second). Loaded in alternating slices like the warm comparison
(bench/warm.py), so the machine's drift hits both alike; the ratio is protected/public.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from bench import wrk
from bench.generate import WARM_LIST
from bench.servers import ROOT, Server, codelists_command
from bench.warm import Side

GOAL = 0.9


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    conditional: bool = False  # ask with If-None-Match: the ETag of the 200 (expects 304)


CASES = (
    Case("options 200", f"/v1/codelists/{WARM_LIST}/options"),
    Case("options 304", f"/v1/codelists/{WARM_LIST}/options", conditional=True),
    Case("value 200", f"/v1/codelists/{WARM_LIST}/values/0150"),
)


@dataclass
class Comparison:
    case: Case
    protected: list[wrk.WrkResult] = field(default_factory=list)
    public: list[wrk.WrkResult] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        protected = Side.of(self.protected).requests_per_second
        return protected / Side.of(self.public).requests_per_second

    def slice_ratios(self) -> list[float]:
        return [
            p.requests_per_second / q.requests_per_second
            for p, q in zip(self.protected, self.public, strict=True)
        ]


def create_token(env: Mapping[str, str], log: Path) -> str:
    """A new token with scope ``read`` in the store of ``env`` (``codelists token create``)."""
    completed = subprocess.run(
        [*codelists_command(), "token", "create", "--scope", "read", "--name", "bench"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    with log.open("a") as out:
        out.write(f"$ codelists token create --scope read --name bench\n{completed.stderr}\n")
    if completed.returncode != 0:
        raise RuntimeError(f"codelists token create failed: {completed.stderr.strip()}")
    return completed.stdout.strip().splitlines()[-1]


def _etag(server: Server, path: str, headers: Mapping[str, str]) -> str:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        del client.headers["accept-encoding"]  # as wrk asks: identity
        response = client.get(path, headers=dict(headers))
        if response.status_code != 200:
            raise RuntimeError(f"{server.name}: {path} answered {response.status_code}")
        return response.headers["etag"]


def check(public: Server, protected: Server, authorization: Mapping[str, str]) -> list[str]:
    """What differs from the contract: protected answers private, refused without a token."""
    problems = []
    with httpx.Client(timeout=30) as client:
        path = CASES[0].path
        refused = client.get(protected.base_url + path)
        if refused.status_code != 401:
            problems.append(f"protected service answered {refused.status_code} without a token")
        for server, headers, visibility in (
            (public, {}, "public"),
            (protected, authorization, "private"),
        ):
            for _ in range(2):  # built, then from the fast path
                control = client.get(server.base_url + path, headers=dict(headers)).headers.get(
                    "cache-control", ""
                )
                if not control.startswith(visibility + ","):
                    problems.append(f"{server.name}: Cache-Control {control!r}")
    return problems


def compare(
    public: Server,
    protected: Server,
    authorization: Mapping[str, str],
    *,
    seconds: float,
    warmup: float,
    rounds: int,
    threads: int,
    connections: int,
    log: Path,
    progress: Callable[[str], None],
) -> list[Comparison]:
    """Each case on both servers in alternating slices (protected, public, public, ...)."""
    comparisons = []
    slice_seconds = max(1.0, seconds / rounds)
    for case in CASES:
        comparison = Comparison(case)
        sides: list[tuple[Server, dict[str, str]]] = []
        for server, headers in ((protected, dict(authorization)), (public, {})):
            if case.conditional:
                headers["If-None-Match"] = _etag(server, case.path, headers)
            sides.append((server, headers))
        load = partial(wrk.run, threads=threads, connections=connections)
        for server, headers in sides:  # warm-up, discarded
            load(server.base_url + case.path, seconds=warmup, headers=headers)
        for round_number in range(rounds):
            order = sides if round_number % 2 == 0 else sides[::-1]
            for server, headers in order:
                url = server.base_url + case.path
                result = load(url, seconds=slice_seconds, headers=headers, log=log)
                target = comparison.protected if server is protected else comparison.public
                target.append(result)
        progress(
            f"{case.name}: protected {Side.of(comparison.protected).requests_per_second:,.0f} "
            f"req/s, public {Side.of(comparison.public).requests_per_second:,.0f} req/s"
        )
        comparisons.append(comparison)
    return comparisons


def table(comparisons: list[Comparison]) -> str:
    header = (
        f"{'endpoint':<12} | {'token req/s':>11} | {'public req/s':>12} | {'ratio':>5} "
        f"{'(slices)':>11} {'median':>6} {'goal':>6} | {'p50 tok/pub ms':>14} | "
        f"{'p99 tok/pub ms':>14} | errors"
    )
    lines = [header, "-" * len(header)]
    for c in comparisons:
        p, q = Side.of(c.protected), Side.of(c.public)
        slices = c.slice_ratios()
        errors = "none" if p.errors == q.errors == 0 else f"tok {p.errors}, pub {q.errors}"
        lines.append(
            f"{c.case.name:<12} | {p.requests_per_second:>11,.0f} | {q.requests_per_second:>12,.0f}"
            f" | {c.ratio:>5.2f} {f'({min(slices):.2f}-{max(slices):.2f})':>11} "
            f"{statistics.median(slices):>6.2f} {'>=' + str(GOAL):>6} | "
            f"{p.p50_ms:>6.2f}/{q.p50_ms:<7.2f} | "
            f"{p.p99_ms:>6.2f}/{q.p99_ms:<7.2f} | {errors}"
        )
    return "\n".join(lines)


async def _in_process(
    database_url: str, token: str, path: str, requests: int, rounds: int
) -> tuple[float, float]:
    from app.server.app import create_app
    from app.server.settings import Settings
    from app.server.wiring import Services

    apps = []
    started = []
    try:
        for public in (True, False):
            services = Services.create(Settings(database_url=database_url, public_read=public))
            await services.start()
            started.append(services)
            await services.stop_background_work()  # nothing else runs between the requests
            headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
            apps.append((create_app(services=services), headers))
        seconds: list[list[float]] = [[], []]
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        for number in range(rounds):
            for side in (0, 1) if number % 2 == 0 else (1, 0):
                app, headers = apps[side]
                scope = {
                    "type": "http",
                    "method": "GET",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"",
                    "headers": headers,
                    "http_version": "1.1",
                    "scheme": "http",
                    "server": ("127.0.0.1", 80),
                    "client": ("127.0.0.1", 1),
                    "root_path": "",
                    "asgi": {"version": "3.0"},
                }
                begun = time.perf_counter()
                for _ in range(requests):
                    sent.clear()
                    await app(dict(scope, state={}), receive, send)
                seconds[side].append((time.perf_counter() - begun) / requests)
                if sent[0].get("status") != 200:
                    raise RuntimeError(f"in-process read answered {sent[0].get('status')}")
                await asyncio.sleep(0.01)  # let a token lookup refresh, as a server would
        return statistics.median(seconds[0]), statistics.median(seconds[1])
    finally:
        for services in started:
            await services.stop()


def in_process(
    env: Mapping[str, str], token: str, *, requests: int = 5000, rounds: int = 20
) -> str:
    """The same comparison without server or network: µs per cached ``options`` read, driven
    through the ASGI app directly in alternating rounds (steadier on a busy machine)."""
    public, protected = asyncio.run(
        _in_process(env["DATABASE_URL"], token, CASES[0].path, requests, rounds)
    )
    return (
        f"in-process, options 200 (ASGI app called directly, median of {rounds} alternating "
        f"rounds of {requests:,}): public {public * 1e6:.1f} us, token {protected * 1e6:.1f} us "
        f"per read; ratio {public / protected:.2f} (token/public throughput)"
    )


async def _jwt_in_process(
    database_url: str, static: str, path: str, requests: int, rounds: int
) -> tuple[float, float]:
    """µs per cached read with the static token and with a JWT, one protected app, alternating."""
    import tempfile

    from app.server.app import create_app
    from app.server.settings import Settings
    from app.server.wiring import Services
    from tests.oidc.provider import AUDIENCE, OpenIDProvider

    provider = OpenIDProvider(Path(tempfile.mkdtemp()) / "provider.log")
    try:
        token = await provider.client_credentials("read")
        settings = Settings(
            database_url=database_url,
            public_read=False,
            oauth_issuers=provider.issuer_setting(),
            oauth_audience=AUDIENCE,
        )
        services = Services.create(settings)
        await services.start()
        await services.stop_background_work()
        app = create_app(services=services)
        sides = [f"Bearer {static}".encode(), f"Bearer {token}".encode()]
        seconds: list[list[float]] = [[], []]
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        try:
            for number in range(rounds):
                for side in (0, 1) if number % 2 == 0 else (1, 0):
                    scope = {
                        "type": "http",
                        "method": "GET",
                        "path": path,
                        "raw_path": path.encode(),
                        "query_string": b"",
                        "headers": [(b"host", b"127.0.0.1"), (b"authorization", sides[side])],
                        "http_version": "1.1",
                        "scheme": "http",
                        "server": ("127.0.0.1", 80),
                        "client": ("127.0.0.1", 1),
                        "root_path": "",
                        "asgi": {"version": "3.0"},
                    }
                    begun = time.perf_counter()
                    for _ in range(requests):
                        sent.clear()
                        await app(dict(scope, state={}), receive, send)
                    seconds[side].append((time.perf_counter() - begun) / requests)
                    if sent[0].get("status") != 200:
                        raise RuntimeError(f"in-process read answered {sent[0].get('status')}")
                    await asyncio.sleep(0.01)  # let a lookup refresh, as a server would
        finally:
            await services.stop()
        return statistics.median(seconds[0]), statistics.median(seconds[1])
    finally:
        provider.stop()


def jwt_in_process(
    env: Mapping[str, str], static: str, *, requests: int = 5000, rounds: int = 20
) -> str:
    """Issue 17, item 7: a warm token-protected read with a JWT of a real OpenID Provider
    (npm oidc-provider, tests/oidc) against the same read with a static token, on one app
    (CODELISTS_PUBLIC_READ=false); ratio = JWT/static throughput, goal >= GOAL."""
    static_seconds, jwt_seconds = asyncio.run(
        _jwt_in_process(env["DATABASE_URL"], static, CASES[0].path, requests, rounds)
    )
    return (
        f"in-process, options 200, CODELISTS_PUBLIC_READ=false (median of {rounds} alternating "
        f"rounds of {requests:,}): static token {static_seconds * 1e6:.1f} us, JWT "
        f"{jwt_seconds * 1e6:.1f} us per read; ratio {static_seconds / jwt_seconds:.2f} "
        f"(JWT/static throughput, goal >= {GOAL})"
    )
