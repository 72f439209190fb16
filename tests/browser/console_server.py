"""The real service for the console's browser tests, and the tools the tests need around it.

- ``ConsoleService``: ``codelists serve`` in a subprocess on a free port of 127.0.0.1, on a
  copy of a SQLite database seeded by ``codelists seed`` with every seed change set except the
  2025-4 reform (which the tests submit and review), with CODELISTS_REQUIRE_APPROVAL=true.
- Tokens stored as ``codelists token create`` stores them: "A" (admin, the author), "B"
  (admin and approve, the reviewer), "C" (read only).
- ``install_axe``: axe-core from npm, installed on first use outside the repository.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.identity import tokens
from app.store.database import create_engine
from tests.conftest import _run_apart

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seed"
CODELISTS = str(Path(sys.executable).with_name("codelists"))
# Shared with the drop-down component's browser tests: one install serves both.
AXE_VERSION = "4.14.1"
AXE_DIR = Path(os.environ.get("CODELISTS_AXE_DIR", Path.home() / ".cache/codelists-tests/axe"))
REFORM_ID = "2025-4-kontanthjaelpsreform"
TOKEN_SCOPES = {"A": ["admin"], "B": ["admin", "approve"], "C": ["read"]}


def reform_file() -> Path:
    """The seed file of the 2025-4 reform (its id names it, whatever its number)."""
    (path,) = (p for p in SEED.glob("*.yaml") if REFORM_ID in p.name)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(*args: str, database_url: str, cwd: Path) -> str:
    done = subprocess.run(
        [CODELISTS, *args],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def make_template(directory: Path) -> tuple[Path, dict[str, str]]:
    """A seeded SQLite file without the 2025-4 reform, and the tokens by name."""
    seed = directory / "seed"
    seed.mkdir()
    for path in SEED.glob("*.yaml"):
        if REFORM_ID not in path.name:
            shutil.copy(path, seed)
    database = directory / "template.db"
    url = f"sqlite+aiosqlite:///{database}"
    _run("seed", str(seed), database_url=url, cwd=directory)
    made: dict[str, str] = {}
    _run_apart(_create_tokens(url, made))  # Playwright runs a loop in this thread
    return database, made


async def _create_tokens(url: str, made: dict[str, str]) -> None:
    # As `codelists token create` does, in this process: a command's start-up is seconds here.
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for name, scopes in TOKEN_SCOPES.items():
                made[name] = await tokens.create(
                    connection, name=name, scopes=scopes, now=datetime.now(UTC)
                )
    finally:
        await engine.dispose()


@dataclass
class ConsoleService:
    """``codelists serve`` on a copy of the template database."""

    directory: Path
    template: Path
    tokens: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    settings: dict[str, str] = field(default_factory=dict)
    log: str = ""  # everything the server wrote (its access log too), read when it stops

    @property
    def _log_file(self) -> Path:
        return self.directory / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ConsoleService:
        database = self.directory / "codelists.db"
        shutil.copyfile(self.template, database)
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "CODELISTS_REQUIRE_APPROVAL": "true",
            **self.settings,
        }
        self.process = subprocess.Popen(
            [CODELISTS, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=self.directory,  # its generated key file stays in the test's directory
            stdout=self._log_file.open("wb"),  # a file, not a pipe: a full pipe would block it
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self._log_file.read_text(errors="replace")
                raise RuntimeError(f"codelists serve exited: {output}")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("codelists serve did not get ready within 60 s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.log = self._log_file.read_text(errors="replace")
        self.process = None

    def api(self, name: str) -> httpx.Client:
        """An HTTP client for the API carrying the token of ``name``."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[name]}"}, timeout=30
        )

    def submit_reform(self, author: str = "A") -> None:
        """The 2025-4 reform submitted through the API by ``author``: planned, not published."""
        with self.api(author) as client:
            answer = client.post(
                "/v1/admin/changesets",
                content=reform_file().read_bytes(),
                headers={"Content-Type": "application/yaml"},
            )
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "planned"


def install_axe() -> Path:
    """axe.min.js of the npm package axe-core, installed once into AXE_DIR with npm (under a
    lock: test processes running side by side share the folder)."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    with (AXE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if script.is_file():
            return script
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install axe-core (apt-get install npm)")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return script
