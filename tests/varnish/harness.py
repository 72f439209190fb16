"""Real processes for the shared-cache tests: varnishd with the shipped VCL, `codelists serve`
processes, a recording origin and a TCP relay that can be cut (a cache "down").

Varnish comes from Debian (``apt-get install -y varnish varnish-modules``); without it these
tests fail rather than skip, so a green run always means the VCL was exercised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_VCL = ROOT / "deploy" / "varnish" / "codelists.vcl"
CODELISTS = str(Path(sys.executable).parent / "codelists")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, httpx.HTTPError):
            if check():
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def varnishd() -> str:
    found = shutil.which("varnishd", path=os.environ.get("PATH", "") + ":/usr/sbin")
    if found is None:
        pytest.fail(
            "varnishd is not installed; these tests need Debian's Varnish with xkey: "
            "apt-get install -y varnish varnish-modules",
            pytrace=False,
        )
    return found


def site_vcl(backends: list[int], purgers: tuple[str, ...] = ("127.0.0.1",)) -> str:
    """A site VCL as api.md describes it, including the shipped file."""
    lines = ["vcl 4.1;", "import directors;", ""]
    lines += [
        "probe codelists_probe {",
        '    .url = "/health/ready";',
        "    .interval = 0.5s; .timeout = 1s; .window = 3; .threshold = 2; .initial = 2;",
        "}",
    ]
    for number, port in enumerate(backends):
        lines += [
            f"backend codelists_{number} {{",
            f'    .host = "127.0.0.1"; .port = "{port}"; .probe = codelists_probe;',
            "    .connect_timeout = 1s; .first_byte_timeout = 30s;",
            "}",
        ]
    lines += ["acl codelists_purgers {", *(f'    "{address}";' for address in purgers), "}"]
    lines += ["sub vcl_init {", "    new codelists = directors.round_robin();"]
    lines += [f"    codelists.add_backend(codelists_{n});" for n in range(len(backends))]
    lines += ["}", "sub vcl_recv {", "    set req.backend_hint = codelists.backend();", "}"]
    lines += [f'include "{SHIPPED_VCL}";', ""]
    return "\n".join(lines)


class Varnish:
    """varnishd in the foreground, exactly as deploy/README.md runs it (no -p parameters)."""

    def __init__(self, vcl: str, port: int | None = None) -> None:
        # varnishd compiles the VCL as an unprivileged user: pytest's private temporary
        # folders are out of its reach, so it gets a readable folder of its own.
        self.workdir = Path(tempfile.mkdtemp(prefix="codelists-varnish-"))
        os.chmod(self.workdir, 0o755)
        self.site = self.workdir / "site.vcl"
        self.site.write_text(vcl)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [varnishd(), "-F", "-n", str(self.workdir / "n"), "-a", f"127.0.0.1:{self.port}"]
        command += ["-f", str(self.site), "-s", "malloc,64m"]
        log = (self.workdir / "varnishd.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, 30, f"varnishd on {self.url} ({self.workdir}/varnishd.log)")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            log = (self.workdir / "varnishd.log").read_text(errors="replace")
            raise AssertionError(f"varnishd exited: {log[-3000:]}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
            return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Service:
    """One `codelists serve` process on a free port."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        log = (self.workdir / f"serve-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [CODELISTS, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        wait_until(self._ready, 120, f"codelists serve on {self.url}")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"codelists serve exited; see {self.workdir}")
        return httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def run_cli(env: dict[str, str], *args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [CODELISTS, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class Relay:
    """A TCP relay to a port, which the test can cut and restore: a cache that is "down"
    (unreachable) while what it holds stays in it."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._open: list[socket.socket] = []

    def up(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        self._thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Refuse new connections and cut the open ones (kept-alive ones too)."""
        if self._server is not None:
            # shutdown() first: close() alone leaves a thread blocked in accept() listening.
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        for connection in self._open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self._open.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class Origin:
    """A recording origin that answers with the headers a test sets per path prefix."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        self.headers: dict[str, dict[str, str]] = {}  # path prefix -> response headers
        self.status: dict[str, int] = {}
        self.failing = False  # answer 503 to everything, as a service that lost its database
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.requests.append(("GET", self.path, dict(self.headers.items())))
                if origin.failing and not self.path.startswith("/health"):
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers, status = origin.answer_for(self.path)
                body = f'{{"path": "{self.path}", "n": {len(origin.requests)}}}'.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer_for(self, path: str) -> tuple[dict[str, str], int]:
        best = max((p for p in self.headers if path.startswith(p)), key=len, default=None)
        headers = self.headers.get(best, {}) if best is not None else {}
        return headers, self.status.get(best or "", 200)

    def seen(self, path: str) -> list[dict[str, str]]:
        return [headers for _, p, headers in self.requests if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def running(*parts: Varnish | Service) -> Iterator[None]:
    try:
        for part in parts:
            part.start()
        yield
    finally:
        for part in reversed(parts):
            part.stop()
