"""Warm reads: the service against the control, side by side, same server, workers and client."""

from __future__ import annotations

import base64
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from bench import wrk
from bench.control_app import COPIED_HEADERS, Captured
from bench.generate import WARM_LIST
from bench.servers import Server


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    target: float  # the goal for service/control, printed next to the ratio
    conditional: bool = False  # ask with If-None-Match: the ETag of the 200 (expects 304)
    # Also against the same build with CODELISTS_LOG_LEVEL=WARNING (no access log): what the
    # access log costs the hot path (goal: the service as it ships >= QUIET_TARGET of it).
    quiet: bool = False
    quick: bool = True  # part of a BENCH_QUICK run


QUIET_TARGET = 0.9
CASES = (
    Case("options 200", f"/v1/codelists/{WARM_LIST}/options", 0.9, quiet=True),
    Case("options 304", f"/v1/codelists/{WARM_LIST}/options", 0.9, conditional=True, quiet=True),
    Case("list 200", f"/v1/codelists/{WARM_LIST}", 0.8, quick=False),
    Case("list 304", f"/v1/codelists/{WARM_LIST}", 0.8, conditional=True),
    Case("value 200", f"/v1/codelists/{WARM_LIST}/values/0150", 0.8, quick=False),
)


def cases(*, quick: bool) -> tuple[Case, ...]:
    """The cases of a run: all, or those of a quick run (the ones the goals name)."""
    return tuple(case for case in CASES if case.quick or not quick)


@dataclass(frozen=True)
class Side:
    """One server's figures for a case, over all its measured slices."""

    requests_per_second: float  # all requests over all the slices' time
    p50_ms: float  # median over the slices
    p99_ms: float  # median over the slices
    errors: int  # non-2xx/3xx answers and socket errors

    @classmethod
    def of(cls, results: list[wrk.WrkResult]) -> Side:
        seconds = sum(r.requests / r.requests_per_second for r in results)
        return cls(
            requests_per_second=sum(r.requests for r in results) / seconds,
            p50_ms=statistics.median(r.p50_ms for r in results),
            p99_ms=statistics.median(r.p99_ms for r in results),
            errors=sum(r.non_2xx_3xx + r.socket_errors for r in results),
        )


@dataclass
class Comparison:
    case: Case
    size: int  # body bytes of the answer (0 for a 304)
    service: list[wrk.WrkResult] = field(default_factory=list)
    control: list[wrk.WrkResult] = field(default_factory=list)
    quiet: list[wrk.WrkResult] = field(default_factory=list)  # the WARNING build, if measured

    @property
    def service_side(self) -> Side:
        return Side.of(self.service)

    @property
    def control_side(self) -> Side:
        return Side.of(self.control)

    @property
    def ratio(self) -> float:
        return self.service_side.requests_per_second / self.control_side.requests_per_second

    @property
    def quiet_ratio(self) -> float | None:
        """service / the same build at WARNING, or None when not measured."""
        if not self.quiet:
            return None
        return self.service_side.requests_per_second / Side.of(self.quiet).requests_per_second

    def slice_ratios(self) -> list[float]:
        """service/control of each pair of neighbouring slices: how much the machine wobbled."""
        return [
            s.requests_per_second / k.requests_per_second
            for s, k in zip(self.service, self.control, strict=True)
        ]


def _client(base_url: str) -> httpx.Client:
    # Ask as wrk does: no Accept-Encoding, so the identity representation comes back.
    client = httpx.Client(base_url=base_url, timeout=30)
    del client.headers["accept-encoding"]
    return client


def _request_headers(case: Case, etag: str | None) -> dict[str, str]:
    return {"If-None-Match": etag} if case.conditional and etag else {}


def capture(service: Server) -> tuple[list[Captured], dict[str, str]]:
    """What the service answers for each case (all of them: the control serves every path),
    and the ETag of each path's 200."""
    captured: list[Captured] = []
    etags: dict[str, str] = {}
    with _client(service.base_url) as client:
        for case in CASES:
            if case.conditional and case.path not in etags:
                raise RuntimeError(f"{case.name}: no 200 captured for {case.path} before it")
            response = client.get(case.path, headers=_request_headers(case, etags.get(case.path)))
            expected = 304 if case.conditional else 200
            if response.status_code != expected:
                raise RuntimeError(
                    f"{case.name}: the service answered {response.status_code}, not {expected}"
                )
            if not case.conditional:
                etags[case.path] = response.headers["etag"]
            captured.append(
                Captured(
                    path=case.path,
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body_base64=base64.b64encode(response.content).decode(),
                    conditional=case.conditional,
                )
            )
    return captured, etags


def verify_control(control: Server, captured: list[Captured], etags: dict[str, str]) -> list[str]:
    """Differences between the control's answers and the service's; empty when identical."""
    problems = []
    with _client(control.base_url) as client:
        for case, expected in zip(CASES, captured, strict=True):
            response = client.get(case.path, headers=_request_headers(case, etags[case.path]))
            if response.status_code != expected.status or response.content != expected.body:
                problems.append(f"{case.name}: status or body differs")
            for name in (*COPIED_HEADERS, "content-type", "content-length"):
                if response.headers.get(name) != expected.headers.get(name):
                    problems.append(f"{case.name}: header {name} differs")
    return problems


def compare(
    service: Server,
    control: Server,
    quiet: Server | None,
    cases: tuple[Case, ...],
    captured: list[Captured],
    etags: dict[str, str],
    *,
    seconds: float,
    warmup: float,
    rounds: int,
    threads: int,
    connections: int,
    log: Path,
    progress: Callable[[str], None],
) -> list[Comparison]:
    """Load each case on the servers in alternating slices: service, control, control, ...

    This machine's throughput drifts by tens of percent within a minute, so each server's
    ``seconds`` are cut into ``rounds`` slices taken in ABBA order (ABC CBA with ``quiet``, the
    service at CODELISTS_LOG_LEVEL=WARNING, for the cases that name it): a drift then hits all
    sides alike instead of whichever ran last.
    """
    comparisons = []
    slice_seconds = max(1.0, seconds / rounds)
    for case, answer in zip(CASES, captured, strict=True):
        if case not in cases:
            continue
        comparison = Comparison(case, len(answer.body))
        headers = _request_headers(case, etags[case.path])
        sides = [(service, comparison.service), (control, comparison.control)]
        if quiet is not None and case.quiet:
            sides.append((quiet, comparison.quiet))
        load = partial(wrk.run, threads=threads, connections=connections, headers=headers)
        for server, _ in sides:  # warm-up, discarded
            load(server.base_url + case.path, seconds=warmup)
        for round_number in range(rounds):
            for server, results in sides if round_number % 2 == 0 else reversed(sides):
                results.append(load(server.base_url + case.path, seconds=slice_seconds, log=log))
        quiet_text = (
            f", at WARNING {Side.of(comparison.quiet).requests_per_second:,.0f} req/s"
            if comparison.quiet
            else ""
        )
        progress(
            f"{case.name}: service {comparison.service_side.requests_per_second:,.0f} req/s, "
            f"control {comparison.control_side.requests_per_second:,.0f} req/s{quiet_text} "
            f"(answer {answer.status})"
        )
        comparisons.append(comparison)
    return comparisons


def table(comparisons: list[Comparison]) -> str:
    header = (
        f"{'endpoint':<12} {'bytes':>6} | {'service req/s':>13} | {'control req/s':>13} | "
        f"{'ratio':>5} {'(slices)':>11} {'goal':>6} | {'p50 svc/ctl ms':>13} | "
        f"{'p99 svc/ctl ms':>13} | {'svc/WARNING':>11} | errors"
    )
    lines = [header, "-" * len(header)]
    for c in comparisons:
        s, k = c.service_side, c.control_side
        slices = c.slice_ratios()
        errors = "none" if s.errors == k.errors == 0 else f"svc {s.errors}, ctl {k.errors}"
        lines.append(
            f"{c.case.name:<12} {c.size:>6} | {s.requests_per_second:>13,.0f} | "
            f"{k.requests_per_second:>13,.0f} | {c.ratio:>5.2f} "
            f"{f'({min(slices):.2f}-{max(slices):.2f})':>11} {'>=' + str(c.case.target):>6} | "
            f"{s.p50_ms:>6.2f}/{k.p50_ms:<6.2f} | {s.p99_ms:>6.2f}/{k.p99_ms:<6.2f} | "
            f"{_quiet_cell(c):>11} | {errors}"
        )
    return "\n".join(lines)


def _quiet_cell(comparison: Comparison) -> str:
    ratio = comparison.quiet_ratio
    return "-" if ratio is None else f"{ratio:.2f} >={QUIET_TARGET}"
