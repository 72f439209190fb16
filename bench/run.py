"""The benchmark of the issue "Serve drop-downs at the framework's ceiling, and stay fast at
national scale": warm reads against a control, then the scale figures, in one run.

    python -m bench.run          # or: make bench      (BENCH_QUICK=1: make bench-quick)
    python -m bench.run tokens   # only the named parts: warm, tokens, scale, postgres

Every figure is measured in this run; ratios compare the service with the control measured
minutes apart on the same machine, never with a stored number. Nothing here asserts a target:
goals are printed next to what was measured. Settings: environment variables BENCH_<FIELD>
for the fields of ``Config`` (BENCH_SECONDS, BENCH_MEMORY_SECONDS, ...), and BENCH_QUICK=1.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from bench import generate, postgres, scale, servers, tokens, warm, wrk
from bench.control_app import save as save_constants

RESULTS = Path(__file__).with_name("results")
PG_LISTS = 10  # lists x values on PostgreSQL: the cold list is the first, all are touched
PG_SCALE_BUDGET_SECONDS = 570  # "auto" starts the PostgreSQL seed only before ...
PG_SCALE_RESERVE_SECONDS = 210  # ... this much of that budget is left, and stops it then


@dataclass
class Config:
    seconds: float = 8
    warmup_seconds: float = 2
    rounds: int = 4
    threads: int = 2
    connections: int = 32
    lists: int = 1000
    values: int = 1000
    cache_mb: int = 64
    memory_seconds: float = 75
    memory_connections: int = 32
    cold_repeats: int = 20
    publish_repeats: int = 3
    feed_changes: int = 100_000
    pg_url: str = postgres.DEFAULT_URL
    # "1": seed the full store on PostgreSQL too; "0": don't; "auto": when the run so far
    # leaves time for it (about 2 minutes here) inside PG_SCALE_BUDGET_SECONDS.
    pg_scale: str = "auto"
    quick: bool = False  # BENCH_QUICK=1: every part smaller; the warm reads alone in < 40 s

    @classmethod
    def from_env(cls) -> Config:
        config = cls()
        if os.environ.get("BENCH_QUICK", "") not in {"", "0"}:
            config = cls(
                quick=True,
                seconds=2,
                warmup_seconds=1,
                rounds=2,
                lists=100,
                memory_seconds=15,
                cold_repeats=5,
                publish_repeats=1,
            )
        for field in fields(cls):
            raw = os.environ.get(f"BENCH_{field.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(config, field.name))
            value = raw not in {"", "0", "false"} if kind is bool else kind(raw)
            setattr(config, field.name, value)
        return config


class Report:
    """What is printed at the end, and a progress log as the run goes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lines: list[str] = []
        self.started = time.monotonic()
        self._progress = (directory / "progress.log").open("a")

    def progress(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f}s] {message}"
        print(line, file=sys.stderr, flush=True)
        self._progress.write(line + "\n")
        self._progress.flush()

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Run a part of the benchmark; if it fails, say so and go on with the rest."""
        self.progress(f"{name} ...")
        try:
            yield
        except Exception as exc:
            self.add(f"{name}: NOT MEASURED: {type(exc).__name__}: {exc}".rstrip())
            self._progress.write(traceback.format_exc())
            self.progress(f"{name} failed: {type(exc).__name__}: {exc}")

    def finish(self) -> str:
        text = "\n".join(self.lines) + "\n"
        (self.directory / "report.txt").write_text(text)
        self._progress.close()
        return text


def _data_dir(kind: str, *parameters: int) -> Path:
    """Generated documents, kept between runs and remade when the generator changes."""
    source = Path(generate.__file__).read_bytes()
    tag = "-".join([kind, *map(str, parameters), hashlib.sha256(source).hexdigest()[:8]])
    return RESULTS / "data" / tag


def _generated(kind: str, make: Callable[[Path], object], *parameters: int) -> Path:
    directory = _data_dir(kind, *parameters)
    if not (directory / ".complete").exists():
        shutil.rmtree(directory, ignore_errors=True)
        make(directory)
        (directory / ".complete").touch()
    return directory


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=servers.ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=servers.ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores; commit {commit or '?'}{' + edits' if dirty else ''}"


def _warm(config: Config, report: Report, work: Path) -> None:
    docs = _generated("warm", generate.write_warm)
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{work / 'warm.db'}"}
    servers.run_codelists(["seed", str(docs)], env, report.directory / "seed.log", timeout=120)
    cases = warm.cases(quick=config.quick)
    # The service as it ships (the default log level: one access line per request) and the
    # same build with CODELISTS_LOG_LEVEL=WARNING, to see what the access log costs.
    with ThreadPoolExecutor(2) as starting:  # side by side: start-up is most of a quick run
        quieting = starting.submit(
            servers.start_service,
            {**env, "CODELISTS_LOG_LEVEL": "WARNING"},
            report.directory / "service-quiet.log",
        )
        service = servers.start_service(env, report.directory / "service-warm.log")
    quiet = control = None
    try:
        quiet = quieting.result()
        captured, etags = warm.capture(service)
        constants = report.directory / "control-constants.json"
        save_constants(captured, constants)
        control = servers.start_control(constants, report.directory / "control.log")
        mismatches = warm.verify_control(control, captured, etags)
        comparisons = warm.compare(
            service,
            control,
            quiet,
            cases,
            captured,
            etags,
            seconds=config.seconds,
            warmup=config.warmup_seconds,
            rounds=config.rounds,
            threads=config.threads,
            connections=config.connections,
            log=report.directory / "wrk-warm.log",
            progress=report.progress,
        )
        report.add(
            f"warm reads of '{generate.WARM_LIST}' ({generate.WARM_VALUES} values, SQLite), "
            f"identity encoding; wrk -t{config.threads} -c{config.connections}, per endpoint "
            f"and server {config.seconds:g} s in {config.rounds} alternating slices after "
            f"{config.warmup_seconds:g} s warm-up; granian, 1 worker each; the service at its "
            "default log level (an access line per request, stdout to a file)",
            "control: litestar returning the service's captured bytes and headers "
            "(bench/control_app.py); "
            + ("answers verified identical" if not mismatches else "; ".join(mismatches)),
            "svc/WARNING: the service against the same build at CODELISTS_LOG_LEVEL=WARNING "
            "(no access log), in the same alternating slices",
            "",
            warm.table(comparisons),
        )
        errors = service.errors_logged()
        if errors:
            report.add(f"service log during warm reads: {len(errors)} error line(s): {errors[0]}")
    finally:
        service.stop()
        for server in (quiet, control):
            if server is not None:
                server.stop()


def _token_reads(config: Config, report: Report, work: Path) -> None:
    """Token-protected warm reads against public ones (bench/tokens.py), on the warm store."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{work / 'warm.db'}"}
    if not (work / "warm.db").exists():
        docs = _generated("warm", generate.write_warm)
        servers.run_codelists(["seed", str(docs)], env, report.directory / "seed.log", timeout=120)
    token = tokens.create_token(env, report.directory / "token.log")
    authorization = {"Authorization": f"Bearer {token}"}
    public = servers.start_service(env, report.directory / "service-public.log")
    protected = None
    try:
        protected = servers.start_service(
            {**env, "CODELISTS_PUBLIC_READ": "false"}, report.directory / "service-token.log"
        )
        protected.name = "protected"
        problems = tokens.check(public, protected, authorization)
        comparisons = tokens.compare(
            public,
            protected,
            authorization,
            seconds=config.seconds,
            warmup=config.warmup_seconds,
            rounds=config.rounds,
            threads=config.threads,
            connections=config.connections,
            log=report.directory / "wrk-tokens.log",
            progress=report.progress,
        )
        report.add(
            "",
            "token-protected warm reads (CODELISTS_PUBLIC_READ=false, Authorization: Bearer, "
            "token scope read) against public warm reads of the same store, same wrk settings "
            "and alternating slices; ratio = token/public",
            "answers as the contract says (private with a token, 401 without)"
            if not problems
            else "; ".join(problems),
            "",
            tokens.table(comparisons),
            "",
        )
    finally:
        public.stop()
        if protected is not None:
            protected.stop()
    with report.section("token-protected reads in-process"):
        report.add(tokens.in_process(env, token))
    with report.section("JWT-protected reads in-process (a real OpenID Provider)"):
        report.add(tokens.jwt_in_process(env, token))


def _scale_sqlite(config: Config, report: Report, work: Path) -> None:
    lists, values = config.lists, config.values
    docs = _generated("scale", lambda d: generate.write_scale(d, lists, values), lists, values)
    url = f"sqlite+aiosqlite:///{work / 'scale.db'}"
    env = {"DATABASE_URL": url}
    with report.section(f"seed SQLite {lists} x {values}"):
        seconds = servers.run_codelists(
            ["seed", str(docs)], env, report.directory / "seed.log", timeout=1800
        )
        report.add(
            f"seed SQLite, {lists:,} lists x {values:,} values ({lists * values:,} values, "
            f"{len(list(docs.glob('*.json')))} change sets): {seconds:.1f} s "
            "(codelists seed, wall time incl. start-up and migrations; goal < 60 s)"
        )
    if not (work / "scale.db").exists():
        return
    service = servers.start_service(
        {**env, "CODELISTS_CACHE_MB": str(config.cache_mb)}, report.directory / "service-scale.log"
    )
    try:
        with report.section("memory"):
            run = scale.memory_run(
                service,
                cache_mb=config.cache_mb,
                seconds=config.memory_seconds,
                lists=lists,
                values=values,
                threads=config.threads,
                connections=config.memory_connections,
                log=report.directory / "wrk-memory.log",
            )
            report.add(*run.report())
        with report.section("feed"):
            service.settle()  # the memory run's last requests are still being answered
            try:
                feed = scale.page_feed(service, wanted=config.feed_changes)
                report.progress(f"feed pages (ms): {[round(ms) for ms in feed.page_ms]}")
                report.add(*feed.report())
            except scale.FeedUnavailable as exc:
                report.add(str(exc))
        errors = service.errors_logged()
        if errors:
            report.add(f"service log during scale runs: {len(errors)} error line(s): {errors[0]}")
    finally:
        service.stop()


def _postgres(config: Config, report: Report) -> None:
    why_not = postgres.reachable(config.pg_url)
    if why_not is not None:
        report.add(f"PostgreSQL at {config.pg_url}: not reachable ({why_not}); not measured")
        return
    values = config.values
    docs = _generated("pg", lambda d: generate.write_scale(d, PG_LISTS, values), PG_LISTS, values)
    keys = [generate.list_key(i) for i in range(1, PG_LISTS + 1)]
    url = postgres.create_database(config.pg_url, "cold")
    try:
        env = {"DATABASE_URL": url, "CODELISTS_POLL_SECONDS": "0.2"}
        seconds = servers.run_codelists(
            ["seed", str(docs)], env, report.directory / "seed.log", timeout=600
        )
        report.add(
            f"seed PostgreSQL, {PG_LISTS} lists x {values:,} values: {seconds:.1f} s "
            "(codelists seed, wall time)"
        )
        with report.section("cold read"):
            service = servers.start_service(env, report.directory / "service-pg.log")
            try:
                run = postgres.cold_reads(
                    service, url, keys[0], values, config.cold_repeats, report.progress
                )
                report.add(*run.report())
                errors = service.errors_logged()
                if errors:
                    report.add(f"service log (PostgreSQL): {len(errors)} error line(s)")
            finally:
                service.stop()
        with report.section("publish"):
            runs = postgres.publish_touches(url, keys, values, config.publish_repeats)
            spread = ", ".join(f"{s:.2f}" for s in runs)
            report.add(
                f"publish a change set touching {len(keys) * values:,} values (PostgreSQL, "
                f"{len(keys)} lists): median {sorted(runs)[len(runs) // 2]:.2f} s "
                f"(runs: {spread} s; plan + publish in one call to app.store.publish.submit)"
            )
    finally:
        postgres.drop_database(url)
    timeout = 3600.0
    if config.pg_scale == "auto":
        timeout = PG_SCALE_BUDGET_SECONDS - (time.monotonic() - report.started)
        if timeout < PG_SCALE_RESERVE_SECONDS:
            report.add(
                f"seed PostgreSQL, {config.lists:,} x {values:,}: skipped to keep the run short "
                "(BENCH_PG_SCALE=1 forces it)"
            )
            return
    elif config.pg_scale in {"", "0", "false"}:
        report.add(f"seed PostgreSQL, {config.lists:,} x {values:,}: not run (BENCH_PG_SCALE=0)")
        return
    with report.section("seed PostgreSQL at scale"):
        lists = config.lists
        scale_docs = _generated(
            "scale", lambda d: generate.write_scale(d, lists, values), lists, values
        )
        url = postgres.create_database(config.pg_url, "scale")
        try:
            seconds = servers.run_codelists(
                ["seed", str(scale_docs)],
                {"DATABASE_URL": url},
                report.directory / "seed.log",
                timeout=timeout,
            )
            report.add(
                f"seed PostgreSQL, {config.lists:,} lists x {values:,} values: {seconds:.1f} s "
                "(codelists seed, wall time)"
            )
        finally:
            postgres.drop_database(url)


PARTS = ("warm", "tokens", "scale", "postgres")


def main() -> None:
    chosen = set(sys.argv[1:]) or set(PARTS)
    if unknown := chosen - set(PARTS):
        raise SystemExit(f"unknown parts {sorted(unknown)}; the parts: {', '.join(PARTS)}")
    config = Config.from_env()
    wrk.require_wrk()
    directory = RESULTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    directory.mkdir(parents=True)
    report = Report(directory)
    report.add(
        f"codelists benchmark, {datetime.now():%Y-%m-%d %H:%M}; {_machine()}",
        "",
    )
    work = Path(tempfile.mkdtemp(prefix="codelists-bench-"))
    try:
        if "warm" in chosen:
            with report.section("warm reads"):
                _warm(config, report, work)
        if "tokens" in chosen:
            with report.section("token-protected reads"):
                _token_reads(config, report, work)
        if chosen & {"scale", "postgres"}:
            report.add("", "scale")
        if "scale" in chosen:
            with report.section("scale (SQLite)"):
                _scale_sqlite(config, report, work)
        if "postgres" in chosen:
            with report.section("PostgreSQL"):
                _postgres(config, report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    minutes, seconds = divmod(time.monotonic() - report.started, 60)
    report.add("", f"total {int(minutes)} min {seconds:.0f} s; raw output in {directory}")
    print(report.finish(), end="")


if __name__ == "__main__":
    main()
