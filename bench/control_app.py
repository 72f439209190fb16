"""The control: a plain litestar app answering each benchmarked path with captured constants.

Before the load runs, the harness captures what the service answered (status, body bytes and
the cache headers) and writes it to a JSON file named by ``BENCH_CONTROL_CONSTANTS``. This app
registers one route per captured path and answers it from those constants: the same bytes and
headers the service sends, but with no work behind them. That is the framework's ceiling on
this machine, with the same server (granian), worker count and client as the service.

    BENCH_CONTROL_CONSTANTS=FILE python -m bench.control_app --port 8101 --workers 1
"""

from __future__ import annotations

import argparse
import base64
import os
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get

CONSTANTS_VARIABLE = "BENCH_CONTROL_CONSTANTS"
# The headers a control answer copies from the service; litestar sets content-length itself.
COPIED_HEADERS = (
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "surrogate-key",
    "access-control-allow-origin",
    "access-control-expose-headers",
)


class Captured(msgspec.Struct, frozen=True):
    """One answer of the service: the path it was asked for and what came back."""

    path: str
    status: int
    headers: dict[str, str]
    body_base64: str
    conditional: bool = False  # asked with If-None-Match (the 304 case)

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_base64)


def save(captured: list[Captured], path: Path) -> None:
    path.write_bytes(msgspec.json.encode(captured))


def load(path: Path) -> list[Captured]:
    return msgspec.json.decode(path.read_bytes(), type=list[Captured])


def _route(path: str, plain: Captured, conditional: Captured | None) -> Any:
    body = plain.body
    media_type = plain.headers.get("content-type", "application/json")
    headers = {name: plain.headers[name] for name in COPIED_HEADERS if name in plain.headers}
    not_modified_headers = headers
    if conditional is not None:
        not_modified_headers = {
            name: conditional.headers[name]
            for name in COPIED_HEADERS
            if name in conditional.headers
        }

    async def answer(request: Request[Any, Any, Any]) -> Response[bytes]:
        if conditional is not None and "if-none-match" in request.headers:
            return Response(b"", status_code=304, headers=not_modified_headers)
        return Response(body, status_code=plain.status, headers=headers, media_type=media_type)

    # One literal route per path: the least routing work litestar can do for it.
    return get(path, name=f"control:{path}")(answer)


def create_app() -> Litestar:
    captured = load(Path(os.environ[CONSTANTS_VARIABLE]))
    plain = {c.path: c for c in captured if not c.conditional}
    conditional = {c.path: c for c in captured if c.conditional}
    handlers = [_route(path, answer, conditional.get(path)) for path, answer in plain.items()]
    return Litestar(route_handlers=handlers, openapi_config=None)


def main() -> None:
    from granian import Granian
    from granian.constants import Interfaces

    parser = argparse.ArgumentParser(description="Serve the control app with granian.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The same call as `codelists serve` (app/cli.py), so only the app differs.
    server: Any = Granian(
        "bench.control_app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
    )
    server.serve()


if __name__ == "__main__":
    main()
