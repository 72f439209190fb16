"""Running wrk against 127.0.0.1 and reading its report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkError(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int  # answers other than 2xx/3xx: errors, under load
    socket_errors: int
    raw: str

    @property
    def clean(self) -> bool:
        return self.non_2xx_3xx == 0 and self.socket_errors == 0


def parse(output: str) -> WrkResult:
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rate is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise WrkError(f"could not read wrk's report:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET.search(output)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        raw=output,
    )


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("wrk is not installed: apt-get update && apt-get install -y wrk")
    return found


def run(
    url: str,
    *,
    seconds: float,
    threads: int = 2,
    connections: int = 32,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> WrkResult:
    """One wrk run, bounded by ``seconds``; only loopback targets are allowed."""
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise WrkError(f"refusing to load {host}: benchmarks target 127.0.0.1 only")
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
        env={**os.environ, **(env or {})},
    )
    output = completed.stdout + completed.stderr
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as file:
            file.write(f"$ {' '.join(command)}\n{output}\n")
    if completed.returncode != 0:
        raise WrkError(f"wrk exited with {completed.returncode}:\n{output}")
    return parse(output)
