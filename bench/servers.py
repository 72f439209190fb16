"""Starting and stopping the servers under test, and reading their memory from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def codelists_command() -> list[str]:
    script = VENV_BIN / "codelists"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def run_codelists(args: list[str], env: Mapping[str, str], log: Path, timeout: float) -> float:
    """Run a ``codelists`` command to completion; its wall time in seconds."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ codelists {' '.join(args)}\n")
        out.flush()
        subprocess.run(
            [*codelists_command(), *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=True,
        )
    return time.perf_counter() - started


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def settle(self, timeout: float = 15) -> None:
        """Wait until requests left over from a load run are answered.

        wrk stops at its deadline but the server goes on with what it had accepted. Those
        requests hold database connections, so a readiness check (which needs one) is slow
        until they are done; two quick ones in a row mean the server is idle.
        """
        deadline = time.monotonic() + timeout
        quick = 0
        with httpx.Client(base_url=self.base_url, timeout=timeout) as client:
            while quick < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
                started = time.monotonic()
                client.get("/health/ready")
                quick = quick + 1 if time.monotonic() - started < 0.05 else 0

    def rss_bytes(self) -> int:
        """Resident memory of the server and its worker processes together."""
        return sum(_rss(pid) for pid in _process_tree(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            # Its own process group (start_new_session): granian's workers stop with it.
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def errors_logged(self) -> list[str]:
        """Lines of the server's log that look like errors."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(errors="replace").splitlines()
        markers = ("Traceback", "ERROR", "Error:", "Exception", "CRITICAL")
        return [line for line in lines if any(marker in line for marker in markers)]


def start(
    name: str, command: list[str], env: Mapping[str, str], log: Path, timeout: float = 60
) -> Server:
    """Start a server on a free port and wait until it answers HTTP (any status will do)."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab")
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    server = Server(name, port, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        try:
            httpx.get(f"{server.base_url}/health/live", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer within {timeout:.0f} s; see {log}")


def start_service(env: Mapping[str, str], log: Path) -> Server:
    return start("service", [*codelists_command(), "serve", "--host", HOST], env, log)


def start_control(constants: Path, log: Path) -> Server:
    command = [sys.executable, "-m", "bench.control_app", "--host", HOST]
    return start("control", command, {"BENCH_CONTROL_CONSTANTS": str(constants)}, log)


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The parent pid is the 2nd field after the parenthesised command name.
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
