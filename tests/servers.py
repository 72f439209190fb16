"""Real service processes for tests: ``codelists serve`` on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seed"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def codelists(*args: str, env: Mapping[str, str], check: bool = True) -> str:
    """Run one ``codelists`` command to completion; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"codelists {' '.join(args)} failed: {result.stderr}")
    return result.stdout


class Service:
    """A running ``codelists serve``: its base URL and, once stopped, everything it printed."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def spawn_service(env: Mapping[str, str], stdout: Any) -> tuple[subprocess.Popen[bytes], str]:
    """Start one ``codelists serve`` with ``env`` on a free loopback port, its stdout and stderr
    to ``stdout`` (a file or a descriptor); the process and its base URL, not yet ready."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


@contextmanager
def running_services(env: Mapping[str, str], logs: Sequence[Path]) -> Iterator[list[Service]]:
    """Start one ``codelists serve`` with ``env`` per file in ``logs`` (its stdout and stderr),
    all side by side, and wait until every one is ready; stop them all afterwards."""
    services: list[Service] = []
    try:
        for log in logs:
            with log.open("wb") as sink:
                process, url = spawn_service(env, sink)
            services.append(Service(process, url, log))
        for service in services:
            wait_until_ready(service.process, service.url, service.output)
        yield services
    finally:
        for service in services:
            service.process.terminate()
        for service in services:
            try:
                service.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()


@contextmanager
def running_service(env: Mapping[str, str], log: Path) -> Iterator[Service]:
    """Start ``codelists serve`` with ``env`` and wait until it is ready; stop it afterwards.

    stdout and stderr go to the file ``log``.
    """
    with running_services(env, [log]) as (service,):
        yield service


def wait_until_ready(
    process: subprocess.Popen[bytes], url: str, output: Callable[[], str] = lambda: ""
) -> None:
    """Until ``url``/health/ready answers 200; AssertionError with ``output()`` if the process
    exits first or takes more than two minutes."""
    # Generous: on a busy machine importing the app alone can take many seconds.
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise AssertionError(f"codelists serve exited: {output()}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"codelists serve did not become ready: {output()}")
        time.sleep(0.1)
