"""Servers for the browser tests: the real service, a recording proxy, a front end.

- ``Service``: ``codelists serve`` in a subprocess on a free port, on a database seeded with
  ``codelists seed`` (the commands of api.md "Running"), stoppable mid-test.
- ``Recorder``: a plain HTTP proxy in front of the service that notes every request the
  browser really sent (method, path, If-None-Match) and the status the service answered, so a
  test can tell a cache hit (no request at all) from a revalidation (a 304).
- ``FrontEnd``: another origin serving test pages and, for outage tests, its own copy of the
  module, like a front end that bundles the npm package.

Also used by bench/component.py.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers import ROOT, codelists, free_port, running_service

MODULE = ROOT / "clients" / "js" / "codelist-select.js"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}

__all__ = ["FrontEnd", "Recorder", "Service", "free_port", "seed"]


def seed(database_url: str, directory: Path) -> None:
    """``codelists seed DIRECTORY`` into ``database_url`` (migrating it first)."""
    codelists("seed", str(directory), env={"DATABASE_URL": database_url})


@dataclass
class Service:
    """``codelists serve`` on a free port of 127.0.0.1, that a test can stop midway."""

    database_url: str
    log: Path  # what the server prints
    settings: dict[str, str] = field(default_factory=dict)
    url: str = ""
    _running: ExitStack | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def start(self) -> Service:
        env = {"DATABASE_URL": self.database_url, **self.settings}
        self._running = ExitStack()
        self.url = self._running.enter_context(running_service(env, self.log)).url
        return self

    def stop(self) -> None:
        """Stop the server (its port then refuses connections)."""
        if self._running is not None:
            self._running.close()
            self._running = None


@dataclass
class Seen:
    method: str
    path: str
    if_none_match: str | None
    status: int


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)


class _ProxyHandler(_Handler):
    def _forward(self) -> None:
        recorder: Recorder = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", recorder.upstream_port, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except OSError:
            self.close_connection = True  # the service is down: so is its proxy
            return
        finally:
            upstream.close()
        recorder.seen.append(
            Seen(self.command, self.path, self.headers.get("If-None-Match"), answer.status)
        )
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
        self.send(answer.status, kept, data)

    do_GET = do_HEAD = do_OPTIONS = do_POST = _forward


class Recorder(_Server):
    """A proxy to 127.0.0.1:``upstream_port`` that records what it forwards."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.seen: list[Seen] = []
        super().__init__(_ProxyHandler)

    def requests(self, part: str = "/options") -> list[Seen]:
        return [seen for seen in self.seen if part in seen.path]


class _FrontHandler(_Handler):
    def do_GET(self) -> None:
        front: FrontEnd = self.server.owner  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        front.visits.append(self.path)
        if path == "/codelist-select.js":
            headers = [("Content-Type", "text/javascript; charset=utf-8")]
            self.send(200, [*headers, ("Cache-Control", "max-age=3600")], MODULE.read_bytes())
        elif path in front.pages:
            page = front.pages[path]
            text = page() if callable(page) else page
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
            self.send(200, headers, text.encode())
        else:
            self.send(404, [("Content-Type", "text/plain")], b"not found")

    do_HEAD = do_GET


class FrontEnd(_Server):
    """Another origin: ``pages`` maps a path to HTML (or a function making it)."""

    def __init__(self) -> None:
        self.pages: dict[str, str | Callable[[], str]] = {}
        self.visits: list[str] = []
        super().__init__(_FrontHandler)
